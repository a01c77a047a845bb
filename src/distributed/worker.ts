import type { Job, Worker as BullWorker } from 'bullmq';
import { tmpdir } from 'node:os';
import { ExportError } from '../errors.js';
import { openStore } from '../store/open.js';
import type { ObjectStore } from '../store/types.js';
import { connect, DEFAULT_PREFIX, FINALIZE_QUEUE, loadBullmq, SHARD_QUEUE, type ConnectionOptions } from './connection.js';
import { runFinalize, type FinalizeJobData } from './finalize-job.js';
import { runShard, ShardRetry, ShardStopped, type JobContext, type ShardJobData, type ShardResult } from './shard-job.js';
import { StateStore } from './state.js';

export interface WorkerOptions extends ConnectionOptions {
  /** Shard jobs run at once by this process (default 1); finalize jobs run beside them. */
  concurrency?: number;
  /** Threads each shard encodes with (default 1: a fleet scales by processes). */
  threads?: number;
  /** Where temporary files go (default os.tmpdir()). */
  tempDir?: string;
  /**
   * BullMQ's lock on a running job (ms, default 30,000): a worker that dies holding a shard
   * gives it back, to run elsewhere, about lockDuration + stalledInterval later.
   */
  lockDuration?: number;
  /** How often stalled jobs are looked for (ms, default 30,000). */
  stalledInterval?: number;
  /** Times a shard may stall (its worker died) and still run again (default 2). */
  maxStalledCount?: number;
  /** Opens the store at a location (the tables', the output's): default openStore; a store of your own, e.g. other S3 options. */
  openStore?: (location: string) => ObjectStore;
}

export interface ExportWorker {
  /**
   * Stops taking jobs and resolves once those it runs have finished (BullMQ's close: what it
   * holds is finished, not dropped). With `force`, running jobs are left to the stalled-job
   * check, which gives them to another worker.
   */
  close(force?: boolean): Promise<void>;
}

/**
 * Runs shard and finalize jobs of distributed exports (the `tabular-export worker` command).
 * A cancel is heard on the Redis channel `<prefix>:cancel` and stops the shards of that export
 * running here at once (each also checks its export's status every 500 ms).
 */
export async function startWorker(options: WorkerOptions): Promise<ExportWorker> {
  const { Worker } = loadBullmq();
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  const client = connect(options.redis);
  const subscriber = connect(options.redis);
  const stores = new Map<string, ObjectStore>();
  const ctx: JobContext = {
    state: new StateStore(client, prefix),
    storeAt: (location) => {
      let store = stores.get(location);
      if (!store) stores.set(location, store = (options.openStore ?? openStore)(location));
      return store;
    },
    running: new Map(),
    tempDir: options.tempDir ?? tmpdir(),
    threads: options.threads ?? 1,
  };
  await subscriber.subscribe(ctx.state.cancelChannel);
  subscriber.on('message', (_channel: string, id: string) => {
    for (const controller of ctx.running.get(id) ?? []) controller.abort(new ShardStopped('the export was cancelled or failed'));
  });

  // Options left out keep BullMQ's defaults (an `undefined` would replace them).
  const common = {
    connection: client, prefix, maxStalledCount: options.maxStalledCount ?? 2,
    ...(options.lockDuration !== undefined ? { lockDuration: options.lockDuration } : {}),
    ...(options.stalledInterval !== undefined ? { stalledInterval: options.stalledInterval } : {}),
  };
  const shards = new Worker<ShardJobData, ShardResult>(SHARD_QUEUE,
    // Three parameters: BullMQ gives a job an AbortSignal only when the processor declares it.
    async (job, _token, signal) => processShard(ctx, job, signal),
    { ...common, concurrency: options.concurrency ?? 1 });
  const finals = new Worker<FinalizeJobData>(FINALIZE_QUEUE, async (job, _token, _signal) => {
    const failures = Object.values(await job.getIgnoredChildrenFailures());
    const values = Object.values(await job.getChildrenValues<ShardResult>());
    return runFinalize(ctx, job.data, { results: values, failures });
  }, { ...common, concurrency: 2 });
  // BullMQ reports lost locks and connection trouble here; they must not end the process.
  for (const w of [shards, finals] as BullWorker[]) w.on('error', (err) => process.stderr.write(`tabular-export worker: ${err.message}\n`));
  await Promise.all([shards.waitUntilReady(), finals.waitUntilReady()]);

  let closing: Promise<void> | null = null;
  return {
    close: (force = false) => (closing ??= (async () => {
      await Promise.all([shards.close(force), finals.close(force)]);
      await subscriber.quit().catch(() => undefined);
      await client.quit().catch(() => undefined);
    })()),
  };
}

/** A shard stopped by its export's cancel or failure ends without retries, as BullMQ's UnrecoverableError does. */
async function processShard(ctx: JobContext, job: Job<ShardJobData, ShardResult>, signal?: AbortSignal): Promise<ShardResult> {
  const { UnrecoverableError } = loadBullmq();
  try {
    return await runShard(ctx, job.data, signal, job.attemptsMade + 1 >= (job.opts.attempts ?? 1));
  } catch (err) {
    if (err instanceof ShardStopped) throw new UnrecoverableError(`stopped: ${err.message}`);
    if (err instanceof ShardRetry) throw err; // BullMQ runs it again after its backoff
    if (err instanceof ExportError) throw new UnrecoverableError(err.message);
    throw err;
  }
}

