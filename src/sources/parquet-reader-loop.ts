import type { openAsBlob } from 'node:fs';
import type { MessagePort } from 'node:worker_threads';
import type * as ParquetWasm from 'parquet-wasm/node';

/** Main thread to reader: open the file (once), then one `next` per batch wanted. */
export type ToReader = { kind: 'open'; path: string; batchSize: number } | { kind: 'next' };

export interface RowGroupInfo {
  numRows: number;
  compressedSize: number;
}

/** Reader to main thread: one answer per request. */
export type FromReader =
  | { kind: 'opened'; numRows: number; groups: RowGroupInfo[]; schema: Uint8Array }
  | { kind: 'batch'; group: number; ipc: Uint8Array }
  | { kind: 'end' }
  | { kind: 'error'; message: string };

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

  const open = async (path: string): Promise<void> => {
    // A lazy Blob: parquet-wasm reads the footer, then only the byte ranges of each row group asked for.
    file = await pw.ParquetFile.fromFile(await deps.openAsBlob(path));
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
    let work: Promise<void>;
    if (message.kind === 'open') {
      batchSize = message.batchSize;
      work = open(message.path);
    } else {
      work = next();
    }
    work.catch((err: unknown) => post({ kind: 'error', message: err instanceof Error ? err.message : String(err) }));
  });
}
