import { Worker } from 'node:worker_threads';
import type { EncodeResult, EncodeTask } from './encode-worker-loop.js';
import { runEncodeWorker } from './encode-worker-loop.js';
import type { WriterConfig } from './messages.js';
import { parquetWorkerSource, resolveParquetWasm } from './worker-client.js';
import { buildWriterProperties } from './writer-config.js';

/** The encoding worker's source text (see worker-client.ts for why source text). */
function buildEncodeWorkerSource(): string {
  return parquetWorkerSource(runEncodeWorker, { buildWriterProperties });
}

/** How long a cancelled job may go on running before its worker is ended (abort frees all within 1 s). */
const STOP_AFTER_MS = 500;

/** Whose jobs these are (one per file): at most `threads` of them run at once. */
export interface JobOwner {
  threads: number;
  running: number;
}

interface Job {
  task: EncodeTask;
  owner: JobOwner;
  resolve(result: EncodedPart): void;
  reject(error: Error): void;
}

/** A small Parquet file. */
export interface EncodedPart {
  bytes: Uint8Array;
}

/** A job handed to the pool. */
export interface EncodeJob {
  done: Promise<EncodedPart>;
  cancel(reason: Error): void;
}

interface PoolWorker {
  worker: Worker;
  job: Job | null;
}

/**
 * The process's Parquet encoding workers, for exports with `workers` > 1. Each job encodes
 * one or a few row groups into a small complete file. Workers start when a job finds none idle
 * (so an export of one row group starts one), up to the asking export's `workers`; they stay
 * for later exports, unref'd while idle so they never hold an exiting process open. A worker
 * that dies fails only the job it was running and is replaced by the next job that needs one.
 */
export class ParquetEncodePool {
  private readonly workers: PoolWorker[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;

  get size(): number {
    return this.workers.length;
  }

  /** Workers running a job now. */
  get busy(): number {
    return this.workers.filter((w) => w.job !== null).length;
  }

  /**
   * Encodes `ipc` with `config`: a plain buffer is transferred (detached here); a shared one
   * must be left alone until `done` settles, or, after `cancel`, for good. `done` rejects when the writer
   * refuses the rows (the Error's message is the writer's), when the worker dies, or at once
   * on `cancel`: a job not started is dropped; one running finishes in its worker, unseen.
   */
  encode(ipc: Uint8Array, config: WriterConfig, owner: JobOwner): EncodeJob {
    let job!: Job;
    const done = new Promise<EncodedPart>((resolve, reject) => {
      job = { task: { id: this.nextId++, ipc, config }, owner, resolve, reject };
    });
    this.queue.push(job);
    this.dispatch();
    return {
      done,
      cancel: (reason: Error): void => {
        const at = this.queue.indexOf(job);
        if (at >= 0) this.queue.splice(at, 1);
        job.reject(reason);
        this.stopIfStillRunning(job);
      },
    };
  }

  /**
   * A cancelled job that is running is left to finish (a row group takes well under a second)
   * unless it is still running after STOP_AFTER_MS: then its worker is ended, which frees its
   * wasm memory at once, and the next job starts a new one.
   */
  private stopIfStillRunning(job: Job): void {
    const slot = this.workers.find((w) => w.job === job);
    if (!slot) return;
    setTimeout(() => {
      if (slot.job === job) void slot.worker.terminate();
    }, STOP_AFTER_MS).unref();
  }

  /** Ends every worker (tests; a crash is simulated the same way). Jobs running fail. */
  async terminate(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }

  /**
   * Starts the queued jobs that may run: in order, skipping those whose owner runs its
   * `threads` jobs already; a new worker starts only while the pool has fewer than the job's
   * owner may use.
   */
  private dispatch(): void {
    for (let i = 0; i < this.queue.length;) {
      const job = this.queue[i];
      let slot = job.owner.running < job.owner.threads ? this.workers.find((w) => w.job === null) : undefined;
      if (!slot && job.owner.running < job.owner.threads && this.workers.length < job.owner.threads) slot = this.start();
      if (!slot) {
        i += 1;
        continue;
      }
      this.queue.splice(i, 1);
      job.owner.running += 1;
      slot.job = job;
      slot.worker.ref();
      // A SharedArrayBuffer is shared as it is; a plain one is transferred.
      const input = job.task.ipc.buffer;
      slot.worker.postMessage(job.task, input instanceof ArrayBuffer ? [input] : []);
    }
  }

  /** The job of `slot` is over (done, failed, or its worker gone): the slot is free. */
  private release(slot: PoolWorker): Job | null {
    const job = slot.job;
    slot.job = null;
    if (job) job.owner.running -= 1;
    return job;
  }

  private start(): PoolWorker {
    const worker = new Worker(buildEncodeWorkerSource(), { eval: true, workerData: { parquetWasm: resolveParquetWasm() } });
    const slot: PoolWorker = { worker, job: null };
    worker.on('message', (result: EncodeResult) => {
      if (!slot.job || slot.job.task.id !== result.id) return;
      const job = this.release(slot) as Job;
      worker.unref();
      if ('bytes' in result) job.resolve({ bytes: result.bytes });
      else job.reject(new Error(result.error));
      this.dispatch();
    });
    let dead = false;
    const die = (error: Error): void => {
      if (dead) return;
      dead = true;
      const at = this.workers.indexOf(slot);
      if (at >= 0) this.workers.splice(at, 1);
      this.release(slot)?.reject(error);
      this.dispatch();
    };
    worker.on('error', die);
    worker.on('exit', (code) => die(new Error(`the Parquet worker exited (code ${code})`)));
    this.workers.push(slot);
    return slot;
  }
}


let pool: ParquetEncodePool | null = null;

/** The process's encoding pool (workers start with the first jobs that need them). */
export function parquetEncodePool(): ParquetEncodePool {
  pool ??= new ParquetEncodePool();
  return pool;
}
