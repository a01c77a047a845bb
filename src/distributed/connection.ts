import type { Redis, RedisOptions } from 'ioredis';
import { lazyRequire } from '../lazy-require.js';

/** Key prefix of the distributed mode in Redis (BullMQ's queues and our export states). */
export const DEFAULT_PREFIX = 'tabular-export';
/** Queue of the shard jobs, and of the finalize (parent) jobs. */
export const SHARD_QUEUE = 'shards';
export const FINALIZE_QUEUE = 'finalize';

export interface ConnectionOptions {
  /** `redis://[user:password@]host:port[/db]`, or an ioredis client (then closed by its owner, not here). */
  redis: string | Redis;
  /** Key prefix, the same for every process of one deployment (default `tabular-export`). */
  prefix?: string;
}

/**
 * BullMQ and ioredis are loaded only by the distributed mode, so an embedded export never
 * loads them (ioredis is BullMQ's optional peer: a dependency of this package). Required, not
 * imported: the command's bundle runs in a V8 script with no ES module loader (launcher.ts).
 */
export const loadBullmq = lazyRequire<typeof import('bullmq')>('bullmq');
const loadIoredis = lazyRequire<typeof import('ioredis')>('ioredis');

/**
 * A client for `redis` (a URL), or the caller's own client duplicated. `maxRetriesPerRequest:
 * null` is what BullMQ requires of connections its workers block on; a producer may want a
 * number to fail fast, passed in `extra`.
 */
export function connect(redis: string | Redis, extra: RedisOptions = {}): Redis {
  const { Redis: Client } = loadIoredis();
  if (typeof redis !== 'string') return redis.duplicate(extra);
  return new Client(redis, { maxRetriesPerRequest: null, ...extra });
}
