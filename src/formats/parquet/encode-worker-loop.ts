import type { MessagePort } from 'node:worker_threads';
import type * as ParquetWasm from 'parquet-wasm/node';
import type { WriterConfig } from './messages.js';
import type { buildWriterProperties } from './writer-config.js';

/**
 * A row group (or a few) to encode as one small Parquet file: an Arrow IPC stream of its
 * batches, in a SharedArrayBuffer the main thread reuses once the task is answered (wasm has
 * copied the stream in by then).
 */
export interface EncodeTask {
  id: number;
  ipc: Uint8Array;
  config: WriterConfig;
}

/** The small file's bytes (buffer transferred), or why the writer refused the rows. */
export type EncodeResult = { id: number; bytes: Uint8Array } | { id: number; error: string };

export interface EncodeWorkerDeps {
  pw: typeof ParquetWasm;
  buildWriterProperties: typeof buildWriterProperties;
}

/**
 * The loop of a parallel encoding worker: each task is encoded at once, in one call
 * (parquet-wasm writeParquet), so the worker holds no writer between tasks and nothing of a
 * cancelled export outlives the task it was running.
 *
 * Runs in the worker from its source text: it must refer to nothing outside itself but its
 * parameters and globals. Types are imported for checking only.
 */
export function runEncodeWorker(port: MessagePort, deps: EncodeWorkerDeps): void {
  const { pw } = deps;
  port.on('message', (task: EncodeTask) => {
    let result: EncodeResult;
    let transfer: ArrayBuffer[] = [];
    try {
      const table = pw.Table.fromIPCStream(task.ipc);
      // writeParquet takes the table and the properties (wasm frees both) and returns a copy out of wasm memory.
      const bytes = pw.writeParquet(table, deps.buildWriterProperties(pw, task.config));
      const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
      result = { id: task.id, bytes: own };
      transfer = [own.buffer as ArrayBuffer];
    } catch (err) {
      result = { id: task.id, error: err instanceof Error ? err.message : String(err) };
    }
    port.postMessage(result, transfer);
  });
}
