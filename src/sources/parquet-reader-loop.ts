import type { openAsBlob } from 'node:fs';
import type { MessagePort } from 'node:worker_threads';
import type * as ParquetWasm from 'parquet-wasm/node';

/**
 * Main thread to reader: open the file (once), then one `next` per batch wanted. A file with no
 * local path is opened by its size alone (`remoteSize`); the reader then asks the main thread for
 * each byte range it needs (`read`), answered by `bytes` or `read-failed`.
 */
export type ToReader =
  | { kind: 'open'; path: string; batchSize: number; rowGroups?: RowGroupRange }
  | { kind: 'open'; remoteSize: number; batchSize: number; rowGroups?: RowGroupRange }
  | { kind: 'next' }
  | { kind: 'bytes'; id: number; bytes: Uint8Array }
  | { kind: 'read-failed'; id: number; message: string };

/** Row groups `start` to `end` (exclusive) of a file: a shard of it (issue #13). */
export interface RowGroupRange {
  start: number;
  end: number;
}

export interface RowGroupInfo {
  numRows: number;
  compressedSize: number;
}

/** Reader to main thread: one answer per request. `numRows` counts the rows of the range asked for (all by default); `groups` are the file's. */
export type FromReader =
  | { kind: 'opened'; numRows: number; groups: RowGroupInfo[]; schema: Uint8Array }
  | { kind: 'batch'; group: number; ipc: Uint8Array }
  | { kind: 'end' }
  | { kind: 'error'; message: string }
  | { kind: 'read'; id: number; offset: number; length: number };

/** What the loop is given: parquet-wasm and openAsBlob as the worker loaded them. */
export interface ReaderDeps {
  pw: typeof ParquetWasm;
  openAsBlob: typeof openAsBlob;
}

/**
 * The Parquet reader's loop, in a worker thread of its own (parquet-reader.ts): one file, read
 * one row group at a time and handed over one batch per request as an Arrow IPC stream, so at
 * most one batch is in flight. parquet-wasm runs here, not in the main thread, because a
 * damaged file can make its Rust code panic, which in wasm is a trap thrown from inside a
 * promise job: uncatchable where it happens, it would end the whole process and leave the read
 * unanswered. Here it ends only this worker, and the main thread reports the file as damaged.
 *
 * Runs from its source text: it must refer to nothing outside itself but its parameters and
 * globals. Types are imported for checking only.
 */
export function runParquetReader(port: MessagePort, deps: ReaderDeps): void {
  const { pw } = deps;
  let file: ParquetWasm.ParquetFile | null = null;
  let batchSize = 65_536;
  let groupCount = 0;
  let group = 0; // the next row group to read
  let table: ParquetWasm.Table | null = null; // the row group being handed over
  let batch = 0; // the next batch of `table`

  const post = (message: FromReader, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);
  /** Transferring needs a buffer of its own; wasm-bindgen's copies are, but check. */
  const owned = (bytes: Uint8Array): Uint8Array =>
    (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice());

  /** Range reads asked of the main thread, by id. */
  const reads = new Map<number, { resolve: (bytes: ArrayBuffer) => void; reject: (err: Error) => void }>();
  let nextRead = 0;
  const readRange = (offset: number, length: number): Promise<ArrayBuffer> => new Promise((resolve, reject) => {
    const id = nextRead++;
    reads.set(id, { resolve, reject });
    post({ kind: 'read', id, offset, length });
  });
  /**
   * What parquet-wasm asks of a Blob (size, slice, arrayBuffer; its glue calls them by name),
   * over bytes [base, base + size) of a file read by ranges: slicing is free, and only
   * arrayBuffer() reads, so parquet-wasm fetches the footer and then each row group's column
   * chunks as it would from a local Blob.
   */
  const rangeBlob = (base: number, size: number): Pick<Blob, 'size' | 'slice' | 'arrayBuffer'> => ({
    size,
    slice(start = 0, end = size) {
      const clamp = (at: number): number => (at < 0 ? Math.max(size + at, 0) : Math.min(at, size));
      const from = clamp(start);
      return rangeBlob(base + from, Math.max(0, clamp(end) - from)) as Blob;
    },
    arrayBuffer: () => (size === 0 ? Promise.resolve(new ArrayBuffer(0)) : readRange(base, size)),
  });

  const open = async (source: ({ path: string } | { remoteSize: number }) & { rowGroups?: { start: number; end: number } }): Promise<void> => {
    // A lazy Blob: parquet-wasm reads the footer, then only the byte ranges of each row group asked for.
    const blob = 'path' in source ? await deps.openAsBlob(source.path) : rangeBlob(0, source.remoteSize) as Blob;
    file = await pw.ParquetFile.fromFile(blob);
    const meta = file.metadata();
    let numRows = 0;
    const groups: RowGroupInfo[] = [];
    try {
      const fileMeta = meta.fileMetadata();
      numRows = fileMeta.numRows();
      fileMeta.free();
      for (const g of meta.rowGroups()) {
        groups.push({ numRows: g.numRows(), compressedSize: g.compressedSize() });
        g.free();
      }
    } finally {
      meta.free();
    }
    groupCount = groups.length;
    const range = source.rowGroups;
    if (range) {
      if (!(Number.isInteger(range.start) && Number.isInteger(range.end) && range.start >= 0 && range.start <= range.end && range.end <= groups.length)) {
        throw new Error(`row groups ${range.start} to ${range.end} are not within the file's ${groups.length}`);
      }
      group = range.start;
      groupCount = range.end;
      numRows = 0;
      for (let g = range.start; g < range.end; g++) numRows += groups[g].numRows;
    }
    const schema = owned(file.schema().intoIPCStream()); // consumes the wasm schema
    post({ kind: 'opened', numRows, groups, schema }, [schema.buffer as ArrayBuffer]);
  };

  const next = async (): Promise<void> => {
    if (file === null) throw new Error('the Parquet file is not open');
    for (;;) {
      if (table !== null && batch < table.numBatches) {
        const wasmBatch = table.recordBatch(batch++);
        if (!wasmBatch) continue;
        const ipc = owned(wasmBatch.intoIPCStream()); // consumes the wasm batch
        post({ kind: 'batch', group: group - 1, ipc }, [ipc.buffer as ArrayBuffer]);
        return;
      }
      table?.free();
      table = null;
      if (group >= groupCount) {
        post({ kind: 'end' });
        return;
      }
      table = await file.read({ rowGroups: [group], batchSize });
      group++;
      batch = 0;
    }
  };

  port.on('message', (message: ToReader) => {
    if (message.kind === 'bytes' || message.kind === 'read-failed') {
      const read = reads.get(message.id);
      reads.delete(message.id);
      if (message.kind === 'bytes') {
        const { bytes } = message;
        read?.resolve(bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes.buffer as ArrayBuffer : bytes.slice().buffer);
      } else {
        read?.reject(new Error(message.message));
      }
      return;
    }
    let work: Promise<void>;
    if (message.kind === 'open') {
      batchSize = message.batchSize;
      work = open(message);
    } else {
      work = next();
    }
    work.catch((err: unknown) => post({ kind: 'error', message: err instanceof Error ? err.message : String(err) }));
  });
}
