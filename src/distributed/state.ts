import type { Redis } from 'ioredis';
import type { ExportStatus } from '../export/export.js';
import type { ExportFormat } from '../formats/protocol.js';
import type { ExportedFile } from '../pipeline/run.js';
import type { TableBase } from '../table/types.js';

/**
 * An export of the distributed mode as it lives in Redis: what the API wrote at create (the
 * spec) and what the jobs change (status, rows done, files). Every process reads and writes it
 * here, so any API process answers for any export and a restarted one loses nothing.
 *
 *   <prefix>:export:<id>        hash: spec (JSON), status, errorMessage, errorCode, rowsDone,
 *                               size, fileCount, files (JSON), endedAt (ms, once finished)
 *   <prefix>:export:<id>:rows   hash: shard index -> rows done by it (the most any attempt reported)
 *   <prefix>:exports            sorted set of ids by createdAt
 *   <prefix>:cancel             channel: an export id whose shards are to stop now
 *   <prefix>:events             channel: {id, status} at each status change, {id} when rows were done
 */

/** How the shards' files become the export's. */
export type AssemblyMode = 'concat' | 'parts';

/** Everything a job needs to know of its export; written once, at create. */
export interface ExportSpec {
  id: string;
  format: ExportFormat;
  createdAt: number;
  /** The table's name (names the files) and its base representation (the resource's `table`). */
  name: string;
  tableBase: TableBase;
  /** The store the table files are in (a directory every worker mounts, or s3://…). */
  tables: string;
  /** The store the export's files go to. */
  out: string;
  numRows: number;
  shardCount: number;
  mode: AssemblyMode;
  /** The format's options (as the request gave them) and the split options. */
  options: unknown;
  maxFileSize?: number;
  maxRowsPerFile?: number;
}

export interface ExportState {
  spec: ExportSpec;
  status: ExportStatus;
  errorMessage: string | null;
  errorCode: string | null;
  rowsDone: number;
  size: number | null;
  fileCount: number | null;
  files: ExportedFile[];
}

const FINAL: ReadonlySet<string> = new Set(['completed', 'failed', 'cancelled']);

export function isFinal(status: string): boolean {
  return FINAL.has(status);
}

// One status change, atomically: never out of a final status, `running` only from `queued`.
const TRANSITION = `
local cur = redis.call('HGET', KEYS[1], 'status')
if not cur or cur == 'completed' or cur == 'failed' or cur == 'cancelled' then return 0 end
if ARGV[1] == 'running' and cur ~= 'queued' then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[1])
for i = 2, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
return 1`;

// A shard's rows done: kept as the most any of its attempts reported, so the sum (rowsDone)
// never goes down, also when a shard runs again after its worker died.
const REPORT_ROWS = `
local cur = redis.call('HGET', KEYS[1], 'status')
if cur ~= 'queued' and cur ~= 'running' then return 0 end
local old = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
local rows = tonumber(ARGV[2])
if rows <= old then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('HINCRBY', KEYS[1], 'rowsDone', rows - old)
return 1`;

/** Reads and changes export states in Redis under `prefix`. */
export class StateStore {
  constructor(readonly redis: Redis, readonly prefix: string) {}

  key(id: string): string {
    return `${this.prefix}:export:${id}`;
  }

  get cancelChannel(): string {
    return `${this.prefix}:cancel`;
  }

  get eventsChannel(): string {
    return `${this.prefix}:events`;
  }

  async create(spec: ExportSpec): Promise<void> {
    await this.redis.multi()
      .hset(this.key(spec.id), { spec: JSON.stringify(spec), status: 'queued', rowsDone: '0' })
      .zadd(`${this.prefix}:exports`, spec.createdAt, spec.id)
      .exec();
  }

  async read(id: string): Promise<ExportState | null> {
    const h = await this.redis.hgetall(this.key(id));
    if (!h.spec) return null;
    return {
      spec: JSON.parse(h.spec) as ExportSpec,
      status: h.status as ExportStatus,
      errorMessage: h.errorMessage ?? null,
      errorCode: h.errorCode ?? null,
      rowsDone: Number(h.rowsDone ?? 0),
      size: h.size === undefined ? null : Number(h.size),
      fileCount: h.fileCount === undefined ? null : Number(h.fileCount),
      files: h.files ? JSON.parse(h.files) as ExportedFile[] : [],
    };
  }

  /** Forgets the export (its record and rows). */
  async remove(id: string): Promise<void> {
    await this.redis.multi().del(this.key(id), `${this.key(id)}:rows`).zrem(`${this.prefix}:exports`, id).exec();
  }

  async status(id: string): Promise<string | null> {
    return this.redis.hget(this.key(id), 'status');
  }

  /** The ids of every export, oldest first. */
  async ids(): Promise<string[]> {
    return this.redis.zrange(`${this.prefix}:exports`, 0, -1);
  }

  /** Moves the export to `status` (with the fields given) unless it has ended; true if it did. */
  async transition(id: string, status: ExportStatus, fields: Record<string, string> = {}): Promise<boolean> {
    const args = [status, ...Object.entries(fields).flat()];
    const changed = await this.redis.eval(TRANSITION, 1, this.key(id), ...args) === 1;
    if (changed) await this.redis.publish(this.eventsChannel, JSON.stringify({ id, status }));
    return changed;
  }

  fail(id: string, message: string, code: string): Promise<boolean> {
    return this.transition(id, 'failed', { errorMessage: message, errorCode: code, endedAt: String(Date.now()) });
  }

  /** The finished exports that ended before `before` (ms since the epoch), for retention. */
  async endedBefore(before: number): Promise<string[]> {
    const ids = await this.ids();
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hget(this.key(id), 'endedAt');
    const ended = (await pipeline.exec()) ?? [];
    return ids.filter((_, i) => {
      const value = ended[i]?.[1];
      return typeof value === 'string' && Number(value) < before;
    });
  }

  /** Cancels the export (unless it has ended) and tells every worker to stop its shards now. */
  async cancel(id: string, message: string): Promise<boolean> {
    const changed = await this.transition(id, 'cancelled', { errorMessage: message, errorCode: 'CANCELLED', endedAt: String(Date.now()) });
    await this.redis.publish(this.cancelChannel, id);
    return changed;
  }

  /** Tells the workers to stop the export's shards (it failed or was cancelled). */
  async stopShards(id: string): Promise<void> {
    await this.redis.publish(this.cancelChannel, id);
  }

  async reportRows(id: string, shard: number, rows: number): Promise<void> {
    const counted = await this.redis.eval(REPORT_ROWS, 2, this.key(id), `${this.key(id)}:rows`, String(shard), String(rows)) === 1;
    if (counted) await this.redis.publish(this.eventsChannel, JSON.stringify({ id }));
  }

  complete(id: string, files: ExportedFile[]): Promise<boolean> {
    return this.transition(id, 'completed', {
      size: String(files.reduce((n, f) => n + f.size, 0)),
      fileCount: String(files.length),
      files: JSON.stringify(files),
      endedAt: String(Date.now()),
    });
  }
}

/** percentCompleted: rows done over rows, below 100 until the export has completed; never down, as rowsDone only grows. */
export function percentOf(state: ExportState): number {
  if (state.status === 'completed') return 100;
  const { numRows } = state.spec;
  if (numRows === 0) return 0;
  return Math.min(99.9, Math.floor((state.rowsDone / numRows) * 1000) / 10);
}
