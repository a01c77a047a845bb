import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExportJSON, ExportStatus } from '../../src/index.js';
import { openTableSource, type TableFile } from '../../src/server/tables.js';
import type { BatchSource, OpenedSource } from '../../src/sources/types.js';
import { sleep } from '../helpers/batches.js';
import { call, createExport, download, getExport, isFinished, pollExport, slowSource, startServer, waitFor, type Harness } from './helpers.js';

/** Counts the exports reading their source at once: the server side of the concurrency limit, seen atomically. */
class ReadCounter {
  now = 0;
  peak = 0;

  wrap(inner: BatchSource): BatchSource {
    return {
      reopenable: inner.reopenable,
      open: async (): Promise<OpenedSource> => {
        const opened = await inner.open();
        this.peak = Math.max(this.peak, ++this.now);
        let open = true;
        const release = (): void => { if (open) { open = false; this.now -= 1; } };
        return { ...opened, bytesRead: () => opened.bytesRead(), close: async () => { release(); await opened.close(); } };
      },
    };
  }
}

describe('server: concurrency and cancel', () => {
  let h: Harness;
  const counter = new ReadCounter();
  /** ms between the 10 batches of 100 rows of "slow": the 20 exports run some 0.1 s each, a cancelled one 1 s. */
  let pace = 8;
  beforeAll(async () => {
    h = await startServer({
      concurrency: 2,
      createSource: (file: TableFile) => counter.wrap(file.name === 'slow' ? slowSource(file, 100, pace) : openTableSource(file)),
    });
  });
  afterAll(async () => { await h?.server.close(); });

  it('runs 20 exports created at once at most 2 at a time; all pass through queued and complete', async () => {
    const created = await Promise.all(Array.from({ length: 20 }, () => createExport(h.url, 'slow', { format: 'csv' })));
    expect(created.map((e) => e.status)).toEqual(Array(20).fill('queued'));
    const history = new Map<string, ExportStatus[]>(created.map((e) => [e.id, ['queued']]));
    const seenQueued = new Set<string>();
    const deadline = Date.now() + 30_000;
    for (;;) {
      const states: ExportJSON[] = await Promise.all(created.map((e) => getExport(h.url, e.id)));
      for (const s of states) {
        const seen = history.get(s.id) as ExportStatus[];
        if (seen.at(-1) !== s.status) seen.push(s.status);
        if (s.status === 'queued') seenQueued.add(s.id);
        expect(typeof s.percentCompleted).toBe('number');
      }
      if (states.every(isFinished)) break;
      if (Date.now() > deadline) throw new Error('the 20 exports did not finish in 30 s');
      await sleep(40);
    }
    expect(counter.peak).toBe(2);
    for (const [id, seen] of history) {
      expect(seen.at(-1), id).toBe('completed');
      // Never backwards, never skipping past a final state: an ordered subsequence of the lifecycle.
      const order: ExportStatus[] = ['queued', 'running', 'completed'];
      expect(seen.map((s) => order.indexOf(s))).toEqual([...seen.map((s) => order.indexOf(s))].sort((a, b) => a - b));
    }
    // With 2 slots and 20 exports of some 0.1 s each, most are still waiting when first polled.
    expect(seenQueued.size).toBeGreaterThanOrEqual(10);
  });

  it('cancels a running export: cancelled at once, no file left, downloads refused', async () => {
    pace = 100;
    const created = await createExport(h.url, 'slow', { format: 'csv' });
    const dir = join(h.data, created.id);
    await pollExport(h.url, created.id, (e) => e.status === 'running');
    await waitFor('the partial file', async () => (await readdir(dir).catch(() => [])).some((n) => n.endsWith('.partial')));
    const reply = await call(h.url, 'POST', `/exports/${created.id}/cancel`);
    expect(reply.status).toBe(200);
    expect(reply.json).toMatchObject({ id: created.id, status: 'cancelled', size: null, fileCount: null });
    expect((reply.json as ExportJSON).errorMessage).toMatch(/cancel/);
    expect(await readdir(dir)).toEqual(['.export.json']);
    await waitFor('the cancelled record', async () => JSON.parse(await readFile(join(dir, '.export.json'), 'utf8')).export.status === 'cancelled');
    expect((await download(h.url, created.id, 0)).status).toBe(409);
    // Cancelling again changes nothing.
    expect((await call(h.url, 'POST', `/exports/${created.id}/cancel`)).json).toMatchObject({ status: 'cancelled' });
  });

  it('cancels a queued export before it starts, and refuses to cancel a completed one', async () => {
    // Two take the two slots; the third, created after them, waits.
    const [a, b] = await Promise.all([0, 1].map(() => createExport(h.url, 'slow', { format: 'csv' })));
    const c = await createExport(h.url, 'slow', { format: 'csv' });
    const cancelled = await call(h.url, 'POST', `/exports/${c.id}/cancel`);
    expect(cancelled.json).toMatchObject({ status: 'cancelled', errorMessage: 'the export was cancelled before it started' });
    const done = await pollExport(h.url, a.id, isFinished);
    expect(done.status).toBe('completed');
    const refused = await call(h.url, 'POST', `/exports/${a.id}/cancel`);
    expect(refused.status).toBe(409);
    expect(refused.json).toMatchObject({ error: { status: 409 } });
    await pollExport(h.url, b.id, isFinished);
  });

  it('answers 409 to a download while the export runs', async () => {
    const created = await createExport(h.url, 'slow', { format: 'csv' });
    const early = await download(h.url, created.id, 0);
    expect(early.status).toBe(409);
    expect(JSON.parse(early.bytes.toString('utf8'))).toMatchObject({ error: { status: 409 } });
    await pollExport(h.url, created.id, isFinished);
  });
});
