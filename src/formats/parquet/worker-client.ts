import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { FromWorker, ToWorker } from './messages.js';
import { runParquetWorker } from './worker-loop.js';
import { buildWriterProperties } from './writer-config.js';
import { BatchFeed, OutputPump } from './writer-streams.js';

/** How the main thread hears about one file it writes through a worker. */
export interface WorkerFileEvents {
  onMessage(message: FromWorker): void;
  /** The worker died: every file open in it has failed. */
  onWorkerFailed(error: Error): void;
}

/** One file's line to its worker. */
export interface WorkerFile {
  readonly id: number;
  send(message: ToWorker, transfer?: ArrayBuffer[]): void;
  /** Stops routing the worker's messages about this file (after closed, failed or abort). */
  release(): void;
  /** Keeps the process alive while the main thread waits for an answer (pair with endWait). */
  beginWait(): void;
  endWait(): void;
}

/**
 * A parquet worker's source: its loop and helpers are TypeScript modules of this folder, checked
 * like the rest and turned back into source text here, since the published bundles (ESM and
 * CJS) have no separate worker file to point a Worker at. Each is self-contained by contract.
 * Compilers that keep function names (esbuild's keepNames, used by tsx) wrap them in
 * `__name(...)`, a helper of the bundle, hence its stand-in first. The loop is called with the
 * port and `{ pw, ...helpers }`, pw being parquet-wasm. (Used by this reader/writer worker and
 * by the encoding pool, encode-pool.ts.)
 */
export function parquetWorkerSource(loop: { toString(): string }, helpers: Record<string, { toString(): string }>): string {
  // Only dynamic import(), no require: the worker inherits the process's flags, and under
  // `node --input-type=module` (or --experimental-default-type=module) this source runs as an
  // ES module, where require does not exist. Messages sent meanwhile wait in the port's queue.
  return [
    "const __name = (target, value) => Object.defineProperty(target, 'name', { value, configurable: true });",
    ...Object.entries(helpers).map(([name, helper]) => `const ${name} = (${helper.toString()});`),
    '(async () => {',
    "  const { parentPort, workerData } = await import('node:worker_threads');",
    "  const { pathToFileURL } = await import('node:url');",
    '  const loaded = await import(pathToFileURL(workerData.parquetWasm).href);',
    '  const pw = loaded.default ?? loaded;',
    `  (${loop.toString()})(parentPort, { pw, ${Object.keys(helpers).join(', ')} });`,
    '})();',
  ].join('\n');
}

function buildWorkerSource(): string {
  return parquetWorkerSource(runParquetWorker, { BatchFeed, OutputPump, buildWriterProperties });
}

/**
 * parquet-wasm's node build, resolved from this module (ESM build: import.meta.url; CJS build,
 * where the bundler leaves import.meta empty: __filename), so the worker loads the same copy
 * whatever the working directory. import.meta comes first: an ES module can see a global
 * __filename that is not its own (`node -e` sets it to "[eval]").
 */
export function resolveParquetWasm(): string {
  const base = (import.meta as { url?: string }).url ?? __filename;
  return createRequire(base).resolve('parquet-wasm/node');
}

/**
 * One worker thread and the files open in it. An idle worker is unref'd, so it never holds an
 * exiting process open; it is ref'd only while the main thread waits for one of its answers.
 *
 * Files are held weakly except while their encoder waits on the worker. An export that fails
 * or is cancelled aborts its open file (FileEncoder.abort, called by the splitting sink), which
 * tells the worker to drop the file's writer and its half-built row group. Should an encoder be
 * dropped without that (a caller driving encoders by hand), the same happens once it is garbage
 * collected, as that row group would otherwise stay in wasm memory for good.
 */
class WorkerSlot {
  private worker: Worker | null = null;
  private readonly files = new Map<number, WeakRef<WorkerFileEvents>>();
  /** Files whose encoder is waiting on the worker: held strongly, they must not be collected. */
  private readonly waiting = new Map<number, WorkerFileEvents>();
  private readonly dropped = new FinalizationRegistry<number>((id) => this.abandon(id));

  get load(): number {
    return this.files.size;
  }

  open(id: number, events: WorkerFileEvents): WorkerFile {
    const worker = this.worker ?? this.start();
    this.files.set(id, new WeakRef(events));
    this.dropped.register(events, id, events);
    return {
      id,
      send: (message, transfer = []) => {
        if (this.worker !== worker) throw new Error('the Parquet worker has stopped');
        worker.postMessage(message, transfer);
      },
      release: () => {
        this.files.delete(id);
        this.dropped.unregister(events);
      },
      beginWait: () => {
        this.waiting.set(id, events);
        if (this.waiting.size === 1) this.worker?.ref();
      },
      endWait: () => {
        this.waiting.delete(id);
        if (this.waiting.size === 0) this.worker?.unref();
      },
    };
  }

  /** An encoder was collected while its file was open: free the worker's side of it. */
  private abandon(id: number): void {
    if (!this.files.delete(id)) return;
    this.worker?.postMessage({ kind: 'abort', file: id } satisfies ToWorker);
  }

  private start(): Worker {
    const worker = new Worker(buildWorkerSource(), { eval: true, workerData: { parquetWasm: resolveParquetWasm() } });
    worker.on('message', (message: FromWorker) => this.files.get(message.file)?.deref()?.onMessage(message));
    const die = (error: Error): void => {
      if (this.worker !== worker) return;
      this.worker = null;
      const open = [...this.files.values()];
      this.files.clear();
      for (const ref of open) ref.deref()?.onWorkerFailed(error);
    };
    worker.on('error', die);
    worker.on('exit', (code) => die(new Error(`the Parquet worker exited (code ${code})`)));
    if (this.waiting.size === 0) worker.unref(); // after the listeners, which ref it again
    this.worker = worker;
    return worker;
  }
}

/**
 * The Parquet workers of the process, started as files need them. Encoding in a worker lets
 * the main thread prepare the next batch (source, IPC) and write the previous one's bytes while
 * wasm encodes, which together exceed what one thread does alone. One worker per core beyond
 * the main thread (at most 4) serves concurrent exports; each new file goes to the least busy.
 */
class ParquetWorkerPool {
  private readonly slots: WorkerSlot[];
  private nextFile = 1;

  constructor(size: number) {
    this.slots = Array.from({ length: size }, () => new WorkerSlot());
  }

  /** Files open in the workers now (each holds a writer and its unfinished row group). */
  get openFiles(): number {
    return this.slots.reduce((n, s) => n + s.load, 0);
  }

  open(events: WorkerFileEvents): WorkerFile {
    const slot = this.slots.reduce((best, s) => (s.load < best.load ? s : best));
    return slot.open(this.nextFile++, events);
  }
}

let pool: ParquetWorkerPool | null = null;

/** The process's Parquet workers (each starts with the first file given to it). */
export function parquetWorkers(): ParquetWorkerPool {
  pool ??= new ParquetWorkerPool(Math.max(1, Math.min(4, availableParallelism() - 1)));
  return pool;
}
