/**
 * The distributed mode's library over S3-compatible storage (issue #13): a local s3rver, a real
 * redis-server, 2 worker processes reaching the bucket through the AWS environment variables;
 * a table read from the bucket (ranged GETs) exported into it (csv joined from the shards into
 * one object). Files are downloaded and read back by the independent readers.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DistributedExporter } from '../../src/index.js';
import type { Export } from '../../src/index.js';
import { S3Store, closeS3Clients } from '../../src/store/index.js';
import { tempDir } from '../helpers/batches.js';
import { redisMissing, startRedis, type RedisServer } from '../services/redis.js';
import { startS3, type S3Server } from '../services/s3.js';
import { readSummaries, startWorkerProcess, stopWorker, wholeTable, writeTable, type WorkerProcess } from './fleet.js';

describe.skipIf(redisMissing !== null)('distributed exports to S3-compatible storage', () => {
  let redis: RedisServer;
  let s3: S3Server;
  let restoreEnv: () => void;
  let dir: string;
  let exporter: DistributedExporter;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    [redis, s3] = await Promise.all([startRedis(), startS3(['exports', 'tables'])]);
    restoreEnv = s3.useEnv();
    dir = await tempDir('te-dist-s3-');
    await writeTable(join(dir, 'small'), 2, 50_000, 25_000, 'small');
    // The small table goes into the bucket, to be read from there.
    const tables = new S3Store('s3://tables/datasets/small');
    for (const name of await readdir(join(dir, 'small'))) await pipeline(createReadStream(join(dir, 'small', name)), tables.openWrite(name));
    workers.push(...await Promise.all([startWorkerProcess(redis.url, s3.env), startWorkerProcess(redis.url, s3.env)]));
    exporter = new DistributedExporter({ redis: redis.url, shardRows: 100_000 });
  });

  afterAll(async () => {
    await exporter?.close();
    await Promise.all(workers.map((w) => stopWorker(w, 'SIGKILL')));
    closeS3Clients();
    restoreEnv?.();
    await Promise.all([redis?.stop(), s3?.stop()]);
  });

  async function keysUnder(url: string): Promise<string[]> {
    const found: string[] = [];
    for await (const { key } of new S3Store(url).list('')) found.push(key);
    return found.sort();
  }

  /** Downloads an export's objects (by their s3:// URLs) into a local directory, in order. */
  async function download(exp: Export): Promise<string[]> {
    const local = await tempDir('te-dist-s3-get-');
    return Promise.all(exp.files.map(async (f) => {
      const url = f.path as string;
      const cut = url.lastIndexOf('/');
      const reader = await new S3Store(url.slice(0, cut)).openRead(url.slice(cut + 1)).open();
      const path = join(local, f.name);
      await pipeline(reader.stream(0, reader.size), createWriteStream(path));
      await reader.close();
      return path;
    }));
  }

  // parquet and csv into s3:// with a worker killed: serve.test.ts (--data s3://…).
  it('a table in the bucket (a prefix of Parquet files) read by ranges, exported into the bucket', async () => {
    const exp = await exporter.done((await exporter.create('s3://tables/datasets/small', { format: 'csv', out: 's3://exports/run2', shardRows: 25_000 })).id, 60_000);
    expect([exp.status, exp.errorMessage]).toEqual(['completed', null]);
    expect(exp.table?.name).toBe('small');
    const [summary] = await readSummaries([['csv', await download(exp)]]);
    expect(summary).toMatchObject({ ...wholeTable(100_000), headers: 1 });
    expect(await keysUnder('s3://exports/run2')).toEqual(['small.csv']);
  }, 60_000);
});
