import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { runParquetReader } from './parquet-reader-loop.js';
import type { FromReader, ToReader } from './parquet-reader-loop.js';
import type { ReadAt } from './ipc-messages.js';

/**
 * The worker's source: the loop is a TypeScript module of this folder, checked like the rest and
 * turned back into source text here, since the published bundles (ESM and CJS) have no separate
 * worker file to point a Worker at (as the Parquet writer's workers do, src/formats/parquet).
 * Compilers that keep function names (esbuild's keepNames, used by tsx) wrap functions in
 * `__name(...)`, a helper of the bundle, hence its stand-in first. Only dynamic import(): under
 * an ES module default type this source runs as a module, where require does not exist.
 */
function buildReaderSource(): string {
  return [
    "const __name = (target, value) => Object.defineProperty(target, 'name', { value, configurable: true });",
    '(async () => {',
    "  const { parentPort, workerData } = await import('node:worker_threads');",
    "  const { openAsBlob } = await import('node:fs');",
    "  const { pathToFileURL } = await import('node:url');",
    '  const loaded = await import(pathToFileURL(workerData.parquetWasm).href);',
    `  (${runParquetReader.toString()})(parentPort, { pw: loaded.default ?? loaded, openAsBlob });`,
    '})();',
  ].join('\n');
}

/** parquet-wasm's node build, resolved from this module (ESM: import.meta.url; the CJS bundle: __filename). */
function resolveParquetWasm(): string {
  const base = (import.meta as { url?: string }).url ?? __filename;
  return createRequire(base).resolve('parquet-wasm/node');
}

/** The worker ended without answering: it crashed (a wasm trap, as a damaged file can cause) or was stopped. */
export class ReaderCrashed extends Error {}

/**
 * One Parquet file read in a worker thread of its own (parquet-reader-loop.ts says why), one
 * request at a time. The worker is ref'd only while a request waits, so an open but idle source
 * never holds an exiting process open; `close` terminates it, which also gives its wasm memory
 * (which never shrinks) back at once.
 */
export class ParquetReader {
  private readonly worker: Worker;
  private waiting: { resolve: (m: FromReader) => void; reject: (e: Error) => void } | null = null;
  private failure: Error | null = null;

  /** `readAt` serves the byte ranges of a file opened by its size alone (no local path). */
  constructor(private readonly readAt: ReadAt | null = null) {
    this.worker = new Worker(buildReaderSource(), { eval: true, workerData: { parquetWasm: resolveParquetWasm() } });
    this.worker.on('message', (message: FromReader) => {
      if (message.kind === 'read') this.serveRead(message.id, message.offset, message.length);
      else this.settle((w) => w.resolve(message));
    });
    this.worker.on('error', (err: Error) => this.fail(new ReaderCrashed(`the Parquet reader crashed on it (${err.name}: ${err.message}), as a damaged file makes it`)));
    this.worker.on('exit', (code) => this.fail(new ReaderCrashed(`the Parquet reader stopped (exit code ${code})`)));
    this.worker.unref(); // after the listeners, which ref it again
  }

  /** Sends `message` and waits for the answer; a worker failure rejects this and every later request. */
  request(message: ToReader): Promise<FromReader> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.waiting) return Promise.reject(new Error('the Parquet reader is busy'));
    return new Promise<FromReader>((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.worker.ref();
      this.worker.postMessage(message);
    });
  }

  /** Answers one range read of the worker; the bytes are moved to it, not copied. */
  private serveRead(id: number, offset: number, length: number): void {
    const read = this.readAt ?? (() => Promise.reject(new Error('the Parquet reader asked for bytes of a local file')));
    read(offset, length).then(
      (bytes) => {
        const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer ? bytes : bytes.slice();
        this.worker.postMessage({ kind: 'bytes', id, bytes: own } satisfies ToReader, [own.buffer as ArrayBuffer]);
      },
      (err: unknown) => this.worker.postMessage({ kind: 'read-failed', id, message: err instanceof Error ? err.message : String(err) } satisfies ToReader),
    );
  }

  /** Stops the worker, wherever it is (also in the middle of a row group). */
  async close(): Promise<void> {
    this.fail(new ReaderCrashed('the Parquet reader was closed'));
    await this.worker.terminate();
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.settle((w) => w.reject(this.failure ?? err));
  }

  private settle(act: (w: { resolve: (m: FromReader) => void; reject: (e: Error) => void }) => void): void {
    const waiting = this.waiting;
    this.waiting = null;
    this.worker.unref();
    if (waiting) act(waiting);
  }
}
