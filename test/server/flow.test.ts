import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availableFormats, exportTable, fromIPC, type ExportJSON } from '../../src/index.js';
import { tempDir } from '../helpers/batches.js';
import { call, createExport, download, FIXED_OPTIONS, isFinished, md5Digest, pollExport, startServer, type Harness } from './helpers.js';

const EXPORT_KEYS = ['kind', 'uri', 'id', 'createdAt', 'status', 'errorMessage', 'percentCompleted', 'format', 'size', 'fileCount', 'table'];

/** What the library writes for the same table and request: the bytes the server must serve. */
async function libraryFiles(input: string, name: string, format: string, maxFileSize?: number): Promise<Map<string, Buffer>> {
  const out = await tempDir('te-server-lib-');
  const exp = await exportTable(fromIPC(input), { ...FIXED_OPTIONS, format, out, name, maxFileSize });
  if (exp.status !== 'completed') throw new Error(`library export ${format}: ${exp.status}: ${exp.errorMessage}`);
  const files = new Map<string, Buffer>();
  for (const f of exp.files) files.set(f.name, await readFile(f.path ?? join(out, f.name)));
  return files;
}

/** Downloads every part and checks its headers; returns the parts by the name Content-Disposition gives. */
async function downloadAll(h: Harness, exp: ExportJSON): Promise<Map<string, Buffer>> {
  const parts = new Map<string, Buffer>();
  for (let part = 0; part < (exp.fileCount ?? 0); part++) {
    const got = await download(h.url, exp.id, part);
    expect(got.status).toBe(200);
    expect(got.headers.get('content-length')).toBe(String(got.bytes.byteLength));
    expect(got.headers.get('accept-ranges')).toBe('bytes');
    expect(got.headers.get('content-encoding')).toBeNull();
    expect(got.headers.get('content-type')).toBeTruthy();
    expect(got.headers.get('content-digest')).toBe(md5Digest(got.bytes));
    const name = /filename="([^"]+)"/.exec(got.headers.get('content-disposition') ?? '')?.[1];
    expect(name).toBeDefined();
    parts.set(name as string, got.bytes);
  }
  return parts;
}

describe('server: the whole flow', () => {
  let h: Harness;
  beforeAll(async () => { h = await startServer(); });
  afterAll(async () => { await h?.server.close(); });

  it('describes a table and its variables', async () => {
    const table = await call(h.url, 'GET', '/tables/Survey');
    expect(table.status).toBe(200);
    // A flat file of --tables belongs to the default owner and dataset (issue #10).
    expect(table.json).toMatchObject({ kind: 'table', name: 'survey', qualifiedReference: 'local.default.survey', numRows: 1000, variableCount: 11 });
    const base = table.json as { id: string; uri: string; numBytes: number; createdAt: number; updatedAt: number };
    expect(base.uri).toBe('/tables/local.default.survey');
    expect(Number.isInteger(base.createdAt) && Number.isInteger(base.updatedAt) && base.numBytes > 0).toBe(true);
    // The uri and the id name the table too.
    expect((await call(h.url, 'GET', base.uri)).json).toEqual(table.json);
    expect((await call(h.url, 'GET', `/tables/${base.id}`)).json).toEqual(table.json);
    const variables = await call(h.url, 'GET', '/tables/survey/variables');
    expect(variables.status).toBe(200);
    const results = (variables.json as { results: { name: string; type: string; label: string | null }[] }).results;
    expect(results).toHaveLength(11);
    expect(results[0]).toMatchObject({ name: 'respondent_id', type: 'integer', label: 'Respondent ID' });
  });

  for (const format of availableFormats()) {
    it(`${format}: create, poll until completed, download every part: the library's bytes, MD5 as sent`, async () => {
      // csv and jsonl split when asked: several parts of the large table at the smallest
      // maxFileSize allowed (1 MiB, issue #11); the others are one file of the survey here.
      const split = format === 'csv' || format === 'jsonl';
      const table = split ? 'large' : 'survey';
      const maxFileSize = split ? 1_048_576 : undefined;
      const created = await createExport(h.url, table, { format, maxFileSize });
      expect(Object.keys(created)).toEqual(EXPORT_KEYS);
      expect(created).toMatchObject({ status: 'queued', format, size: null, fileCount: null, percentCompleted: 0, errorMessage: null });
      expect(created.table).toMatchObject({ kind: 'table', name: table, numRows: split ? 40_000 : 1000 });
      const done = await pollExport(h.url, created.id, (e) => {
        expect(typeof e.percentCompleted).toBe('number');
        return isFinished(e);
      });
      expect(done).toMatchObject({ status: 'completed', percentCompleted: 100, errorMessage: null });
      const expected = await libraryFiles(join(h.tables, `${table}.arrow`), table, format, maxFileSize);
      expect(done.fileCount).toBe(expected.size);
      if (maxFileSize) expect(done.fileCount).toBeGreaterThan(1);
      const got = await downloadAll(h, done);
      expect([...got.keys()]).toEqual([...expected.keys()]);
      for (const [name, bytes] of expected) expect(got.get(name)?.equals(bytes), name).toBe(true);
      expect(done.size).toBe([...got.values()].reduce((n, b) => n + b.byteLength, 0));
    });
  }

  it('accepts ndjson for jsonl and defaults to csv', async () => {
    expect((await createExport(h.url, 'survey', { format: 'ndjson' })).format).toBe('jsonl');
    const reply = await call(h.url, 'POST', '/tables/survey/exports');
    expect(reply.status).toBe(200);
    expect((reply.json as ExportJSON).format).toBe('csv');
  });

  it('resumes a half-downloaded part with Range: 206, Content-Range, and the halves make the file', async () => {
    const done = await pollExport(h.url, (await createExport(h.url, 'survey', { format: 'csv' })).id, isFinished);
    const whole = await download(h.url, done.id, 0);
    const size = whole.bytes.byteLength;
    const half = Math.floor(size / 2);
    const first = await download(h.url, done.id, 0, { Range: `bytes=0-${half - 1}` });
    expect(first.status).toBe(206);
    expect(first.headers.get('content-range')).toBe(`bytes 0-${half - 1}/${size}`);
    const rest = await download(h.url, done.id, 0, { Range: `bytes=${half}-`, 'If-Range': whole.headers.get('etag') ?? '' });
    expect(rest.status).toBe(206);
    expect(rest.headers.get('content-range')).toBe(`bytes ${half}-${size - 1}/${size}`);
    expect(rest.headers.get('content-length')).toBe(String(size - half));
    const joined = Buffer.concat([first.bytes, rest.bytes]);
    expect(joined.equals(whole.bytes)).toBe(true);
    // The whole file's MD5 travels as Repr-Digest on a 206 (its content is only the range).
    expect(rest.headers.get('repr-digest')).toBe(md5Digest(joined));
    expect(rest.headers.get('repr-digest')).toBe(whole.headers.get('content-digest'));
    const suffix = await download(h.url, done.id, 0, { Range: 'bytes=-10' });
    expect(suffix.status).toBe(206);
    expect(suffix.bytes.equals(whole.bytes.subarray(size - 10))).toBe(true);
    // A stale If-Range gets the whole file; a range past the end is 416.
    expect((await download(h.url, done.id, 0, { Range: 'bytes=5-', 'If-Range': '"stale"' })).status).toBe(200);
    const beyond = await download(h.url, done.id, 0, { Range: `bytes=${size}-` });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get('content-range')).toBe(`bytes */${size}`);
  });

  it('serves 50 parallel downloads of the same parts, each complete and matching its MD5', async () => {
    const done = await pollExport(h.url, (await createExport(h.url, 'large', { format: 'jsonl', maxFileSize: 1_048_576 })).id, isFinished);
    const count = done.fileCount ?? 0;
    expect(count).toBeGreaterThan(1);
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => download(h.url, done.id, i % count)));
    const digests = new Set<string>();
    for (const r of results) {
      expect(r.status).toBe(200);
      expect(r.headers.get('content-length')).toBe(String(r.bytes.byteLength));
      expect(r.headers.get('content-digest')).toBe(md5Digest(r.bytes));
      digests.add(createHash('md5').update(r.bytes).digest('hex'));
    }
    expect(digests.size).toBe(count);
    expect(results.slice(0, count).reduce((n, r) => n + r.bytes.byteLength, 0)).toBe(done.size);
  });

  it('answers HEAD on a download with the headers and no body', async () => {
    const done = await pollExport(h.url, (await createExport(h.url, 'survey', { format: 'csv' })).id, isFinished);
    const res = await fetch(`${h.url}/exports/${done.id}/download?filePart=0`, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe(String(done.size));
    expect(res.headers.get('content-digest')).toMatch(/^md5=:[A-Za-z0-9+/]{22}==:$/);
    expect((await res.arrayBuffer()).byteLength).toBe(0);
  });
});
