import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RESTART_MESSAGE, type ExportJSON } from '../../src/index.js';
import { tempDir } from '../helpers/batches.js';
import { PROJECT_ROOT } from '../helpers/readers.js';
import {
  call, createExport, download, getExport, isFinished, md5Digest, pollExport, startServer, waitFor, writeSurvey, type Harness,
} from './helpers.js';

const CLI = join(PROJECT_ROOT, 'dist', 'cli', 'main.js');

async function readRecord(data: string, id: string): Promise<{ export: ExportJSON }> {
  return JSON.parse(await readFile(join(data, id, '.export.json'), 'utf8')) as { export: ExportJSON };
}

describe('server: state across a restart', () => {
  const open: Harness[] = [];
  afterAll(async () => { await Promise.all(open.map((h) => h.server.close())); });

  it('fails an export cut short by the restart, removes its partial files, and still serves a completed one', async () => {
    const first = await startServer();
    open.push(first);
    const done = await pollExport(first.url, (await createExport(first.url, 'survey', { format: 'csv', maxFileSize: 40_000 })).id, isFinished);
    expect(done.status).toBe('completed');
    const before = await Promise.all(Array.from({ length: done.fileCount ?? 0 }, (_, i) => download(first.url, done.id, i)));

    const cut = await createExport(first.url, 'slow', { format: 'csv' });
    const cutDir = join(first.data, cut.id);
    await pollExport(first.url, cut.id, (e) => e.status === 'running');
    await waitFor('the partial file', async () => (await readdir(cutDir).catch(() => [])).some((n) => n.endsWith('.partial')));
    // What a crash at this instant leaves on disk: the record says running, a partial file beside it.
    const crashed = join(first.root, 'crashed');
    await cp(first.data, crashed, { recursive: true });
    expect((await readdir(join(crashed, cut.id))).some((n) => n.endsWith('.partial'))).toBe(true);
    expect((await readRecord(crashed, cut.id)).export.status).toBe('running');

    await first.server.close();
    // A closing server leaves records as a crash would, so the next start settles them.
    expect((await readRecord(first.data, cut.id)).export.status).toBe('running');

    for (const data of [first.data, crashed]) {
      const next = await startServer({}, { root: first.root, tables: first.tables, data });
      open.push(next);
      expect(next.server.restored).toMatchObject({ interrupted: 1, restored: 1 });
      const failed = await getExport(next.url, cut.id);
      expect(failed).toMatchObject({ status: 'failed', errorMessage: RESTART_MESSAGE, size: null, fileCount: null });
      expect(typeof failed.percentCompleted).toBe('number');
      expect(await readdir(join(data, cut.id))).toEqual(['.export.json']);
      expect((await readRecord(data, cut.id)).export).toMatchObject({ status: 'failed', errorMessage: RESTART_MESSAGE });
      expect((await download(next.url, cut.id, 0)).status).toBe(409);

      expect(await getExport(next.url, done.id)).toEqual(done);
      for (const [i, part] of before.entries()) {
        const again = await download(next.url, done.id, i);
        expect(again.status).toBe(200);
        expect(again.bytes.equals(part.bytes)).toBe(true);
        expect(again.headers.get('content-digest')).toBe(md5Digest(again.bytes));
      }
      await next.server.close();
    }
  });

  it('fails a completed export whose files were deleted, and skips unreadable records', async () => {
    const h = await startServer();
    open.push(h);
    const done = await pollExport(h.url, (await createExport(h.url, 'survey', { format: 'jsonl' })).id, isFinished);
    await h.server.close();
    await rm(join(h.data, done.id, 'survey.jsonl'));
    const junk = join(h.data, '00000000-0000-0000-0000-000000000000');
    await mkdir(junk);
    await writeFile(join(junk, '.export.json'), '{ not json');
    const next = await startServer({}, h);
    open.push(next);
    expect(next.server.restored?.skipped).toHaveLength(1);
    expect(await getExport(next.url, done.id)).toMatchObject({ status: 'failed', fileCount: null });
    expect((await call(next.url, 'GET', '/exports/00000000-0000-0000-0000-000000000000')).status).toBe(404);
  });
});

/** Starts `tabular-export serve` and resolves with the API URL it prints. */
function startCli(args: string[], env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [CLI, 'serve', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`serve did not start: ${err}`)); }, 20_000);
    child.stderr?.on('data', (d: Buffer) => { err += d; });
    child.stdout?.on('data', (d: Buffer) => {
      out += d;
      const match = /listening on (\S+)/.exec(out);
      if (match) { clearTimeout(timer); resolve({ child, url: match[1] }); }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`serve exited with ${code}: ${err}`)); });
  });
}

function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<number | null> {
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.once('exit', (code) => resolve(code));
    child.kill(signal);
  });
}

describe('tabular-export serve', () => {
  it('serves on a free port with a token from the environment, stops on SIGTERM, and serves its exports again after a restart', async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" (npm test does)`);
    const root = await tempDir('te-serve-cli-');
    const tables = join(root, 'tables');
    await mkdir(tables);
    await writeSurvey(join(tables, 'survey.arrow'));
    const args = ['--tables', tables, '--data', join(root, 'data'), '--port', '0', '--host', '127.0.0.1', '--concurrency', '1'];
    const auth = { Authorization: 'Bearer s3cret' };

    const first = await startCli(args, { TABULAR_EXPORT_TOKEN: 's3cret' });
    try {
      expect(first.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/v1$/);
      expect((await call(first.url, 'GET', '/tables/survey')).status).toBe(401);
      const created = await createExport(first.url, 'survey', { format: 'csv' }, auth);
      const done = await pollExport(first.url, created.id, isFinished, 20_000, auth);
      expect(done.status).toBe('completed');
      expect(await stop(first.child, 'SIGTERM')).toBe(0);

      const second = await startCli(args, { TABULAR_EXPORT_TOKEN: 's3cret' });
      try {
        expect(await getExport(second.url, done.id, auth)).toEqual(done);
        const file = await download(second.url, done.id, 0, auth);
        expect(file.status).toBe(200);
        expect(file.bytes.byteLength).toBe(done.size);
      } finally {
        await stop(second.child, 'SIGTERM');
      }
    } finally {
      if (first.child.exitCode === null) first.child.kill('SIGKILL');
    }
  });
});
