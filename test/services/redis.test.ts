/**
 * The test set-up's Redis (issue #13, groundwork): a real redis-server started on a free
 * loopback port answers ioredis, runs one BullMQ job end to end, and is gone (process and
 * directory) once stopped. Skipped, saying so, where redis-server is not installed.
 */
import { existsSync } from 'node:fs';
import { Queue, QueueEvents, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisMissing, startRedis, type RedisServer } from './redis.js';

if (redisMissing) console.warn(redisMissing);

describe.skipIf(redisMissing !== null)('redis-server for the distributed tests', () => {
  let redis: RedisServer;

  beforeAll(async () => {
    redis = await startRedis();
  });

  afterAll(async () => {
    await redis?.stop();
  });

  it('answers PING through ioredis on its loopback port', async () => {
    const client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await client.connect();
      expect(await client.ping()).toBe('PONG');
      expect(await client.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
    } finally {
      client.disconnect();
    }
  });

  it('runs a BullMQ job: added by a Queue, processed by a Worker, its small return value kept', async () => {
    const connection = { host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: null };
    const queue = new Queue('smoke', { connection });
    const events = new QueueEvents('smoke', { connection });
    const worker = new Worker('smoke', async (job) => ({ rows: (job.data as { rows: number }).rows * 2 }), { connection });
    try {
      await events.waitUntilReady();
      const job = await queue.add('shard', { rows: 21 });
      expect(await job.waitUntilFinished(events, 10_000)).toEqual({ rows: 42 });
    } finally {
      await worker.close();
      await events.close();
      await queue.close();
    }
  });

  it('stop() ends the process and removes its directory; a second server gets another port', async () => {
    const other = await startRedis();
    expect(other.port).not.toBe(redis.port);
    await other.stop();
    expect(() => process.kill(other.pid, 0)).toThrow();
    await other.stop(); // twice is fine
    expect(existsSync(other.directory)).toBe(false);
  });
});
