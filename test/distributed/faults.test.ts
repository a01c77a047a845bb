/**
 * The distributed mode under faults (issue #13), with a real redis-server and workers as
 * separate OS processes (the built `tabular-export worker`), lock and stall intervals of 2 s and
 * 1 s so a dead worker's shard runs again within seconds. Every export's files are read back by
 * the independent readers (pyarrow/DuckDB/pandas, fastavro, ReadStat, PSPP via tables.py), which
 * must see every id exactly once, in order.
 */
import { Queue } from 'bullmq';
import { spawn } from 'node:child_process';
import { copyFile, open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DistributedExporter } from '../../src/index.js';
import type { Export } from '../../src/index.js';
import { tempDir } from '../helpers/batches.js';
import { PROJECT_ROOT } from '../helpers/readers.js';
import { redisMissing, startRedis, type RedisServer } from '../services/redis.js';
import { readSummaries, readSummary, sleep, startWorkerProcess, stopWorker, wholeTable, writeTable, type WorkerProcess } from './fleet.js';

if (redisMissing) console.warn(redisMissing);

const BIG_ROWS = 1_000_000; // one Parquet file of 10 row groups: 10 shards of 100,000 rows
const SMALL_ROWS = 100_000; // two files of 4 row groups: 4 shards of 25,000 rows

describe.skipIf(redisMissing !== null)('distributed exports on worker processes', () => {
  let redis: RedisServer;
  let dir: string;
  let exporter: DistributedExporter;
  let shardQueue: Queue;
  let finalizeQueue: Queue;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    dir = await tempDir('te-dist-');
    await Promise.all([
      writeTable(join(dir, 'tables', 'big'), 1, BIG_ROWS, 100_000, 'big'),
      writeTable(join(dir, 'tables', 'small'), 2, SMALL_ROWS / 2, 12_500, 'small'),
    ]);
    workers.push(...await Promise.all([startWorkerProcess(redis.url), startWorkerProcess(redis.url)]));
    exporter = new DistributedExporter({ redis: redis.url, shardRows: 100_000 });
    const connection = { host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: null };
    shardQueue = new Queue('shards', { connection, prefix: 'tabular-export' });
    finalizeQueue = new Queue('finalize', { connection, prefix: 'tabular-export' });
  });

  afterAll(async () => {
    await exporter?.close();
    await shardQueue?.close();
    await finalizeQueue?.close();
    await Promise.all(workers.map((w) => stopWorker(w, 'SIGKILL')));
    await redis?.stop();
  });

  /** Files of a completed export, in order, as local paths. */
  const pathsOf = (exp: Export): string[] => exp.files.map((f) => f.path as string);

  /** Entries left in an output directory besides the export's files (a `_temporary` folder, partials). */
  async function leftovers(out: string, exp: Export): Promise<string[]> {
    const names = new Set(exp.files.map((f) => f.name));
    return (await readdir(out).catch(() => [] as string[])).filter((n) => !names.has(n));
  }

  async function shardStates(id: string, count: number): Promise<string[]> {
    return Promise.all(Array.from({ length: count }, async (_, i) => (await shardQueue.getJob(`${id}-${i}`))?.getState() ?? 'gone'));
  }

  // All six formats, and the API process killed too, go through `serve --redis` in serve.test.ts.
  it('a worker killed mid-shard (kill -9): its shards run again on the other, every row exactly once, progress never down', async () => {
    const formats = ['csv', 'parquet'] as const;
    const outs = formats.map((f) => join(dir, 'killed', f));
    const created = await Promise.all(formats.map((format, i) => exporter.create(join(dir, 'tables', 'big'), { format, out: outs[i] })));
    expect(created.map((e) => e.status)).toEqual(['queued', 'queued']);
    const seen = created.map(() => [] as number[]);
    let killed = false;
    for (;;) {
      const now = await Promise.all(created.map((e) => exporter.get(e.id) as Promise<Export>));
      now.forEach((e, i) => seen[i].push(e.percentCompleted));
      if (!killed && now.some((e) => e.percentCompleted >= 20)) {
        await stopWorker(workers[0], 'SIGKILL'); // both workers hold a shard: 20 shards for 2 workers
        killed = true;
      }
      if (now.every((e) => e.finished)) break;
      await sleep(50);
    }
    workers.splice(0, 1, await startWorkerProcess(redis.url)); // back to two for the tests below
    const done = await Promise.all(created.map((e) => exporter.get(e.id) as Promise<Export>));
    expect(done.map((e) => [e.format, e.status, e.errorMessage])).toEqual([['csv', 'completed', null], ['parquet', 'completed', null]]);
    for (const series of seen) expect(series).toEqual([...series].sort((a, b) => a - b));
    // The killed worker's shard ran again elsewhere (BullMQ's stalled-job recovery), and only one attempt's files were published.
    const stalled = await Promise.all(created.flatMap((e) => Array.from({ length: 10 }, async (_, i) => (await shardQueue.getJob(`${e.id}-${i}`))?.stalledCounter ?? 0)));
    expect(stalled.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    const summaries = await readSummaries(done.map((e) => [e.format, pathsOf(e)]));
    for (const [i, exp] of done.entries()) {
      expect(exp.size).toBe(exp.files.reduce((n, f) => n + f.size, 0));
      expect(exp.fileCount).toBe(exp.format === 'parquet' ? 10 : 1);
      expect(await leftovers(outs[i], exp)).toEqual([]);
      expect(summaries[i], exp.format).toMatchObject(wholeTable(BIG_ROWS));
      for (const f of exp.files) expect((await stat(f.path as string)).size).toBe(f.size);
    }
    expect(summaries[0].headers).toBe(1);
  }, 90_000);

  it('SIGTERM: a worker finishes the shard it holds, then exits 0; nothing runs twice', async () => {
    const out = join(dir, 'sigterm');
    const exp = await exporter.create(join(dir, 'tables', 'big'), { format: 'csv', out });
    while (((await shardStates(exp.id, 10)).filter((s) => s === 'active').length) < 2) await sleep(20);
    const stopping = workers[1];
    const code = new Promise<number | null>((resolve) => stopping.child.once('exit', (c) => resolve(c)));
    stopping.child.kill('SIGTERM');
    expect(await code).toBe(0);
    workers.splice(1, 1, await startWorkerProcess(redis.url));
    const done = await exporter.done(exp.id, 60_000);
    expect([done.status, done.errorMessage]).toEqual(['completed', null]);
    const stalled = await Promise.all(Array.from({ length: 10 }, async (_, i) => (await shardQueue.getJob(`${exp.id}-${i}`))?.stalledCounter ?? 0));
    expect(stalled).toEqual(Array.from({ length: 10 }, () => 0));
    expect((await readSummaries([['csv', pathsOf(done)]]))[0]).toMatchObject({ ...wholeTable(BIG_ROWS), headers: 1 });
  }, 60_000);

  it('a cancel stops the running shards within 2 s and leaves no file', async () => {
    const out = join(dir, 'cancelled');
    const exp = await exporter.create(join(dir, 'tables', 'big'), { format: 'jsonl', out });
    for (let e = exp; e.percentCompleted < 10; e = await exporter.get(exp.id) as Export) await sleep(50);
    expect((await shardStates(exp.id, 10)).filter((s) => s === 'active').length).toBeGreaterThan(0);
    const asked = Date.now();
    expect((await exporter.cancel(exp.id, 'stopped by the test'))?.status).toBe('cancelled');
    while ((await shardStates(exp.id, 10)).includes('active')) await sleep(50);
    expect(Date.now() - asked).toBeLessThan(2000);
    // The finalize job runs once every shard has ended (those not started do nothing) and removes the temporaries.
    while (await (await finalizeQueue.getJob(exp.id))?.getState() !== 'completed') await sleep(50);
    expect(await readdir(out).catch(() => [])).toEqual([]);
    const final = await exporter.get(exp.id) as Export;
    expect([final.status, final.errorMessage, final.size, final.fileCount]).toEqual(['cancelled', 'stopped by the test', null, null]);
  }, 60_000);

  it('a corrupt source file fails its export with the cause; an export beside it completes', async () => {
    const bad = join(dir, 'tables', 'bad');
    await writeTable(bad, 1, 50_000, 12_500, 'bad');
    const file = join(bad, 'bad-000.parquet');
    const handle = await open(file, 'r+');
    const { size } = await handle.stat();
    await handle.write(Buffer.alloc(4096, 0x5a), 0, 4096, Math.floor(size / 2)); // a row group's pages, footer intact
    await handle.close();
    const badOut = join(dir, 'bad-out');
    const goodOut = join(dir, 'good-out');
    const [failing, good] = await Promise.all([
      exporter.create(bad, { format: 'csv', out: badOut, shardRows: 12_500 }),
      exporter.create(join(dir, 'tables', 'small'), { format: 'parquet', out: goodOut, shardRows: 25_000 }),
    ]);
    const [f, g] = await Promise.all([exporter.done(failing.id, 30_000), exporter.done(good.id, 30_000)]);
    expect(f.status).toBe('failed');
    expect(f.errorMessage).toMatch(/^csv: cannot read Parquet file bad-000\.parquet: /);
    expect(f.errorMessage).not.toContain(dir);
    while (await (await finalizeQueue.getJob(failing.id))?.getState() !== 'completed') await sleep(50);
    expect(await readdir(badOut).catch(() => [])).toEqual([]);
    expect(g.status).toBe('completed');
    expect(await readSummary('parquet', pathsOf(g))).toMatchObject(wholeTable(SMALL_ROWS));
  }, 60_000);

  it('kill -9 of the API process: the export still completes, and a new API process serves it', async () => {
    const out = join(dir, 'api-killed');
    const api = spawn(process.execPath, [join(PROJECT_ROOT, 'test', 'distributed', 'api-process.mjs'), redis.url, join(dir, 'tables', 'big'), 'parquet', out],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<void>((resolve) => api.once('exit', () => resolve()));
    let text = '';
    api.stdout.on('data', (d: Buffer) => { text += d; });
    api.stderr.on('data', (d: Buffer) => { text += d; });
    while (!/running \d/.test(text)) {
      if (api.exitCode !== null) throw new Error(`the API process ended: ${text}`);
      await sleep(50);
    }
    api.kill('SIGKILL');
    await exited;
    const id = /created (\S+)/.exec(text)?.[1] as string;
    const fresh = new DistributedExporter({ redis: redis.url });
    try {
      const exp = await fresh.done(id, 60_000);
      expect(exp.status).toBe('completed');
      expect(await readSummary('parquet', pathsOf(exp))).toMatchObject(wholeTable(BIG_ROWS));
    } finally {
      await fresh.close();
    }
  }, 90_000);

  it('20 exports on 3 workers all complete, every file read back whole', async () => {
    workers.push(await startWorkerProcess(redis.url));
    const formats = Array.from({ length: 20 }, (_, i) => (['csv', 'jsonl', 'parquet', 'avro'] as const)[i % 4]);
    const table = join(dir, 'tables', 'small');
    const exps = await Promise.all(formats.map((format, i) => exporter.create(table, { format, out: join(dir, 'twenty', String(i)), shardRows: 50_000 })));
    const done = await Promise.all(exps.map((e) => exporter.done(e.id, 90_000)));
    expect(done.map((e) => e.status)).toEqual(formats.map(() => 'completed'));
    const summaries = await readSummaries(done.map((e) => [e.format, pathsOf(e)]));
    for (const s of summaries) expect(s).toMatchObject(wholeTable(SMALL_ROWS));
    expect(done.map((e) => e.fileCount)).toEqual(formats.map((f) => (f === 'parquet' || f === 'avro' ? 2 : 1)));
  }, 120_000);

  it('Arrow IPC files are cut at record batches: a dataset of them exported to csv and parquet whole', async () => {
    const table = join(dir, 'tables', 'ipc');
    await writeTable(table, 2, 50_000, 10_000, 'ipc', 'ipc');
    const exps = await Promise.all(['csv', 'parquet'].map((format) => exporter.create(table, { format, out: join(dir, 'ipc-out', format), shardRows: 20_000 })));
    const done = await Promise.all(exps.map((e) => exporter.done(e.id, 30_000)));
    expect(done.map((e) => [e.status, e.errorMessage, e.fileCount])).toEqual([['completed', null, 1], ['completed', null, 6]]);
    const summaries = await readSummaries(done.map((e) => [e.format, pathsOf(e)]));
    for (const s of summaries) expect(s).toMatchObject(wholeTable(SMALL_ROWS));
  }, 30_000);

  it('a dataset directory is one table: its files in name order, shards never across two files; status and progress events', async () => {
    const out = join(dir, 'dataset');
    const statuses: string[] = [];
    const progress: number[] = [];
    const listening = new DistributedExporter({ redis: redis.url });
    listening.on('status', (e: Export, status: string) => statuses.push(`${e.id}:${status}`));
    listening.on('progress', (_e: Export, snap: { percentCompleted: number }) => progress.push(snap.percentCompleted));
    await listening.watch();
    const exp = await exporter.done((await exporter.create(join(dir, 'tables', 'small'), { format: 'csv', out, shardRows: 1_000_000 })).id, 30_000);
    for (const until = Date.now() + 5_000; statuses.length < 2 && Date.now() < until;) await sleep(20);
    await listening.close();
    expect(statuses).toEqual([`${exp.id}:running`, `${exp.id}:completed`]);
    expect(progress.length).toBeGreaterThan(0);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(exp.status).toBe('completed');
    expect(exp.files.map((f) => [f.name, f.rows])).toEqual([['small.csv', SMALL_ROWS]]);
    const copy = join(dir, 'copy.csv');
    await copyFile(exp.files[0].path as string, copy);
    expect(await readSummary('csv', [copy])).toMatchObject({ ...wholeTable(SMALL_ROWS), headers: 1 });
  }, 30_000);
});
