/**
 * A shard whose output store fails once runs again (BullMQ attempts, with a backoff) and its
 * export completes with every row once; a store that keeps failing fails the export with its
 * cause after the last attempt, leaving nothing. A worker in this process (startWorker), with a
 * directory store that fails the writes asked of it.
 */
import { Writable } from 'node:stream';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DistributedExporter, startWorker, type ExportWorker } from '../../src/index.js';
import { DirectoryStore, openStore } from '../../src/store/index.js';
import type { ObjectStore } from '../../src/store/index.js';
import { tempDir } from '../helpers/batches.js';
import { redisMissing, startRedis, type RedisServer } from '../services/redis.js';
import { readSummaries, wholeTable, writeTable } from './fleet.js';

/** Fails the writes of keys that `failing` says yes to, as a store whose connection was reset would. */
class FlakyStore extends DirectoryStore {
  constructor(location: string, private readonly failing: (key: string) => boolean) {
    super(location);
  }

  override openWrite(key: string): Writable {
    if (!this.failing(key)) return super.openWrite(key);
    return new Writable({ write: (_chunk, _enc, done) => done(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })) });
  }
}

describe.skipIf(redisMissing !== null)('shard retries', () => {
  let redis: RedisServer;
  let dir: string;
  let worker: ExportWorker;
  let exporter: DistributedExporter;
  let shards: Queue;
  const failures = new Map<string, number>(); // out location -> writes still to fail

  beforeAll(async () => {
    redis = await startRedis();
    dir = await tempDir('te-dist-retry-');
    await writeTable(join(dir, 'tables', 'small'), 2, 20_000, 10_000, 'small');
    worker = await startWorker({
      redis: redis.url, concurrency: 2, lockDuration: 2000, stalledInterval: 1000,
      openStore: (location) => (failures.has(location)
        ? new FlakyStore(location, (key) => key.includes('/shard-1/') && (failures.get(location) ?? 0) > 0 && (failures.set(location, (failures.get(location) ?? 0) - 1), true))
        : openStore(location) as ObjectStore),
    });
    exporter = new DistributedExporter({ redis: redis.url, shardRows: 20_000 });
    shards = new Queue('shards', { connection: { host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: null }, prefix: 'tabular-export' });
  });

  afterAll(async () => {
    await exporter?.close();
    await shards?.close();
    await worker?.close();
    await redis?.stop();
  });

  it('a write that fails once: the shard runs again and the export completes, every row once', async () => {
    const out = join(dir, 'once');
    failures.set(out, 1);
    const exp = await exporter.done((await exporter.create(join(dir, 'tables', 'small'), { format: 'csv', out })).id, 30_000);
    expect([exp.status, exp.errorMessage]).toEqual(['completed', null]);
    expect((await shards.getJob(`${exp.id}-1`))?.attemptsMade).toBe(2); // two runs: the failed one and the one that completed
    expect((await shards.getJob(`${exp.id}-0`))?.attemptsMade).toBe(1);
    expect((await readSummaries([['csv', exp.files.map((f) => f.path as string)]]))[0]).toMatchObject({ ...wholeTable(40_000), headers: 1 });
  });

  it('a write that keeps failing fails the export with its cause after the last attempt, nothing left', async () => {
    const out = join(dir, 'always');
    failures.set(out, Infinity);
    const exp = await exporter.done((await exporter.create(join(dir, 'tables', 'small'), { format: 'parquet', out })).id, 30_000);
    expect(exp.status).toBe('failed');
    expect(exp.errorMessage).toMatch(/^parquet: .*ECONNRESET/);
    expect(exp.errorMessage).not.toContain(dir);
    expect((await shards.getJob(`${exp.id}-1`))?.attemptsMade).toBe(2); // SHARD_ATTEMPTS
    const { readdir } = await import('node:fs/promises');
    for (let i = 0; i < 50 && (await readdir(out).catch(() => [])).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await readdir(out).catch(() => [])).toEqual([]);
  });
});
