/**
 * Issue #11 items 5, 6 and 9: parts are served and restored only as the regular files their
 * records describe (no links, same size and MD5); a part that shrinks mid-download cuts the
 * connection; answers never show server paths; slow requests, too many connections and a
 * SIGTERM during downloads are handled.
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, rename, symlink, truncate, writeFile } from 'node:fs/promises';
import { request, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hidePaths } from '../../src/server/http-io.js';
import { tempDir } from '../helpers/batches.js';
import { PROJECT_ROOT } from '../helpers/readers.js';
import { call, createExport, download, getExport, isFinished, pollExport, startServer, type Harness } from './helpers.js';
import { startCli, stop } from './serve-process.js';

/** Starts a GET of part 0 and resolves with the response once its headers are in, paused. */
function startDownload(url: string, id: string): Promise<IncomingMessage> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path: `/api/v1/exports/${id}/download?filePart=0` }, (res) => { res.pause(); resolve(res); });
    req.on('error', reject);
    req.end();
  });
}

/** Reads the rest of a response: the bytes, and whether it ended complete or was cut. */
function readRest(res: IncomingMessage): Promise<{ bytes: number; complete: boolean }> {
  return new Promise((resolve) => {
    let bytes = 0;
    res.on('data', (d: Buffer) => { bytes += d.length; });
    res.on('end', () => resolve({ bytes, complete: res.complete }));
    res.on('error', () => resolve({ bytes, complete: false }));
    res.on('aborted', () => resolve({ bytes, complete: false }));
    res.resume();
  });
}

describe('server: parts as their records describe them', () => {
  const servers: Harness[] = [];
  let big: string;
  beforeAll(async () => {
    big = join(await tempDir('te-big-'), 'big.arrows');
    await promisify(execFile)(process.execPath, [join(PROJECT_ROOT, 'bench', 'make-ipc.mjs'), '150000', big]);
  });
  afterAll(async () => { await Promise.all(servers.map((h) => h.server.close())); });

  it('refuses a part replaced by a symbolic link, and a changed part at restore', async () => {
    const h = await startServer();
    servers.push(h);
    const linked = await pollExport(h.url, (await createExport(h.url, 'survey', { format: 'csv' })).id, isFinished);
    const changed = await pollExport(h.url, (await createExport(h.url, 'survey', { format: 'jsonl' })).id, isFinished);
    // A link to another file of the same size in place of the part: never followed.
    const part = join(h.data, linked.id, 'survey.csv');
    const decoy = join(h.root, 'decoy.csv');
    await writeFile(decoy, Buffer.alloc(linked.size ?? 0, 'x'));
    await rename(part, `${part}.moved`);
    await symlink(decoy, part);
    const refused = await download(h.url, linked.id, 0);
    expect(refused.status).toBe(500);
    expect(refused.bytes.toString()).not.toContain('xxxx');
    // Same size, one byte changed: caught by the MD5 at restore.
    const jsonl = join(h.data, changed.id, 'survey.jsonl');
    const bytes = await readFile(jsonl);
    bytes[10] ^= 1;
    await writeFile(jsonl, bytes);
    await h.server.close();
    const next = await startServer({}, h);
    servers.push(next);
    for (const id of [linked.id, changed.id]) expect(await getExport(next.url, id)).toMatchObject({ status: 'failed', fileCount: null });
  });

  it('cuts the connection when a part shrinks while it is sent, rather than leave the client waiting', async () => {
    const h = await startServer({ createSource: undefined });
    servers.push(h);
    await writeFile(join(h.tables, 'big.arrows'), await readFile(big));
    const done = await pollExport(h.url, (await createExport(h.url, 'big', { format: 'csv' })).id, isFinished, 60_000);
    expect(done.size).toBeGreaterThan(4_000_000);
    const res = await startDownload(h.url, done.id);
    expect(Number(res.headers['content-length'])).toBe(done.size);
    await truncate(join(h.data, done.id, 'big.csv'), 1_000_000);
    const started = Date.now();
    const rest = await readRest(res);
    expect(rest.complete).toBe(false);
    expect(rest.bytes).toBeLessThan(done.size ?? 0);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('never shows a server path in an answer', async () => {
    expect(hidePaths('cannot read /srv/data/tables/t1.arrow under /srv/data', ['/srv/data/tables', '/srv/data'])).toBe('cannot read <tables>/t1.arrow under <data>');
    const h = await startServer();
    servers.push(h);
    await writeFile(join(h.tables, 'broken.arrow'), 'ARROW1\0\0not really');
    for (const path of ['/tables/broken', '/tables/broken/variables']) {
      const reply = await call(h.url, 'GET', path);
      expect(reply.status).toBeGreaterThanOrEqual(400);
      expect(JSON.stringify(reply.json)).not.toContain(h.root);
    }
  });
});

describe('server: limits', () => {
  it('closes a request whose body does not arrive in time', async () => {
    const h = await startServer({ requestTimeout: 1000 });
    try {
      const { port } = new URL(h.url);
      const socket = connect(Number(port), '127.0.0.1');
      socket.write('POST /api/v1/tables/survey/exports HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{');
      const trickle = setInterval(() => { if (!socket.destroyed) socket.write(' '); }, 300);
      const started = Date.now();
      const answer = await new Promise<string>((resolve) => {
        let text = '';
        socket.on('data', (d: Buffer) => { text += d.toString(); });
        socket.on('close', () => resolve(text));
      });
      clearInterval(trickle);
      expect(Date.now() - started).toBeLessThan(4000);
      expect(answer).toMatch(/^HTTP\/1\.1 408/);
    } finally {
      await h.server.close();
    }
  });

  it('serves at most maxConnections connections at once', async () => {
    const h = await startServer({ maxConnections: 2 });
    try {
      const { port } = new URL(h.url);
      const sockets = [0, 1, 2].map(() => connect(Number(port), '127.0.0.1'));
      const closed = await Promise.all(sockets.map((s) => new Promise<boolean>((resolve) => {
        s.once('close', () => resolve(true));
        setTimeout(() => resolve(false), 1000);
      })));
      expect(closed.filter(Boolean)).toHaveLength(1);
      for (const s of sockets) s.destroy();
    } finally {
      await h.server.close();
    }
  });

  it('on SIGTERM stops accepting, lets a download under way finish within --drain-timeout, then exits; one that stalls is cut', async () => {
    const root = await tempDir('te-drain-');
    const tables = join(root, 'tables');
    await mkdir(tables);
    await promisify(execFile)(process.execPath, [join(PROJECT_ROOT, 'bench', 'make-ipc.mjs'), '150000', join(tables, 'big.arrows')]);
    const args = ['--tables', tables, '--data', join(root, 'data'), '--port', '0'];
    for (const [drain, stall] of [['10s', false], ['500ms', true]] as const) {
      const server = await startCli([...args, '--drain-timeout', drain]);
      const done = await pollExport(server.url, (await createExport(server.url, 'big', { format: 'csv' })).id, isFinished, 60_000);
      const res = await startDownload(server.url, done.id);
      const exited = new Promise<number | null>((resolve) => server.child.once('exit', (code) => resolve(code)));
      const signalled = Date.now();
      server.child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 300));
      await expect(fetch(`${server.url}/tables/big`)).rejects.toThrow();
      if (stall) {
        expect(await exited).toBe(0);
        expect(Date.now() - signalled).toBeLessThan(3000);
        expect((await readRest(res)).complete).toBe(false);
      } else {
        const rest = await readRest(res);
        expect(rest).toEqual({ bytes: done.size, complete: true });
        expect(await exited).toBe(0);
      }
      await stop(server.child, 'SIGKILL');
    }
  }, 120_000);
});

