/**
 * Issue #11 items 7 and 8: exports can be deleted and are forgotten after the retention time;
 * a data directory that cannot be written is refused at start, and a record that cannot be
 * written fails its export with the cause, leaving no temporary behind.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/batches.js';
import { call, createExport, download, getExport, isFinished, pollExport, startServer, waitFor, writeSurvey, type Harness } from './helpers.js';
import { startCli } from './serve-process.js';

describe('server: deleting and forgetting exports', () => {
  const open: Harness[] = [];
  afterAll(async () => { await Promise.all(open.map((h) => h.server.close())); });

  it('DELETE /exports/:id removes a finished export\'s files and record (204, then 404); 409 while it runs', async () => {
    const h = await startServer();
    open.push(h);
    const done = await pollExport(h.url, (await createExport(h.url, 'survey', { format: 'parquet' })).id, isFinished);
    expect(done.status).toBe('completed');
    const running = await createExport(h.url, 'slow', { format: 'csv' });
    const busy = await call(h.url, 'DELETE', `/exports/${running.id}`);
    expect(busy.status).toBe(409);
    expect((busy.json as { error: { message: string } }).error.message).toMatch(/cancel it first/);

    const deleted = await call(h.url, 'DELETE', `/exports/${done.id}`);
    expect(deleted.status).toBe(204);
    expect(existsSync(join(h.data, done.id))).toBe(false);
    expect((await call(h.url, 'GET', `/exports/${done.id}`)).status).toBe(404);
    expect((await download(h.url, done.id, 0)).status).toBe(404);
    expect((await call(h.url, 'DELETE', `/exports/${done.id}`)).status).toBe(404);

    await call(h.url, 'POST', `/exports/${running.id}/cancel`);
    expect((await call(h.url, 'DELETE', `/exports/${running.id}`)).status).toBe(204);
    expect(await readdir(h.data)).toEqual([]);
  });

  it('forgets finished exports after the retention time, also those restored from disk', async () => {
    const h = await startServer({ retention: 600 });
    open.push(h);
    const done = await pollExport(h.url, (await createExport(h.url, 'survey', { format: 'csv' })).id, isFinished);
    expect(done.status).toBe('completed');
    await waitFor('the export to be forgotten', async () => (await call(h.url, 'GET', `/exports/${done.id}`)).status === 404, 5000);
    expect(existsSync(join(h.data, done.id))).toBe(false);

    // Restored from disk: ended long ago by its record, forgotten at start.
    const keep = await startServer({ retention: Infinity }, { root: h.root, tables: h.tables, data: join(h.root, 'data2') });
    open.push(keep);
    const old = await pollExport(keep.url, (await createExport(keep.url, 'survey', { format: 'jsonl' })).id, isFinished);
    await keep.server.close();
    await new Promise((r) => setTimeout(r, 300));
    const next = await startServer({ retention: 200 }, keep);
    open.push(next);
    expect((await call(next.url, 'GET', `/exports/${old.id}`)).status).toBe(404);
    expect(await readdir(keep.data)).toEqual([]);
  });
});

describe('server: a data directory it cannot write', () => {
  it('refuses to start when --data cannot be written: a clear message and exit 2', async () => {
    const root = await tempDir('te-data-');
    await writeFile(join(root, 'file'), 'not a directory');
    const tables = join(root, 'tables');
    await mkdir(tables);
    await expect(startCli(['--tables', tables, '--data', join(root, 'file', 'data'), '--port', '0']))
      .rejects.toThrow(/exited with 2: .*the data directory .* is not writable: ENOTDIR/s);
  });

  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!root) console.warn('record write failures: not root, so no read-only tmpfs can be mounted; skipped');
  it.skipIf(!root)('fails an export whose record cannot be written, with the cause, and leaves no temporary (read-only data mount)', async () => {
    const base = await tempDir('te-rodata-');
    const data = join(base, 'data');
    await mkdir(data);
    const tables = join(base, 'tables');
    await mkdir(tables);
    await writeSurvey(join(tables, 'survey.arrow'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', data]);
    let h: Harness | null = null;
    try {
      h = await startServer({}, { root: base, tables, data });
      execFileSync('mount', ['-o', 'remount,ro', data]);
      const reply = await call(h.url, 'POST', '/tables/survey/exports', { format: 'csv' });
      expect(reply.status).toBe(200);
      const failed = reply.json as { id: string; status: string; errorMessage: string };
      expect(failed.status).toBe('failed');
      expect(failed.errorMessage).toMatch(/^the export's record cannot be written to the data directory: EROFS: read-only file system/);
      expect(failed.errorMessage).not.toContain(base);
      expect(await getExport(h.url, failed.id)).toMatchObject({ status: 'failed', fileCount: null });
      expect((await download(h.url, failed.id, 0)).status).toBe(409);
      expect(await readdir(data)).toEqual([]);
    } finally {
      await h?.server.close();
      execFileSync('umount', [data]);
    }
  });
});
