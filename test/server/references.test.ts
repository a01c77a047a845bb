/**
 * Issue #10: tables referenced as the platform writes them. `--tables` holds
 * `<owner>/<dataset>/<table>.<ext>` and flat files of the default owner and dataset; references
 * are matched ignoring case, characters outside [A-Za-z0-9_] as `_`, percent-encoded or not,
 * with version tags and reference ids; nothing outside the tables directory is ever reached.
 */
import { createHash } from 'node:crypto';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeName, parseReference } from '../../src/server/references.js';
import { call, createExport, download, isFinished, pollExport, rawGet, startServer, writeSurvey, type Harness } from './helpers.js';

interface Base { id: string; name: string; qualifiedReference: string; uri: string }

describe('references', () => {
  it('normalizes names as the platform matches them', () => {
    expect(normalizeName('My Table')).toBe('my_table');
    expect(normalizeName('MY-TABLE')).toBe('my_table');
    expect(normalizeName('naïve 漢')).toBe('na_ve__');
    expect(normalizeName('a.b:c')).toBe('a_b_c');
  });

  it('parses owner.dataset[:version][:referenceId].table[:referenceId], and refuses what cannot name a table', () => {
    expect(parseReference('Demo_Owner.My ds:v1_0.My Table:abc1')).toMatchObject({
      owner: 'demo_owner', dataset: 'my_ds', table: 'my_table', version: 'v1_0', tableReferenceId: 'abc1',
    });
    expect(parseReference('o.d:next:x9.t')).toMatchObject({ dataset: 'd', version: 'next', tableReferenceId: null });
    expect(parseReference('o.d:k2p4.t')).toMatchObject({ dataset: 'd', version: null });
    expect(parseReference('d.t')).toMatchObject({ owner: null, dataset: 'd', table: 't' });
    expect(parseReference('t')).toMatchObject({ owner: null, dataset: null, table: 't' });
    for (const bad of ['', 'a.b.c.d', 'a..c', '.b.c', 'a.b.', 'o:x.d.t', 'o.d.t:a:b', ':x', 'o.d.:x']) expect(parseReference(bad), bad).toBeNull();
  });
});

describe('server: tables by reference', () => {
  let h: Harness;
  const get = async (ref: string): Promise<{ status: number; json: unknown }> => call(h.url, 'GET', `/tables/${ref}`);

  beforeAll(async () => {
    h = await startServer();
    const acme = join(h.tables, 'Acme Corp', 'Survey 2024');
    await mkdir(acme, { recursive: true });
    await writeSurvey(join(acme, 'Wave-1.arrow'));
    // Two tables whose names match one reference once normalized: ambiguous.
    await writeSurvey(join(acme, 'wave_2.arrow'));
    await writeSurvey(join(acme, 'WAVE 2.arrow'));
    // The default dataset as a directory too, beside the flat files.
    await mkdir(join(h.tables, 'local', 'default'), { recursive: true });
    await writeSurvey(join(h.tables, 'local', 'default', 'nested.arrow'));
    // Links and hidden entries are not tables, whatever they point to; nor is anything deeper.
    await writeSurvey(join(h.root, 'outside.arrow'));
    await mkdir(join(h.root, 'elsewhere', 'ds'), { recursive: true });
    await writeSurvey(join(h.root, 'elsewhere', 'ds', 'secret.arrow'));
    await symlink(join(h.root, 'outside.arrow'), join(acme, 'linked.arrow'));
    await symlink(join(h.root, 'elsewhere'), join(h.tables, 'linkowner'));
    await mkdir(join(h.tables, '.hidden', 'ds'), { recursive: true });
    await writeSurvey(join(h.tables, '.hidden', 'ds', 'table.arrow'));
    await mkdir(join(acme, 'deeper'), { recursive: true });
    await writeFile(join(acme, 'deeper', 'x.arrow'), 'not read');
  });
  afterAll(async () => { await h?.server.close(); });

  it('answers owner.dataset.table with the qualified reference, uri and id of the file in <owner>/<dataset>/', async () => {
    const reply = await get('acme_corp.survey_2024.wave_1');
    expect(reply.status).toBe(200);
    const base = reply.json as Base;
    expect(base).toMatchObject({ name: 'Wave-1', qualifiedReference: 'Acme Corp.Survey 2024.Wave-1', numRows: 1000 });
    expect(base.uri).toBe(`/tables/${encodeURIComponent('Acme Corp.Survey 2024.Wave-1')}`);
    // The uri, the id, and every spelling the platform accepts name the same table.
    const spellings = [
      base.uri.slice('/tables/'.length), base.id, 'ACME_CORP.SURVEY_2024.WAVE_1', 'Acme%20Corp.Survey%202024.Wave-1',
      encodeURIComponent('Acme Corp.Survey 2024:v1_0.Wave-1'), 'acme_corp.survey_2024:current.wave_1', 'acme_corp.survey_2024:next:k3p9.wave_1',
      `acme_corp.survey_2024.wave_1:${base.id}`, `acme_corp.survey_2024.renamed_since:${base.id}`,
    ];
    for (const ref of spellings) expect((await get(ref)).json, ref).toEqual(base);
    const variables = await call(h.url, 'GET', '/tables/acme_corp.survey_2024.wave_1/variables');
    expect((variables.json as { results: unknown[] }).results).toHaveLength(11);
  });

  it('keeps flat files as the default owner and dataset: by name, by dataset.table and by local.default.table', async () => {
    const flat = (await get('survey')).json as Base;
    expect(flat.qualifiedReference).toBe('local.default.survey');
    expect((await get('default.survey')).json).toEqual(flat);
    expect((await get('local.default.survey')).json).toEqual(flat);
    expect(((await get('local.default.nested')).json as Base).qualifiedReference).toBe('local.default.nested');
    expect((await get('nested')).status).toBe(200);
  });

  it('answers 409 naming every table a reference matches; the id or the reference id picks one', async () => {
    const reply = await get('acme_corp.survey_2024.wave_2');
    expect(reply.status).toBe(409);
    const message = (reply.json as { error: { message: string } }).error.message;
    expect(message).toContain('Acme Corp.Survey 2024.wave_2 (wave_2.arrow');
    expect(message).toContain('Acme Corp.Survey 2024.WAVE 2 (WAVE 2.arrow');
    const ids = [...message.matchAll(/id ([0-9a-f]{16})/g)].map((m) => m[1]);
    expect(ids).toHaveLength(2);
    for (const id of ids) {
      expect(((await get(id)).json as Base).id).toBe(id);
      expect(((await get(`acme_corp.survey_2024.wave_2:${id}`)).json as Base).id).toBe(id);
    }
  });

  it('never reaches outside --tables: links, hidden and deeper entries, dot segments and absolute paths are no table', async () => {
    for (const ref of ['acme_corp.survey_2024.linked', 'linkowner.ds.secret', '_hidden.ds.table', 'acme_corp.survey_2024.x', 'acme_corp.deeper.x',
      '..%2Foutside', '..%2Felsewhere.ds.secret', '%2E%2E.%2E%2E.outside', encodeURIComponent(join(h.root, 'outside')), 'a.b.c.d']) {
      expect((await get(ref)).status, ref).toBe(404);
    }
    for (const path of ['/api/v1/tables/../elsewhere/ds/secret', '/api/v1/tables/acme_corp.survey_2024/../../outside']) {
      expect((await rawGet(h.url, path)).status, path).toBe(404);
    }
  });

  it('exports by qualified reference: files named after the table, the record keeps its path below --tables', async () => {
    const done = await pollExport(h.url, (await createExport(h.url, encodeURIComponent('Acme Corp.Survey 2024:v1_0.Wave-1'), { format: 'csv' })).id, isFinished);
    expect(done).toMatchObject({ status: 'completed', fileCount: 1, table: { name: 'Wave-1', qualifiedReference: 'Acme Corp.Survey 2024.Wave-1' } });
    const part = await download(h.url, done.id, 0);
    expect(part.headers.get('content-disposition')).toContain('filename="Wave-1.csv"');
  });
});

describe('server: answers the platform\'s client reads', () => {
  let h: Harness;
  beforeAll(async () => { h = await startServer({ maxFileSize: 1_048_576 }); });
  afterAll(async () => { await h?.server.close(); });

  it('puts status and error_description at the top of error bodies too, beside {"error": {status, message}}', async () => {
    const reply = await call(h.url, 'GET', '/tables/acme.ds.nope');
    expect(reply.status).toBe(404);
    const message = 'no table "acme.ds.nope" in the tables directory';
    expect(reply.json).toEqual({ error: { status: 404, message }, status: 404, error_description: message });
  });

  it('sends x-redivis-size and x-redivis-hash (md5, base64) with every download, and applies the server\'s default maxFileSize', async () => {
    const done = await pollExport(h.url, (await createExport(h.url, 'large', { format: 'csv' })).id, isFinished);
    expect(done.fileCount).toBeGreaterThan(1);
    for (let part = 0; part < (done.fileCount ?? 0); part++) {
      const got = await download(h.url, done.id, part);
      expect(got.headers.get('x-redivis-size')).toBe(String(got.bytes.byteLength));
      expect(got.headers.get('x-redivis-hash')).toBe(`md5=${createHash('md5').update(got.bytes).digest('base64')}`);
      expect(got.bytes.byteLength).toBeLessThanOrEqual(1_048_576);
    }
    const ranged = await download(h.url, done.id, 0, { Range: 'bytes=10-' });
    expect(ranged.status).toBe(206);
    expect(Number(ranged.headers.get('x-redivis-size'))).toBe(ranged.bytes.byteLength + 10);
    // A request's own maxFileSize still wins.
    const whole = await pollExport(h.url, (await createExport(h.url, 'large', { format: 'csv', maxFileSize: 100_000_000 })).id, isFinished);
    expect(whole.fileCount).toBe(1);
  });
});
