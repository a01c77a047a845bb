/**
 * Issue #11 item 3: what a web page could make a server on this machine do. Browsers send a
 * cross-origin text/plain POST without a preflight, and a DNS-rebinding page reaches 127.0.0.1
 * under its own host name; neither may create an export or read an answer.
 */
import { readdir } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, ServerConfigError } from '../../src/index.js';
import { isLoopbackHost } from '../../src/server/guards.js';
import { tempDir } from '../helpers/batches.js';
import { call, startServer, type Harness } from './helpers.js';
import { startCli, stop } from './serve-process.js';

interface Raw { status: number; body: string }

/** A request with exactly these headers (fetch would add or forbid some, such as Host and Origin). */
function send(url: string, method: string, path: string, headers: Record<string, string>, body = ''): Promise<Raw> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path: `/api/v1${path}`, method, headers: { ...headers, 'Content-Length': String(Buffer.byteLength(body)) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('server: requests a browser page could forge', () => {
  let h: Harness;
  let port: string;
  beforeAll(async () => {
    h = await startServer({ allowedOrigins: ['https://app.example.org'] });
    port = new URL(h.url).port;
  });
  afterAll(async () => { await h?.server.close(); });

  const exportsMade = async (): Promise<number> => (await readdir(h.data).catch(() => [])).length;

  it('answers a cross-origin text/plain POST (no preflight in a browser) 403 and creates no export', async () => {
    const before = await exportsMade();
    const forged = await send(h.url, 'POST', '/tables/survey/exports', { Host: `127.0.0.1:${port}`, Origin: 'https://evil.example', 'Content-Type': 'text/plain' }, '{"format":"csv"}');
    expect(forged.status).toBe(403);
    expect(JSON.parse(forged.body).error.message).toContain('https://evil.example');
    // Without an Origin (a form post from a sandboxed page sends "null"), the body's type alone refuses it.
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const plain = await send(h.url, 'POST', '/tables/survey/exports', { Host: `127.0.0.1:${port}`, 'Content-Type': type }, '{"format":"csv"}');
      expect(plain.status, type).toBe(415);
    }
    expect((await send(h.url, 'POST', '/tables/survey/exports', { Host: `127.0.0.1:${port}`, Origin: 'null', 'Content-Type': 'text/plain' }, '{}')).status).toBe(403);
    expect(await exportsMade()).toBe(before);
  });

  it('answers 403 to a foreign Origin on every route, and serves an allowed origin', async () => {
    for (const [method, path] of [['GET', '/tables/survey'], ['GET', '/tables/survey/variables'], ['GET', '/exports/x']]) {
      expect((await send(h.url, method, path, { Host: `127.0.0.1:${port}`, Origin: 'http://127.0.0.1.evil.example' })).status, path).toBe(403);
    }
    const allowed = await send(h.url, 'POST', '/tables/survey/exports', { Host: `localhost:${port}`, Origin: 'https://app.example.org', 'Content-Type': 'application/json; charset=utf-8' }, '{"format":"csv"}');
    expect(allowed.status).toBe(200);
  });

  it('without a token, answers only loopback Host names (DNS rebinding)', async () => {
    for (const host of [`evil.example:${port}`, 'evil.example', `127.0.0.1.nip.io:${port}`, `10.0.0.5:${port}`, 'localhost:80:81']) {
      const reply = await send(h.url, 'GET', '/tables/survey', { Host: host });
      expect(reply.status, host).toBe(403);
      expect(reply.body).not.toContain('respondent_id');
    }
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, 'localhost', `[::1]:${port}`, `127.1.2.3:${port}`, `app.localhost:${port}`]) {
      expect((await send(h.url, 'GET', '/tables/survey', { Host: host })).status, host).toBe(200);
    }
    expect(['localhost', '127.0.0.1', '::1', '[::1]', 'a.localhost'].every(isLoopbackHost)).toBe(true);
    expect(['0.0.0.0', '::', '10.0.0.1', 'localhost.evil.example', '127.0.0.1.evil.example'].some(isLoopbackHost)).toBe(false);
  });

  it('with a token, answers any Host (the token is what a page cannot send)', async () => {
    const withToken = await startServer({ token: 't0ken' });
    try {
      const wanted = await send(withToken.url, 'GET', '/tables/survey', { Host: 'exports.example.org', Authorization: 'Bearer t0ken' });
      expect(wanted.status).toBe(200);
      expect((await send(withToken.url, 'GET', '/tables/survey', { Host: 'exports.example.org' })).status).toBe(401);
    } finally {
      await withToken.server.close();
    }
  });

  it('refuses to listen on a non-loopback address without a token: the library throws, the CLI exits 2', async () => {
    const root = await tempDir('te-public-');
    const server = createServer({ tables: root, data: join(root, 'data') });
    await expect(server.listen(0, '0.0.0.0')).rejects.toBeInstanceOf(ServerConfigError);
    await server.close();
    await expect(startCli(['--tables', root, '--data', join(root, 'data'), '--port', '0', '--host', '0.0.0.0'])).rejects.toThrow(/exited with 2: .*without a token/s);
    const withToken = await startCli(['--tables', root, '--data', join(root, 'data'), '--port', '0', '--host', '0.0.0.0'], { TABULAR_EXPORT_TOKEN: 'x' });
    expect(await stop(withToken.child, 'SIGTERM')).toBe(0);
    expect((await call(h.url, 'GET', '/tables/survey')).status).toBe(200);
  });
});
