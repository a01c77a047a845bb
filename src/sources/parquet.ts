import { openAsBlob } from 'node:fs';
import { tableFromIPC } from 'apache-arrow';
import type { RecordBatch, Schema } from 'apache-arrow';
// The node build (CommonJS, loads its wasm synchronously): `parquet-wasm/node` is an explicit
// export both for `require` (tsup's CJS bundle) and for Node ESM `import` (named exports found
// by Node's CJS lexer), and TypeScript resolves it to the matching typings.
import { ParquetFile } from 'parquet-wasm/node';
import type { Table as WasmTable } from 'parquet-wasm/node';
import { toExportError } from '../errors.js';
import { nameOfPath } from './batches.js';
import type { BatchSource, OpenedSource } from './types.js';

/** Rows per batch asked of the reader; parquet-wasm's default (1,024) makes needlessly small batches. */
const READ_BATCH_SIZE = 65_536;

interface RowGroupInfo {
  numRows: number;
  compressedSize: number;
}

/**
 * A Parquet file, read one row group at a time. `fs.openAsBlob` gives parquet-wasm a lazy Blob:
 * it reads the footer, then only the byte ranges of the row group asked for. Each row group is
 * decoded in wasm, handed over as an Arrow IPC stream and its batches yielded, so memory is
 * O(row group) — the row group size the file's writer chose. Reopenable.
 */
export function fromParquet(path: string): BatchSource {
  return {
    reopenable: true,
    name: nameOfPath(path),
    async open(): Promise<OpenedSource> {
      let file: ParquetFile;
      let blobSize: number;
      try {
        const blob = await openAsBlob(path);
        blobSize = blob.size;
        file = await ParquetFile.fromFile(blob);
      } catch (err) {
        throw toExportError(err, 'SOURCE_FAILED', `cannot read Parquet file ${path}`);
      }
      try {
        return openParquet(file, path, blobSize);
      } catch (err) {
        file.free();
        throw toExportError(err, 'SOURCE_FAILED', `cannot read Parquet file ${path}`);
      }
    },
  };
}

function readFooter(file: ParquetFile): { numRows: number; groups: RowGroupInfo[] } {
  const meta = file.metadata();
  try {
    const fileMeta = meta.fileMetadata();
    const numRows = fileMeta.numRows();
    fileMeta.free();
    const groups = meta.rowGroups().map((group) => {
      const info = { numRows: group.numRows(), compressedSize: group.compressedSize() };
      group.free();
      return info;
    });
    return { numRows, groups };
  } finally {
    meta.free();
  }
}

function readSchema(file: ParquetFile): Schema {
  // intoIPCStream consumes the wasm object, so it must not be freed afterwards.
  return tableFromIPC(file.schema().intoIPCStream()).schema;
}

function openParquet(file: ParquetFile, path: string, totalBytes: number): OpenedSource {
  const { numRows, groups } = readFooter(file);
  const schema = readSchema(file);
  let bytesRead = 0;
  let freed = false;
  let reading = false;
  let closeRequested = false;
  // Freeing the wasm file while a read() is in flight would pull memory from under it, so a
  // close() during a read waits for the read to come back.
  const release = (): void => {
    if (freed) return;
    if (reading) {
      closeRequested = true;
      return;
    }
    freed = true;
    file.free();
  };
  /** One row group decoded in wasm, or null when close() came while it was being read. */
  const readRowGroup = async (index: number): Promise<WasmTable | null> => {
    reading = true;
    let table: WasmTable | null = null;
    try {
      table = await file.read({ rowGroups: [index], batchSize: READ_BATCH_SIZE });
      return closeRequested ? null : table;
    } finally {
      reading = false;
      if (closeRequested) {
        table?.free();
        release();
      }
    }
  };

  async function* readRowGroups(): AsyncGenerator<RecordBatch, void, undefined> {
    try {
      for (let i = 0; i < groups.length && !freed; i++) {
        const table = await readRowGroup(i);
        if (table === null) return;
        // Progress by the compressed bytes of the row groups read so far (what came off disk).
        bytesRead = Math.min(totalBytes, bytesRead + groups[i].compressedSize);
        try {
          // Handed over batch by batch, not as one IPC copy of the whole row group: that copy
          // would double the row group in wasm memory, which never shrinks.
          for (let j = 0; j < table.numBatches; j++) {
            const batch = table.recordBatch(j);
            // intoIPCStream consumes (frees) the wasm batch; the bytes are a copy in JS memory.
            if (batch) yield* tableFromIPC(batch.intoIPCStream()).batches;
          }
        } finally {
          table.free();
        }
      }
      if (!freed) bytesRead = totalBytes;
    } catch (err) {
      throw toExportError(err, 'SOURCE_FAILED', `cannot read Parquet file ${path}`);
    } finally {
      release();
    }
  }

  return {
    schema,
    numRows,
    totalBytes,
    bytesRead: () => bytesRead,
    batches: readRowGroups(),
    async close() {
      release();
    },
  };
}
