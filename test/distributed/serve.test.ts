/**
 * `tabular-export serve --redis` with `tabular-export worker` processes (issue #13's acceptance):
 * a 1,000,000-row Parquet table of 10 row groups exported in all six formats with --shard-rows
 * 100000, one worker killed mid-export and the API process killed too (kill -9) and replaced by
 * a new one, which answers for the exports and serves their downloads. Every part is downloaded
 * over HTTP (its bytes checked against Content-Length and Content-Digest) and read back by the
 * independent readers. Then the same with --data s3://… (s3rver) for parquet and csv, DELETE
 * and --retention removing an export's objects and record.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExportJSON } from '../../src/index.js';
import { closeS3Clients, S3Store } from '../../src/store/index.js';
import { tempDir } from '../helpers/batches.js';
import { redisMissing, startRedis, type RedisServer } from '../services/redis.js';
import { startS3, type S3Server } from '../services/s3.js';
import { startCli, stop, type ServeProcess } from '../server/serve-process.js';
import { readSummaries, sleep, startWorkerProcess, stopWorker, wholeTable, writeTable, type WorkerProcess } from './fleet.js';

const ROWS = 1_000_000;
const FORMATS = ['csv', 'jsonl', 'parquet', 'avro', 'dta', 'sav'] as const;
const EXTENSIONS: Record<string, string> = { csv: 'csv', jsonl: 'jsonl', parquet: 'parquet', avro: 'avro', dta: 'dta', sav: 'sav' };

describe.skipIf(redisMissing !== null)('serve --redis with worker processes', () => {
  let redis: RedisServer;
  let s3: S3Server;
  let restoreEnv: () => void;
  let dir: string;
  const workers: WorkerProcess[] = [];
  const serves: ServeProcess[] = [];

  beforeAll(async () => {
    [redis, s3] = await Promise.all([startRedis(), startS3(['exports', 'tables'])]);
    restoreEnv = s3.useEnv();
    dir = await tempDir('te-dist-serve-');
    await writeTable(join(dir, 'tables'), 1, ROWS, 100_000, 'survey');
    workers.push(...await Promise.all([startWorkerProcess(redis.url, s3.env), startWorkerProcess(redis.url, s3.env)]));
  });

  afterAll(async () => {
    await Promise.all(serves.map((s) => stop(s.child, 'SIGKILL')));
    await Promise.all(workers.map((w) => stopWorker(w, 'SIGKILL')));
    closeS3Clients();
    restoreEnv?.();
    await Promise.all([redis?.stop(), s3?.stop()]);
  });

  async function serve(data: string, extra: string[] = [], tables = join(dir, 'tables')): Promise<ServeProcess> {
    const started = await startCli(['--redis', redis.url, '--tables', tables, '--data', data, '--shard-rows', '100000', '--port', '0', ...extra], s3.env);
    serves.push(started);
    return started;
  }

  async function call(api: string, path: string, init?: RequestInit): Promise<ExportJSON> {
    const res = await fetch(`${api}${path}`, init);
    const body = await res.json() as ExportJSON;
    if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(body)}`);
    return body;
  }

  const create = (api: string, format: string): Promise<ExportJSON> =>
    call(api, '/tables/local.default.survey-000/exports', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ format }) });

  /** Every part over HTTP into `into`, its bytes checked against the headers; the local paths in order. */
  async function download(api: string, exp: ExportJSON, into: string): Promise<string[]> {
    const paths: string[] = [];
    for (let part = 0; part < (exp.fileCount ?? 0); part++) {
      const res = await fetch(`${api}/exports/${exp.id}/download?filePart=${part}`);
      expect(res.status).toBe(200);
      const bytes = Buffer.from(await res.arrayBuffer());
      expect(bytes.length).toBe(Number(res.headers.get('content-length')));
      expect(res.headers.get('content-digest')).toBe(`md5=:${createHash('md5').update(bytes).digest('base64')}:`);
      const name = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1] as string;
      const path = join(into, `${exp.id}-${name}`);
      await writeFile(path, bytes);
      paths.push(path);
    }
    return paths;
  }

  it('six formats of a 1,000,000-row table, one worker and the API process killed (kill -9) mid-export: every row exactly once', async () => {
    let api = (await serve(join(dir, 'data'))).url;
    const created = await Promise.all(FORMATS.map((f) => create(api, f)));
    expect(created.map((e) => [e.format, e.status])).toEqual(FORMATS.map((f) => [f, 'queued']));
    const seen = created.map(() => [] as number[]);
    let killed = false;
    let now: ExportJSON[];
    for (;;) {
      now = await Promise.all(created.map((e) => call(api, `/exports/${e.id}`)));
      now.forEach((e, i) => seen[i].push(e.percentCompleted));
      if (!killed && now.reduce((n, e) => n + e.percentCompleted, 0) / now.length >= 15) {
        await stopWorker(workers[0], 'SIGKILL');
        await stop(serves[0].child, 'SIGKILL');
        api = (await serve(join(dir, 'data'))).url; // a new API process: everything it answers comes from Redis
        killed = true;
      }
      if (now.every((e) => e.status !== 'queued' && e.status !== 'running')) break;
      await sleep(200);
    }
    workers.splice(0, 1, await startWorkerProcess(redis.url, s3.env));
    expect(now.map((e) => [e.format, e.status, e.errorMessage, e.percentCompleted])).toEqual(FORMATS.map((f) => [f, 'completed', null, 100]));
    for (const series of seen) expect(series).toEqual([...series].sort((a, b) => a - b));
    expect(now.map((e) => e.fileCount)).toEqual(FORMATS.map((f) => (f === 'parquet' || f === 'avro' ? 10 : 1)));
    const local = await tempDir('te-dist-serve-get-');
    const files = await Promise.all(now.map((e) => download(api, e, local)));
    files.forEach((paths, i) => expect(paths.every((p) => p.endsWith(`.${EXTENSIONS[FORMATS[i]]}`))).toBe(true));
    const summaries = await readSummaries(now.map((e, i) => [e.format, files[i]]));
    summaries.forEach((s, i) => expect(s, FORMATS[i]).toMatchObject(wholeTable(ROWS)));
    expect(summaries[0].headers).toBe(1);
  }, 180_000);

  it('--data s3://…: parquet and csv exported into the bucket, a worker killed mid-export, downloaded through the API', async () => {
    const { url: api } = await serve('s3://exports/api');
    const created = await Promise.all(['parquet', 'csv'].map((f) => create(api, f)));
    for (;;) {
      const now = await Promise.all(created.map((e) => call(api, `/exports/${e.id}`)));
      if (now.some((e) => e.percentCompleted >= 20)) break;
      await sleep(100);
    }
    await stopWorker(workers[1], 'SIGKILL');
    workers.splice(1, 1, await startWorkerProcess(redis.url, s3.env)); // a new one, for the test after this one
    let now: ExportJSON[];
    do {
      await sleep(200);
      now = await Promise.all(created.map((e) => call(api, `/exports/${e.id}`)));
    } while (now.some((e) => e.status === 'queued' || e.status === 'running'));
    expect(now.map((e) => [e.status, e.errorMessage, e.fileCount])).toEqual([['completed', null, 10], ['completed', null, 1]]);
    const local = await tempDir('te-dist-serve-s3-');
    const summaries = await readSummaries(await Promise.all(now.map(async (e) => [e.format, await download(api, e, local)] as const)));
    expect(summaries[0]).toMatchObject(wholeTable(ROWS));
    expect(summaries[1]).toMatchObject({ ...wholeTable(ROWS), headers: 1 });
    // A range of a part in the bucket: 206, one ranged GET behind it.
    const res = await fetch(`${api}/exports/${now[1].id}/download?filePart=0`, { headers: { Range: 'bytes=0-2' } });
    expect([res.status, res.headers.get('content-range'), await res.text()]).toEqual([206, `bytes 0-2/${now[1].size}`, 'id,']);
    // DELETE: the export's objects and its record go.
    expect((await fetch(`${api}/exports/${now[0].id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await fetch(`${api}/exports/${now[0].id}`)).status).toBe(404);
    const left: string[] = [];
    for await (const { key } of new S3Store('s3://exports/api').list('')) left.push(key);
    expect(left.some((k) => k.startsWith(`${now[0].id}/`))).toBe(false);
    expect(left.filter((k) => k.startsWith(`${now[1].id}/`))).toEqual([`${now[1].id}/survey-000.csv`]);
    // --retention: an API process deletes what ended longer ago than that, files and record.
    const { url: sweeping } = await serve('s3://exports/api', ['--retention', '1s']);
    const deadline = Date.now() + 15_000;
    while ((await fetch(`${sweeping}/exports/${now[1].id}`)).status !== 404) {
      if (Date.now() > deadline) throw new Error('the export was not expired');
      await sleep(100);
    }
    const after: string[] = [];
    for await (const { key } of new S3Store('s3://exports/api').list('')) after.push(key);
    expect(after.filter((k) => k.startsWith(`${now[1].id}/`))).toEqual([]);
  }, 120_000);

  it('--tables s3://…: the tables of a bucket, referenced as in a directory, read by ranges', async () => {
    await pipeline(createReadStream(join(dir, 'tables', 'survey-000.parquet')), new S3Store('s3://tables/platform/Demo_Owner/Survey Data').openWrite('wave_1.parquet'));
    const { url: api } = await serve('s3://exports/from-bucket', [], 's3://tables/platform');
    const table = await (await fetch(`${api}/tables/Demo_Owner.Survey%20Data.wave_1`)).json() as { name: string; numRows: number; qualifiedReference: string };
    expect(table).toMatchObject({ name: 'wave_1', numRows: ROWS, qualifiedReference: 'Demo_Owner.Survey Data.wave_1' });
    const created = await call(api, '/tables/demo_owner.survey_data.wave_1/exports', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"format": "ndjson"}' });
    let exp = created;
    while (exp.status === 'queued' || exp.status === 'running') {
      await sleep(200);
      exp = await call(api, `/exports/${created.id}`);
    }
    expect([exp.format, exp.status, exp.errorMessage, exp.fileCount]).toEqual(['jsonl', 'completed', null, 1]);
    const [summary] = await readSummaries([['jsonl', await download(api, exp, await tempDir('te-dist-serve-bucket-'))]]);
    expect(summary).toMatchObject(wholeTable(ROWS));
  }, 60_000);
});
