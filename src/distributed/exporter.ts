import type { FlowProducer } from 'bullmq';
import type { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { isAbsolute, posix, resolve } from 'node:path';
import { ExportError } from '../errors.js';
import { Export } from '../export/export.js';
import type { ProgressSnapshot } from '../pipeline/progress.js';
import { formatInfo, resolveFormat, type FormatOptions } from '../formats/registry.js';
import { checkMaxFileSize } from '../sinks/limits.js';
import { nameOfFile, type RandomAccessReader } from '../sources/random-access.js';
import { openStore } from '../store/open.js';
import { isS3Url, parseS3Url } from '../store/s3-location.js';
import { tableFromSchema } from '../table/arrow-types.js';
import { tableBase, type TableBase } from '../table/types.js';
import { connect, DEFAULT_PREFIX, FINALIZE_QUEUE, loadBullmq, SHARD_QUEUE, type ConnectionOptions } from './connection.js';
import { asOneShard, DEFAULT_SHARD_ROWS, listTableFiles, planShards, type ShardPlan } from './plan.js';
import { SHARD_ATTEMPTS, SHARD_BACKOFF_MS } from './shard-job.js';
import { isFinal, percentOf, StateStore, type AssemblyMode, type ExportSpec, type ExportState } from './state.js';

export interface DistributedRequest extends FormatOptions {
  /** csv, jsonl (alias ndjson), parquet, avro, dta or sav. */
  format: string;
  /** Where the files go: a directory every worker mounts (an absolute path), or `s3://bucket/prefix`. */
  out: string;
  /** Table name (default: the table file's or directory's name); names the files. */
  name?: string;
  /** The platform's base representation of the table, shown in the Export resource. */
  tableBase?: TableBase;
  /** Splittable formats: a new file past this size, within each shard (at least 1 MiB). */
  maxFileSize?: number;
  maxRowsPerFile?: number;
  /** Rows per shard, about (default the exporter's, else 2,000,000); shards cut at row groups. */
  shardRows?: number;
  id?: string;
  createdAt?: number;
}

export interface DistributedExporterOptions extends ConnectionOptions {
  /** Rows per shard, about (default 2,000,000). */
  shardRows?: number;
}

interface Connected {
  client: Redis;
  subscriber: Redis | null;
  flows: FlowProducer;
  state: StateStore;
}

/** How long finished jobs stay in BullMQ's sets (the export's state has its own record). */
const KEEP_JOBS = { age: 24 * 3600 };

/**
 * The Exporter of the distributed mode: create, get, cancel and events over Redis, the exports
 * run by `tabular-export worker` processes (startWorker) as BullMQ flows — one job per shard,
 * a finalize job as their parent. It holds no export itself: every call reads Redis, so any
 * number of these (API processes) answer for any export, and one killed loses nothing.
 *
 * The table is a location every worker reaches: a Parquet or Arrow IPC file, or a directory (a
 * prefix) of such files read as one table in name order, as a path (of a directory every worker
 * mounts) or `s3://bucket/key`. Emits 'status' (export, status) and 'progress' (export,
 * snapshot: rows and percentCompleted) as workers change exports, once a listener of either is
 * added and for as long as it is open.
 */
export class DistributedExporter extends EventEmitter {
  private connecting: Promise<Connected> | null = null;
  readonly prefix: string;

  constructor(private readonly options: DistributedExporterOptions) {
    super();
    this.prefix = options.prefix ?? DEFAULT_PREFIX;
    this.on('newListener', (event: string) => { if (event === 'status' || event === 'progress') void this.watch(); });
  }

  private connected(): Promise<Connected> {
    return this.connecting ??= (async () => {
      const { FlowProducer } = loadBullmq();
      // A producer fails a command after a few retries rather than waiting for Redis forever.
      const client = connect(this.options.redis, { maxRetriesPerRequest: 3 });
      const state = new StateStore(client, this.prefix);
      return { client, subscriber: null, flows: new FlowProducer({ connection: client, prefix: this.prefix }), state };
    })();
  }

  /**
   * Resolves once the workers' changes are relayed as events. Adding a 'status' or 'progress'
   * listener starts this; an API process that only answers requests does not take every change.
   */
  private subscribing: Promise<void> | null = null;
  watch(): Promise<void> {
    return this.subscribing ??= (async () => {
      const conn = await this.connected();
      const subscriber = connect(this.options.redis);
      conn.subscriber = subscriber;
      await subscriber.subscribe(conn.state.eventsChannel);
      // One message at a time, so events come in the order the workers sent them.
      let relaying = Promise.resolve();
      // A listener that throws does so as it would from emit(), without ending the relay.
      subscriber.on('message', (_channel: string, text: string) => {
        relaying = relaying.then(() => this.relay(text)).catch((err: unknown) => { setImmediate(() => { throw err; }); });
      });
    })();
  }

  /** As the Exporter: 'status' (export, status) at each change, 'progress' (export, snapshot) as rows are done. */
  private async relay(text: string): Promise<void> {
    const { id, status } = JSON.parse(text) as { id: string; status?: string };
    const exp = await this.get(id).catch(() => undefined);
    if (!exp) return;
    if (status !== undefined) this.emit('status', exp, status);
    else if (!exp.finished) this.emit('progress', exp, { rows: exp.rows, bytes: 0, files: 0, percentCompleted: exp.percentCompleted } satisfies ProgressSnapshot);
  }

  /**
   * Plans the export (reads the table files' footers) and queues it: `queued` once this
   * resolves. An unknown format, a bad option or an unreadable table rejects, and no export is
   * made.
   */
  async create(table: string, request: DistributedRequest): Promise<Export> {
    const format = resolveFormat(request.format);
    const info = formatInfo(format);
    const options = request[format as keyof FormatOptions];
    info.checkOptions(options);
    checkSizes(request, format);
    if (!request.out) throw new ExportError('INVALID_OPTION', 'give `out`: a directory every worker mounts, or s3://bucket/prefix', { format });
    const out = locationOf(request.out);
    const { root, key } = splitLocation(table);
    const tables = openStore(root);
    const plan = await planShards(tables, await listTableFiles(tables, key), request.shardRows ?? this.options.shardRows ?? DEFAULT_SHARD_ROWS);
    const name = request.name ?? (nameOfFile(posix.basename(key)) || 'table');
    const splitAsked = info.capabilities.splittable && (request.maxFileSize !== undefined || request.maxRowsPerFile !== undefined);
    const shards: ShardPlan[] = info.capabilities.splittable ? plan.shards : asOneShard(plan);
    const mode: AssemblyMode = (format === 'csv' || format === 'jsonl') && !splitAsked ? 'concat' : 'parts';
    const spec: ExportSpec = {
      id: request.id ?? randomUUID(), format, createdAt: request.createdAt ?? Date.now(), name,
      tableBase: request.tableBase ?? tableBase(tableFromSchema(plan.schema, name, plan.numRows)),
      tables: root, out, numRows: plan.numRows, shardCount: shards.length, mode, options: options ?? {},
      ...(info.capabilities.splittable && request.maxFileSize !== undefined ? { maxFileSize: request.maxFileSize } : {}),
      ...(info.capabilities.splittable && request.maxRowsPerFile !== undefined ? { maxRowsPerFile: request.maxRowsPerFile } : {}),
    };
    const { state, flows } = await this.connected();
    if (await state.status(spec.id) !== null) throw new ExportError('INVALID_OPTION', `an export with id ${spec.id} exists already`, { format });
    await state.create(spec);
    // One flow: the shards as children of the finalize job. A failed shard is recorded and
    // dropped as a dependency (ignoreDependencyOnFailure), so the parent runs once every shard
    // has ended, whatever the outcome, and cleans up; job ids are the export's, so a retried
    // create cannot queue its shards twice.
    await flows.add({
      name: 'finalize', queueName: FINALIZE_QUEUE, data: { exportId: spec.id },
      opts: { jobId: spec.id, removeOnComplete: KEEP_JOBS, removeOnFail: KEEP_JOBS },
      children: shards.map((shard) => ({
        name: 'shard', queueName: SHARD_QUEUE, data: { exportId: spec.id, index: shard.index, pieces: shard.pieces },
        opts: {
          jobId: `${spec.id}-${shard.index}`, ignoreDependencyOnFailure: true, removeOnComplete: KEEP_JOBS, removeOnFail: KEEP_JOBS,
          attempts: SHARD_ATTEMPTS, backoff: { type: 'exponential', delay: SHARD_BACKOFF_MS },
        },
      })),
    });
    // As created, whatever a worker has done since: every export is created `queued`.
    return toExport({ spec, status: 'queued', errorMessage: null, errorCode: null, rowsDone: 0, size: null, fileCount: null, files: [] });
  }

  /** The export as Redis holds it now, or undefined for an unknown id. */
  async get(id: string): Promise<Export | undefined> {
    const { state } = await this.connected();
    const found = await state.read(id);
    return found ? toExport(found) : undefined;
  }

  /** Every export's id, oldest first. */
  async ids(): Promise<string[]> {
    return (await this.connected()).state.ids();
  }

  /**
   * Cancels a queued or running export: its running shards stop within about half a second,
   * those not started do nothing, and its finalize job removes every temporary. A finished
   * export is left as it is.
   */
  async cancel(id: string, reason = 'the export was cancelled'): Promise<Export | undefined> {
    const { state } = await this.connected();
    const status = await state.status(id);
    if (status !== null && !isFinal(status)) await state.cancel(id, reason);
    return this.get(id);
  }

  /**
   * A completed export's file (by its name) read by ranges from the store it was written to,
   * or null when the export or file is unknown. The caller closes it.
   */
  async openFile(id: string, name: string): Promise<RandomAccessReader | null> {
    const { state } = await this.connected();
    const found = await state.read(id);
    if (!found || !found.files.some((f) => f.name === name)) return null;
    return openStore(found.spec.out).openRead(name).open();
  }

  /**
   * Drops a finished export's record from Redis (its files stay where they are): 'missing' for
   * an unknown id, 'unfinished' (nothing done) while it is queued or running.
   */
  async forget(id: string): Promise<'missing' | 'unfinished' | 'forgotten'> {
    const { state } = await this.connected();
    const status = await state.status(id);
    if (status === null) return 'missing';
    if (!isFinal(status)) return 'unfinished';
    await state.remove(id);
    return 'forgotten';
  }

  /** The finished exports that ended more than `ms` ago (for a retention sweep: delete their files, then forget them). */
  async endedBefore(ms: number): Promise<string[]> {
    const { state } = await this.connected();
    return state.endedBefore(Date.now() - ms);
  }

  /** Resolves once the export has ended (polled, so no event can be missed), or rejects after `timeoutMs`. */
  async done(id: string, timeoutMs = Infinity): Promise<Export> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const exp = await this.get(id);
      if (!exp) throw new ExportError('INVALID_OPTION', `no export ${id}`);
      if (exp.finished) return exp;
      if (Date.now() > until) throw new Error(`export ${id} is still ${exp.status} after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async close(): Promise<void> {
    if (!this.connecting) return;
    const { client, subscriber, flows } = await this.connecting;
    await flows.close();
    await subscriber?.quit().catch(() => undefined);
    await client.quit().catch(() => undefined);
  }
}

function toExport(found: ExportState): Export {
  const { spec } = found;
  const exp = new Export(spec.id, spec.format, spec.tableBase, spec.createdAt);
  if (found.status !== 'queued') exp.markRunning();
  exp.resumeFrom(percentOf(found));
  if (found.status === 'completed') exp.markCompleted(found.files, found.files.reduce((n, f) => n + f.rows, 0));
  else if (found.status === 'failed') exp.markFailed(found.errorMessage ?? '', found.errorCode ?? 'INTERNAL');
  else if (found.status === 'cancelled') exp.markCancelled(found.errorMessage ?? 'the export was cancelled');
  else exp.rows = found.rowsDone;
  return exp;
}

/** A store location and the key in it: `s3://b/dir/t.parquet` is `s3://b/dir` and `t.parquet`; a path, its folder and name. */
export function splitLocation(location: string): { root: string; key: string } {
  if (isS3Url(location)) {
    const { bucket, prefix } = parseS3Url(location);
    const key = prefix.replace(/\/$/, '');
    const dir = posix.dirname(key);
    return { root: `s3://${bucket}/${dir === '.' ? '' : dir}`, key: posix.basename(key) };
  }
  const full = resolve(location);
  return { root: posix.dirname(full), key: posix.basename(full) };
}

function locationOf(out: string): string {
  return isS3Url(out) ? out : isAbsolute(out) ? out : resolve(out);
}

function checkSizes(request: DistributedRequest, format: string): void {
  for (const key of ['maxFileSize', 'maxRowsPerFile', 'shardRows'] as const) {
    const value = request[key];
    if (value !== undefined && (!Number.isSafeInteger(value) || value <= 0)) {
      throw new ExportError('INVALID_OPTION', `${key} must be a positive integer, got ${String(value)}`, { format });
    }
  }
  const floor = request.maxFileSize === undefined ? null : checkMaxFileSize(request.maxFileSize, format);
  if (floor) throw floor;
}
