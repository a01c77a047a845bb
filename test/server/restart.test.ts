import { cp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exportTable, fromIPC, RESTART_MESSAGE, type ExportJSON } from '../../src/index.js';
import { tempDir } from '../helpers/batches.js';
import { startCli, stop } from './serve-process.js';
import {
  call, createExport, download, FIXED_OPTIONS, getExport, isFinished, md5Digest, pollExport, startServer, waitFor, writeSurvey, type Harness,
} from './helpers.js';


async function readRecord(data: string, id: string): Promise<{ export: ExportJSON }> {
  return JSON.parse(await readFile(join(data, id, '.export.json'), 'utf8')) as { export: ExportJSON };
}

describe('server: state across a restart', () => {
  const open: Harness[] = [];
  afterAll(async () => { await Promise.all(open.map((h) => h.server.close())); });

  it('runs an export cut short by a restart again (same id, progress never lower, the files of an uninterrupted run), and still serves a completed one', async () => {
    const first = await startServer();
    open.push(first);
    const done = await pollExport(first.url, (await createExport(first.url, 'large', { format: 'csv', maxFileSize: 1_048_576 })).id, isFinished);
    expect(done.status).toBe('completed');
    const before = await Promise.all(Array.from({ length: done.fileCount ?? 0 }, (_, i) => download(first.url, done.id, i)));

    const cut = await createExport(first.url, 'slow', { format: 'csv' });
    const cutDir = join(first.data, cut.id);
    await pollExport(first.url, cut.id, (e) => e.status === 'running' && e.percentCompleted > 0);
    await waitFor('the partial file', async () => (await readdir(cutDir).catch(() => [])).some((n) => n.endsWith('.partial')));
    // What a crash at this instant leaves on disk: the record says running, a partial file beside it.
    const crashed = join(first.root, 'crashed');
    await cp(first.data, crashed, { recursive: true });
    expect((await readdir(join(crashed, cut.id))).some((n) => n.endsWith('.partial'))).toBe(true);
    const recorded = (await readRecord(crashed, cut.id)).export;
    expect(recorded.status).toBe('running');
    // A poller is shown what the record holds, never more: a crash cannot take back what it saw.
    const shown = await getExport(first.url, cut.id);
    expect(shown.percentCompleted).toBeGreaterThan(0);

    await first.server.close();
    // A closing server leaves records as a crash would, so the next start runs them again.
    expect((await readRecord(first.data, cut.id)).export.status).toBe('running');
    const floor = Math.max(shown.percentCompleted, (await readRecord(first.data, cut.id)).export.percentCompleted);

    const expected = await exportTable(fromIPC(join(first.tables, 'slow.arrow')), { ...FIXED_OPTIONS, format: 'csv', out: await tempDir(), name: 'slow' });
    for (const data of [first.data, crashed]) {
      const next = await startServer({}, { root: first.root, tables: first.tables, data });
      open.push(next);
      expect(next.server.restored).toMatchObject({ resumed: 1, restored: 1 });
      const seen: number[] = [];
      const again = await pollExport(next.url, cut.id, (e) => { seen.push(e.percentCompleted); return isFinished(e); });
      expect(again).toMatchObject({ status: 'completed', id: cut.id, createdAt: cut.createdAt, fileCount: 1, size: expected.size });
      const start = data === crashed ? recorded.percentCompleted : floor;
      expect(seen[0]).toBeGreaterThanOrEqual(start);
      for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThanOrEqual(seen[i - 1]);
      expect(await readdir(join(data, cut.id))).toEqual(['.export.json', 'slow.csv']);
      const file = await download(next.url, cut.id, 0);
      expect(file.bytes.equals(await readFile(expected.files[0].path ?? ''))).toBe(true);

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

  it('fails an unfinished export whose table is gone by the restart, saying so', async () => {
    const first = await startServer();
    open.push(first);
    const cut = await createExport(first.url, 'slow', { format: 'jsonl' });
    // A closing server leaves the record as a crash would: queued or running.
    await first.server.close();
    await rm(join(first.tables, 'slow.arrow'));
    const next = await startServer({}, first);
    open.push(next);
    expect(next.server.restored).toMatchObject({ resumed: 1 });
    const failed = await getExport(next.url, cut.id);
    expect(failed).toMatchObject({ status: 'failed', size: null, fileCount: null });
    expect(failed.errorMessage).toBe(`${RESTART_MESSAGE}, and its table slow.arrow is no longer in the tables directory`);
    expect(await readdir(join(first.data, cut.id))).toEqual(['.export.json']);
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

describe('tabular-export serve', () => {
  it('serves on a free port with a token from the environment, stops on SIGTERM, and serves its exports again after a restart', async () => {
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
