import type { MessagePort } from 'node:worker_threads';
import type * as ParquetWasm from 'parquet-wasm/node';
import type { FromWorker, ToWorker } from './messages.js';
import type { buildWriterProperties } from './writer-config.js';
import type { BatchFeed, OutputPump } from './writer-streams.js';

/** What the worker's loop is given: parquet-wasm as the worker loaded it, and its helpers. */
export interface WorkerDeps {
  pw: typeof ParquetWasm;
  BatchFeed: typeof BatchFeed;
  OutputPump: typeof OutputPump;
  buildWriterProperties: typeof buildWriterProperties;
}

/**
 * The Parquet worker's message loop: one parquet-wasm streaming writer per open file, each fed
 * its batches in order. Per batch: wait until the writer asks, hand the batch over, wait until
 * it asks again (it has then encoded the batch and flushed any row group it completed), send
 * the new bytes, then `taken`. Files run independently; a failure ends only its file.
 *
 * Runs in the worker from its source text: it must refer to nothing outside itself but its
 * parameters and globals. Types are imported for checking only.
 */
export function runParquetWorker(port: MessagePort, deps: WorkerDeps): void {
  const { pw } = deps;

  interface OpenFile {
    id: number;
    feed: BatchFeed;
    pump: OutputPump | null;
    /** Rejects once the writer's output ends: before the input has, that is a writer fault. */
    outputEnded: Promise<never>;
    /** The file's messages, handled one after another. */
    queue: Promise<void>;
    stopped: boolean;
  }
  const files = new Map<number, OpenFile>();

  const post = (message: FromWorker, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);

  /** Transferring needs a buffer of its own; wasm-bindgen's output chunks are, but check. */
  const ownBuffer = (bytes: Uint8Array): Uint8Array =>
    (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice());

  const toWasmBatch = (ipc: Uint8Array): ParquetWasm.RecordBatch => {
    const table = pw.Table.fromIPCStream(ipc);
    try {
      const batch = table.recordBatch(0);
      if (!batch) throw new Error('the IPC stream of a batch held no batch');
      return batch;
    } finally {
      table.free();
    }
  };

  /** Waits until the writer wants a batch; fails if its output ended first (a writer fault). */
  const waitUntilAsked = async (file: OpenFile): Promise<void> => {
    await Promise.race([file.feed.whenAsked(), file.outputEnded]);
  };

  const stop = (file: OpenFile, reason: Error): void => {
    file.stopped = true;
    files.delete(file.id);
    file.feed.fail(reason);
    file.pump?.cancel(reason);
  };

  const handle = async (file: OpenFile, message: ToWorker): Promise<void> => {
    switch (message.kind) {
      case 'open': {
        const output = pw.transformParquetStream(file.feed.stream, deps.buildWriterProperties(pw, message.config));
        output.catch(() => undefined); // rejects too if the schema batch below fails; awaited otherwise
        // The writer takes the file's schema from its first batch: an empty one of the schema.
        await file.feed.whenAsked();
        file.feed.push(toWasmBatch(message.schema));
        const stream = (await output) as ReadableStream<Uint8Array>;
        const pump = new deps.OutputPump(stream, (bytes) => {
          const chunk = ownBuffer(bytes);
          post({ kind: 'chunk', file: file.id, bytes: chunk }, [chunk.buffer as ArrayBuffer]);
        });
        file.pump = pump;
        file.outputEnded = pump.done.then(() => {
          throw new Error('the Parquet writer ended before its input did');
        });
        file.outputEnded.catch(() => undefined); // rejects after a normal end too, unobserved then
        return;
      }
      case 'batch': {
        await waitUntilAsked(file);
        file.feed.push(toWasmBatch(message.ipc));
        await waitUntilAsked(file);
        await file.pump?.settle();
        post({ kind: 'taken', file: file.id, seq: message.seq });
        return;
      }
      case 'end': {
        await waitUntilAsked(file);
        file.feed.close();
        await file.pump?.done;
        files.delete(file.id);
        post({ kind: 'closed', file: file.id });
        return;
      }
      case 'abort':
        return;
    }
  };

  port.on('message', (message: ToWorker) => {
    if (message.kind === 'open') {
      const pending = new Promise<never>(() => undefined);
      files.set(message.file, { id: message.file, feed: new deps.BatchFeed(), pump: null, outputEnded: pending, queue: Promise.resolve(), stopped: false });
    }
    const file = files.get(message.file);
    if (!file) return; // a file that failed or was aborted: the main thread knows already
    if (message.kind === 'abort') {
      stop(file, new Error('aborted'));
      return;
    }
    file.queue = file.queue.then(async () => {
      if (file.stopped) return;
      try {
        await handle(file, message);
      } catch (err) {
        const error = err instanceof Error ? err : new Error(String(err));
        stop(file, error);
        post({ kind: 'failed', file: file.id, seq: message.kind === 'batch' ? message.seq : null, message: error.message });
      }
    });
  });
}
