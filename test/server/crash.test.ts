/**
 * Issue #10: exports survive a crash. `tabular-export serve` runs as a child process and is
 * killed for real (SIGKILL) while an export runs and others wait; the next start runs them
 * again under the same ids, and every file equals what an uninterrupted export writes.
 */
import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { FORMATS, type ExportJSON } from '../../src/index.js';
import { tempDir } from '../helpers/batches.js';
import { PROJECT_ROOT } from '../helpers/readers.js';
import { createExport, download, getExport, isFinished, pollExport, waitFor } from './helpers.js';
import { startCli, stop, type ServeProcess } from './serve-process.js';

// Large enough that the exports before the last each run across several progress events (one per
// 100 ms): at 300,000 rows csv and jsonl (since their WebAssembly row loop) could all end
// between two polls, and no moment had one running with progress while another waited.
const ROWS = 1_000_000;

describe('serve: killed with SIGKILL mid-export', () => {
  const running: ServeProcess[] = [];
  afterAll(async () => { await Promise.all(running.map((p) => stop(p.child, 'SIGKILL'))); });

  it('runs every export it had queued or running again at the next start: all complete, files equal to uninterrupted exports, progress never lower', async () => {
    const root = await tempDir('te-crash-');
    const datasetDir = join(root, 'tables', 'Acme', 'Survey 2024');
    await mkdir(datasetDir, { recursive: true });
    const table = join(datasetDir, 'big.arrows');
    await promisify(execFile)(process.execPath, [join(PROJECT_ROOT, 'bench', 'make-ipc.mjs'), String(ROWS), table]);
    const data = join(root, 'data');
    const args = ['--tables', join(root, 'tables'), '--data', data, '--port', '0', '--concurrency', '1'];

    const first = await startCli(args);
    running.push(first);
    const created: ExportJSON[] = [];
    for (const format of FORMATS) created.push(await createExport(first.url, 'acme.survey_2024.big', { format }));
    const seen = new Map<string, number>(created.map((e) => [e.id, 0]));
    // Kill once one export is well under way and at least one still waits behind it.
    await waitFor('an export running while another waits', async () => {
      const states = await Promise.all(created.map((e) => getExport(first.url, e.id)));
      for (const s of states) seen.set(s.id, s.percentCompleted);
      return states.some((s) => s.status === 'running' && s.percentCompleted > 0) && states.some((s) => s.status === 'queued');
    }, 60_000);
    first.child.kill('SIGKILL');
    await new Promise((resolve) => first.child.once('exit', resolve));
    const cut = await Promise.all(created.map(async (e) => JSON.parse(await readFile(join(data, e.id, '.export.json'), 'utf8')) as { export: ExportJSON }));
    expect(cut.some((r) => r.export.status === 'running')).toBe(true);
    expect(cut.some((r) => r.export.status === 'queued')).toBe(true);

    const second = await startCli(args);
    running.push(second);
    for (const exp of created) {
      let last = seen.get(exp.id) ?? 0;
      const done = await pollExport(second.url, exp.id, (e) => {
        expect(e.percentCompleted, `${exp.format} progress after the restart`).toBeGreaterThanOrEqual(last);
        last = e.percentCompleted;
        return isFinished(e);
      }, 120_000);
      expect(done, `${exp.format}: ${done.errorMessage}`).toMatchObject({ status: 'completed', id: exp.id, createdAt: exp.createdAt, format: exp.format });
      // An uninterrupted export of the same table, now: exports of an unchanged table are byte for byte the same.
      const fresh = await pollExport(second.url, (await createExport(second.url, 'acme.survey_2024.big', { format: exp.format })).id, isFinished, 120_000);
      expect(fresh.status).toBe('completed');
      expect(done.fileCount).toBe(fresh.fileCount);
      expect(done.size).toBe(fresh.size);
      const files = (await readdir(join(data, exp.id))).sort();
      expect(files).toEqual((await readdir(join(data, fresh.id))).sort());
      expect(files.filter((n) => n.startsWith('.'))).toEqual(['.export.json']);
      for (let part = 0; part < (done.fileCount ?? 0); part++) {
        const [got, want] = await Promise.all([download(second.url, exp.id, part), download(second.url, fresh.id, part)]);
        expect(got.status).toBe(200);
        expect(got.bytes.equals(want.bytes), `${exp.format} part ${part} equals the uninterrupted export's`).toBe(true);
      }
      expect(done.fileCount).toBeGreaterThan(0);
    }
    expect(await stop(second.child, 'SIGTERM')).toBe(0);
  }, 240_000);
});
