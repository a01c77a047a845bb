/**
 * The finalize job on its own (a real redis-server for the export state, a directory store):
 * run again after its worker died mid-publish, it finds the parts it had published and completes;
 * csv shards are joined with the whole file's MD5; a failed shard leaves nothing behind.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFinalize } from '../../src/distributed/finalize-job.js';
import type { JobContext, ShardResult } from '../../src/distributed/shard-job.js';
import { StateStore, type ExportSpec } from '../../src/distributed/state.js';
import { DirectoryStore } from '../../src/store/index.js';
import { tempDir } from '../helpers/batches.js';
import { redisMissing, startRedis, type RedisServer } from '../services/redis.js';

describe.skipIf(redisMissing !== null)('finalize job', () => {
  let redis: RedisServer;
  let client: Redis;
  let state: StateStore;

  beforeAll(async () => {
    redis = await startRedis();
    client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    state = new StateStore(client, 'test');
  });

  afterAll(async () => {
    client?.disconnect();
    await redis?.stop();
  });

  /** An export whose `parts` (name → bytes, per shard) lie in its shards' temporary prefixes; returns what the shards returned. */
  async function prepare(format: 'parquet' | 'csv', shards: string[][]): Promise<{ ctx: JobContext; out: string; spec: ExportSpec; results: ShardResult[] }> {
    const out = await tempDir('te-finalize-');
    const id = `e${Math.random().toString(36).slice(2)}`;
    const spec: ExportSpec = {
      id, format, createdAt: Date.now(), name: 'survey', tableBase: { kind: 'table', name: 'survey' }, tables: out, out,
      numRows: shards.flat().length, shardCount: shards.length, mode: format === 'csv' ? 'concat' : 'parts', options: {},
    };
    await state.create(spec);
    await state.transition(id, 'running');
    const results: ShardResult[] = [];
    for (const [index, parts] of shards.entries()) {
      const prefix = `_temporary/${id}/shard-${index}/a1b2c3/`;
      await mkdir(join(out, prefix), { recursive: true });
      const written = await Promise.all(parts.map(async (text, n) => {
        const key = `${prefix}${n}.${format}`;
        await writeFile(join(out, key), text);
        return { key, size: Buffer.byteLength(text), rows: 1, md5: createHash('md5').update(text).digest('hex') };
      }));
      results.push({ index, rows: parts.length, parts: written });
    }
    const store = new DirectoryStore(out);
    const ctx: JobContext = { state, storeAt: () => store, running: new Map(), tempDir: out, threads: 1 };
    return { ctx, out, spec, results };
  }

  it('run again after its worker died mid-publish, it completes with every part once', async () => {
    const { ctx, out, spec, results } = await prepare('parquet', [['p0', 'p1'], ['p2']]);
    // The first run published part 0 and died.
    await new DirectoryStore(out).publish(results[0].parts[0].key, 'survey-000000.parquet');
    expect(await runFinalize(ctx, { exportId: spec.id }, { results, failures: [] })).toMatchObject({ status: 'completed' });
    expect((await readdir(out)).sort()).toEqual(['survey-000000.parquet', 'survey-000001.parquet', 'survey-000002.parquet']);
    const done = await state.read(spec.id);
    expect(done?.files.map((f) => [f.name, f.size])).toEqual([['survey-000000.parquet', 2], ['survey-000001.parquet', 2], ['survey-000002.parquet', 2]]);
    expect(await readFile(join(out, 'survey-000002.parquet'), 'utf8')).toBe('p2');
  });

  it('joins csv shards in shard order into one file whose MD5 is the whole file\'s', async () => {
    const { ctx, out, spec, results } = await prepare('csv', [['id\n0\n1\n'], ['2\n3\n'], ['4\n']]);
    await runFinalize(ctx, { exportId: spec.id }, { results: [...results].reverse(), failures: [] });
    expect(await readdir(out)).toEqual(['survey.csv']);
    const whole = 'id\n0\n1\n2\n3\n4\n';
    expect(await readFile(join(out, 'survey.csv'), 'utf8')).toBe(whole);
    const done = await state.read(spec.id);
    expect([done?.status, done?.size, done?.files[0].md5]).toEqual(['completed', whole.length, createHash('md5').update(whole).digest('hex')]);
  });

  it('a failed shard fails the export (if nothing else did) and leaves no file', async () => {
    const { ctx, out, spec, results } = await prepare('parquet', [['p0'], ['p1']]);
    await runFinalize(ctx, { exportId: spec.id }, { results: results.slice(0, 1), failures: ['job stalled more than allowable limit'] });
    expect(await readdir(out)).toEqual([]);
    const done = await state.read(spec.id);
    expect([done?.status, done?.errorMessage]).toEqual(['failed', 'a shard of the export failed: job stalled more than allowable limit']);
  });
});
