import { symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availableFormats, createServer, FORMATS, type ExportJSON } from '../../src/index.js';
import { call, createExport, download, isFinished, pollExport, rawGet, startServer, writeSurvey, type Harness } from './helpers.js';

interface ErrorBody { error: { status: number; message: string } }

function expectError(reply: { status: number; json: unknown }, status: number, message?: RegExp): void {
  expect(reply.status).toBe(status);
  expect(reply.json).toMatchObject({ error: { status } });
  if (message) expect((reply.json as ErrorBody).error.message).toMatch(message);
}

describe('server: refusals', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startServer();
    // A table just outside --tables, and a link to it inside: neither may ever be reached.
    await writeSurvey(join(h.root, 'outside.arrow'));
    await symlink(join(h.root, 'outside.arrow'), join(h.tables, 'linked.arrow'));
    await writeFile(join(h.tables, 'notes.txt'), 'not a table');
  });
  afterAll(async () => { await h?.server.close(); });

  const BAD_BODIES: [string, string | object, RegExp][] = [
    ['invalid JSON', '{"format": "csv"', /not valid JSON/],
    ['an array', '[1, 2]', /JSON object/],
    ['a string', '"csv"', /JSON object/],
    ['a number format', { format: 42 }, /"format" must be a string/],
    ['a text maxFileSize', { format: 'csv', maxFileSize: 'big' }, /"maxFileSize" must be a positive integer/],
    ['a negative maxFileSize', { format: 'csv', maxFileSize: -1 }, /"maxFileSize"/],
    ['a fractional maxFileSize', { format: 'csv', maxFileSize: 1.5 }, /"maxFileSize"/],
    // Below the floor (issue #11: maxFileSize 1 made 99,969 files of one table).
    ['a maxFileSize below 1 MiB', { format: 'csv', maxFileSize: 1 }, /"maxFileSize" must be at least 1048576 bytes \(1 MiB\), got 1/],
  ];
  for (const [what, body, message] of BAD_BODIES) {
    it(`400 for a body that is ${what}`, async () => {
      expectError(await call(h.url, 'POST', '/tables/survey/exports', body), 400, message);
    });
  }

  it('413 for a body too large to be an export request', async () => {
    expectError(await call(h.url, 'POST', '/tables/survey/exports', { format: 'csv', pad: 'x'.repeat(100_000) }), 413);
  });

  it('400 for an unknown format, naming the formats this server writes', async () => {
    const reply = await call(h.url, 'POST', '/tables/survey/exports', { format: 'xlsx' });
    expectError(reply, 400, /unknown format "xlsx"/);
    for (const format of availableFormats()) expect((reply.json as ErrorBody).error.message).toContain(format);
  });

  const missing = FORMATS.filter((f) => !availableFormats().includes(f));
  it.skipIf(missing.length === 0)('400 for a format of the spec that is not available yet', async () => {
    expectError(await call(h.url, 'POST', '/tables/survey/exports', { format: missing[0] }), 400, /not available/);
  });

  it('404 for unknown tables, on every table route', async () => {
    expectError(await call(h.url, 'GET', '/tables/nope'), 404, /no table "nope"/);
    expectError(await call(h.url, 'GET', '/tables/nope/variables'), 404);
    expectError(await call(h.url, 'POST', '/tables/nope/exports', { format: 'csv' }), 404);
    // Names are file names without their extension; other files are not tables.
    expectError(await call(h.url, 'GET', '/tables/survey.arrow'), 404);
    expectError(await call(h.url, 'GET', '/tables/notes'), 404);
  });

  const PATH_REFS = [
    '%2e%2e%2fetc%2fpasswd', '..%2Fetc%2Fpasswd', '..%2Foutside', '%2e%2e%2foutside', '..%5Coutside',
    '%2Fetc%2Fpasswd', encodeURIComponent('C:\\Windows\\win.ini'), 'linked', 'outside',
  ];
  for (const ref of PATH_REFS) {
    it(`404 for the path-like ref ${ref}, on every table route`, async () => {
      expectError(await call(h.url, 'GET', `/tables/${ref}`), 404);
      expectError(await call(h.url, 'GET', `/tables/${ref}/variables`), 404);
      expectError(await call(h.url, 'POST', `/tables/${ref}/exports`, { format: 'csv' }), 404);
    });
  }

  it('404 for refs with literal dot segments and absolute paths, sent without normalization', async () => {
    // fetch would resolve these dot segments (%2e too) before sending; node:http sends them as they are.
    const paths = [
      '/api/v1/tables/../etc/passwd', '/api/v1/tables/../../outside', '/api/v1/tables//etc/passwd',
      '/api/v1/tables/../../../../etc/passwd/variables', '/api/v1/tables/%2e%2e', '/api/v1/tables/%2e%2e/variables',
      '/api/v1/tables/./variables', '/api/v1/tables/..%2f..%2foutside/variables',
    ];
    for (const path of paths) {
      const reply = await rawGet(h.url, path);
      expect(reply.status, path).toBe(404);
      expect(JSON.parse(reply.body)).toMatchObject({ error: { status: 404 } });
    }
    expect((await rawGet(h.url, '/api/v1/tables/%E0%A4%A')).status).toBe(400);
  });

  it('404 for unknown exports and parts; 400 for a filePart that is not a number', async () => {
    expectError(await call(h.url, 'GET', '/exports/00000000-0000-0000-0000-000000000000'), 404);
    expectError(await call(h.url, 'GET', '/exports/..%2F..%2Ftables'), 404);
    expectError(await call(h.url, 'POST', '/exports/nope/cancel'), 404);
    expect((await download(h.url, 'nope', 0)).status).toBe(404);
    const done = await pollExport(h.url, (await createExport(h.url, 'survey', { format: 'csv' })).id, isFinished);
    const part = await download(h.url, done.id, 1);
    expect(part.status).toBe(404);
    expect(JSON.parse(part.bytes.toString('utf8')).error.message).toMatch(/filePart 1 does not exist/);
    for (const bad of ['-1', 'abc', '1.5', '']) {
      expectError(await call(h.url, 'GET', `/exports/${done.id}/download?filePart=${bad}`), 400, /filePart/);
    }
  });

  it('404 for unknown paths and 405 for a wrong method, as JSON', async () => {
    expectError(await call(h.url, 'GET', '/nothing'), 404);
    expectError(await call(h.url, 'GET', '/api/v2/tables/survey'), 404);
    const reply = await call(h.url, 'DELETE', '/tables/survey');
    expectError(reply, 405);
    expect(reply.headers.get('allow')).toBe('GET, HEAD');
    expectError(await call(h.url, 'GET', '/tables/survey/exports'), 405);
  });
});

describe('server: token', () => {
  let h: Harness;
  beforeAll(async () => { h = await startServer({ token: 's3cret-token' }); });
  afterAll(async () => { await h?.server.close(); });

  const WRONG: Record<string, string>[] = [
    {}, { Authorization: 'Bearer wrong' }, { Authorization: 'Bearer s3cret' }, { Authorization: 'Bearer s3cret-token2' },
    { Authorization: 'Bearer s3cret-token extra' }, { Authorization: 'Basic czNjcmV0LXRva2Vu' }, { Authorization: 's3cret-token' },
  ];
  it('401 without the token, with a wrong one or another scheme, on every route', async () => {
    for (const headers of WRONG) {
      const reply = await call(h.url, 'GET', '/tables/survey', undefined, headers);
      expectError(reply, 401);
      expect(reply.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expectError(await call(h.url, 'POST', '/tables/survey/exports', { format: 'csv' }, headers), 401);
      expectError(await call(h.url, 'GET', '/exports/00000000-0000-0000-0000-000000000000', undefined, headers), 401);
      // Unknown paths too: without the token the server tells nothing about itself.
      expectError(await call(h.url, 'GET', '/nothing', undefined, headers), 401);
    }
  });

  it('accepts the right token on every route', async () => {
    const auth = { Authorization: 'Bearer s3cret-token' };
    expect((await call(h.url, 'GET', '/tables/survey', undefined, auth)).status).toBe(200);
    expect((await call(h.url, 'GET', '/tables/survey/variables', undefined, { Authorization: 'bearer s3cret-token' })).status).toBe(200);
    const created = await createExport(h.url, 'survey', { format: 'csv' }, auth);
    const done: ExportJSON = await pollExport(h.url, created.id, isFinished, 20_000, auth);
    expect(done.status).toBe('completed');
    expect((await download(h.url, done.id, 0, auth)).status).toBe(200);
    expect((await download(h.url, done.id, 0)).status).toBe(401);
  });

  it('refuses a token that cannot be sent as a bearer token', () => {
    expect(() => createServer({ tables: h.tables, data: h.data, token: 'with space' })).toThrow(/token/);
  });
});
