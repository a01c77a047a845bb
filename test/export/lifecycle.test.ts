import type { RecordBatch } from 'apache-arrow';
import { tableFromArrays } from 'apache-arrow';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Exporter, exportTable, fromBatches, type ExportStatus } from '../../src/index.js';
import { idBatch, listDir, sleep, tempDir } from '../helpers/batches.js';

/** An endless, slow one-shot source: one batch of 100 rows every `delay` ms. */
async function* slowBatches(delay: number, limit = Infinity): AsyncGenerator<RecordBatch> {
  for (let i = 0; i < limit; i++) {
    yield idBatch(i * 100, 100);
    await sleep(delay);
  }
}

async function* failingBatches(after: number): AsyncGenerator<RecordBatch> {
  for (let i = 0; i < after; i++) yield idBatch(i * 10, 10);
  throw new Error('database connection reset');
}

describe('export life cycle', () => {
  it('cancel mid-export ends cancelled and leaves no file of ours', async () => {
    const out = await tempDir();
    const exporter = new Exporter();
    const exp = exporter.create(fromBatches(slowBatches(5)), { format: 'csv', out, name: 'slow' });
    while (exp.rows < 300) await sleep(5);
    expect(exp.status).toBe('running');
    exporter.cancel(exp.id);
    await exp.done();
    expect(exp.status).toBe('cancelled');
    expect(exp.errorMessage).toMatch(/cancelled/);
    expect(exp.toJSON().size).toBeNull();
    expect(exp.toJSON().fileCount).toBeNull();
    expect(exp.percentCompleted).toBeLessThan(100);
    expect(await listDir(out)).toEqual([]);
  });

  it('an AbortSignal given by the caller cancels too', async () => {
    const out = await tempDir();
    const controller = new AbortController();
    const pending = exportTable(fromBatches(slowBatches(5)), { format: 'jsonl', out, name: 's', signal: controller.signal });
    await sleep(30);
    controller.abort();
    const exp = await pending;
    expect(exp.status).toBe('cancelled');
    expect(await listDir(out)).toEqual([]);
  });

  it('a source that throws mid-way fails the export with the reason and leaves no file', async () => {
    const out = await tempDir();
    const exp = await exportTable(fromBatches(failingBatches(3)), { format: 'csv', out, name: 'broken' });
    expect(exp.status).toBe('failed');
    expect(exp.errorMessage).toBe('csv: the source failed after 30 rows: database connection reset');
    expect(exp.errorCode).toBe('SOURCE_FAILED');
    expect(await listDir(out)).toEqual([]);
  });

  it('a batch that does not match the table fails naming the column and row', async () => {
    const out = await tempDir();
    const good = idBatch(0, 5);
    const bad = tableFromArrays({ id: Float64Array.from([1, 2]), label: ['a', 'b'] }).batches[0];
    const exp = await exportTable(fromBatches([good, bad]), { format: 'csv', out, name: 'mixed' });
    expect(exp.status).toBe('failed');
    expect(exp.errorCode).toBe('SCHEMA_MISMATCH');
    expect(exp.errorMessage).toBe('csv, column "id", row 5: batch has Arrow type Float64 but the table says integer');
    expect(await listDir(out)).toEqual([]);
  });

  it('a failing destination fails the export with TARGET_FAILED and other exports keep running', async () => {
    const out = await tempDir();
    const exporter = new Exporter({ concurrency: 2 });
    const brokenDisk = (): Writable => new Writable({
      write(_chunk, _enc, cb) { cb(new Error('ENOSPC: no space left on device')); },
    });
    const bad = exporter.create(fromBatches(slowBatches(1, 20)), { format: 'csv', target: brokenDisk, name: 'bad' });
    const good = exporter.create(fromBatches(slowBatches(1, 20)), { format: 'csv', out, name: 'good' });
    await exporter.idle();
    expect(bad.status).toBe('failed');
    expect(bad.errorCode).toBe('TARGET_FAILED');
    expect(bad.errorMessage).toContain('ENOSPC');
    expect(good.status).toBe('completed');
    expect(good.rows).toBe(2000);
    expect(await listDir(out)).toEqual(['good.csv']);
  });

  it('percentCompleted never decreases, is always a number and reaches 100 only on completion', async () => {
    const out = await tempDir();
    const exporter = new Exporter({ progressInterval: 0 });
    const batches = Array.from({ length: 50 }, (_, i) => idBatch(i * 100, 100));
    const table = { name: 'progress', numRows: 5000, variables: [{ name: 'id', type: 'integer' as const }, { name: 'label', type: 'string' as const }] };
    const exp = exporter.create(fromBatches((async function* () { for (const b of batches) { yield b; await sleep(3); } })()), { format: 'csv', out, table });
    const seen: Array<[ExportStatus, number]> = [];
    exp.on('progress', () => seen.push([exp.status, exp.toJSON().percentCompleted]));
    exp.on('status', () => seen.push([exp.status, exp.toJSON().percentCompleted]));
    await exp.done();
    expect(seen.length).toBeGreaterThan(5);
    for (let i = 1; i < seen.length; i++) expect(seen[i][1]).toBeGreaterThanOrEqual(seen[i - 1][1]);
    for (const [status, pct] of seen) {
      expect(typeof pct).toBe('number');
      if (status !== 'completed') expect(pct).toBeLessThan(100);
    }
    expect(seen.at(-1)).toEqual(['completed', 100]);
    expect(seen.some(([, pct]) => pct > 10 && pct < 100)).toBe(true);
  });

  it('runs at most `concurrency` exports at once; the others wait queued, and a queued one can be cancelled', async () => {
    const out = await tempDir();
    const exporter = new Exporter({ concurrency: 2 });
    let running = 0;
    let peak = 0;
    const history = new Map<string, ExportStatus[]>();
    exporter.on('status', (exp, status: ExportStatus) => {
      history.get(exp.id)?.push(status);
      if (status === 'running') peak = Math.max(peak, ++running);
      else if (status !== 'queued') running -= 1;
    });
    const exps = Array.from({ length: 6 }, (_, i) => {
      const e = exporter.create(fromBatches(slowBatches(2, 5)), { format: 'csv', out, name: `t${i}` });
      history.set(e.id, ['queued']);
      return e;
    });
    // Created queued, so a listener attached after create sees every change; started a microtask later.
    expect(exps.map((e) => e.status)).toEqual(['queued', 'queued', 'queued', 'queued', 'queued', 'queued']);
    await Promise.resolve();
    expect(exps.map((e) => e.status)).toEqual(['running', 'running', 'queued', 'queued', 'queued', 'queued']);
    exporter.cancel(exps[5].id);
    await exporter.idle();
    expect(peak).toBe(2);
    expect(exps.slice(0, 5).every((e) => e.status === 'completed')).toBe(true);
    expect(exps[5].status).toBe('cancelled');
    for (const e of exps.slice(0, 5)) expect(history.get(e.id)).toEqual(['queued', 'running', 'completed']);
    expect(history.get(exps[5].id)).toEqual(['queued', 'cancelled']);
    expect(exporter.get(exps[3].id)).toBe(exps[3]);
    expect(exporter.list()).toHaveLength(6);
    expect(await listDir(out)).toEqual(['t0.csv', 't1.csv', 't2.csv', 't3.csv', 't4.csv']);
  });
});
