/**
 * Issue #12: exports encoded on worker threads. Errors found on a thread name the format,
 * column and row; a thread that dies fails its export with a clear message and the next
 * export works; a cancel stops the threads' work within a second and leaves nothing.
 * (That the files are those of one thread is checked by every round trip: test/helpers/workers.ts.)
 */
import { DateDay, Field, RecordBatch, Schema, Struct, makeData } from 'apache-arrow';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Exporter, exportTable, fromBatches } from '../../src/index.js';
import { encodingThreads } from '../../src/parallel/pool.js';
import type { Table } from '../../src/table/types.js';
import { idBatch, idBatches, tempDir } from '../helpers/batches.js';
import { expectThreadsIdleWithinASecond } from '../helpers/workers.js';

/** 1,600,000 rows in batches of 50,000: long enough to act on an export in the middle of it. */
const many = (): ReturnType<typeof idBatches> => idBatches(Array.from({ length: 32 }, () => 50_000));

describe('exports on worker threads', () => {
  it('a value a format cannot hold, found on a worker thread, fails the export naming format, column and row', async () => {
    const out = await tempDir();
    // ids 0..29,999 three times, then 30,000..49,999; the statistics say at most 30,000, so
    // dta stores them as int (to 32,740): id 32,741, table row 92,741, is the first that does not fit.
    const batches = [idBatch(0, 30_000), idBatch(0, 30_000), idBatch(0, 30_000), idBatch(30_000, 20_000)];
    const table: Table = {
      name: 'ids', numRows: 110_000,
      variables: [{ name: 'id', type: 'integer' }, { name: 'label', type: 'string' }],
      statistics: { id: { min: 0n, max: 30_000n, nullCount: 0 }, label: { maxByteLength: 12, nullCount: 0 } },
    };
    const exp = await exportTable(fromBatches(batches), { format: 'dta', out, table, workers: 2 });
    expect(exp.status).toBe('failed');
    expect(exp.errorCode).toBe('VALUE_OUT_OF_RANGE');
    expect(exp.errorMessage).toMatch(/^dta, column "id", row 92741: 32741 does not fit the Stata int/);
    expect(readdirSync(out)).toEqual([]);
  });

  it('the error keeps its code across the thread boundary (a csv date beyond year 9999)', async () => {
    const fields = [new Field('d', new DateDay(), true)];
    const days = makeData({ type: new DateDay(), length: 2, data: new Int32Array([1, 67_120_010]) });
    const batch = new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: 2, children: [days] }));
    const exp = await exportTable(fromBatches([batch]), { format: 'csv', out: await tempDir(), workers: 2 });
    expect(exp.status).toBe('failed');
    expect(exp.errorCode).toBe('VALUE_OUT_OF_RANGE');
    expect(exp.errorMessage).toBe('csv, column "d", row 1: date 67120010 days from 1970-01-01 is outside 0001-01-01..9999-12-31, the dates ISO text (YYYY-MM-DD) can hold');
  });

  it('csv.gz and jsonl.gz: the same bytes with 2 workers as with 1 (zlib sees the same bytes in the same order)', async () => {
    const out = await tempDir();
    const batches = (): ReturnType<typeof idBatches> => idBatches([50_000, 30_000, 70_000, 50_000]);
    for (const format of ['csv', 'jsonl'] as const) {
      const gzip = { [format]: { gzip: true } };
      const two = await exportTable(fromBatches(batches()), { format, out: join(out, `${format}-2`), workers: 2, ...gzip });
      const one = await exportTable(fromBatches(batches()), { format, out: join(out, `${format}-1`), workers: 1, ...gzip });
      expect(two.status, two.errorMessage ?? '').toBe('completed');
      expect(two.files.map((f) => [f.name, f.size, f.md5])).toEqual(one.files.map((f) => [f.name, f.size, f.md5]));
      expect(two.files[0].name).toBe(`table.${format}.gz`);
    }
  });

  it('a worker thread that dies fails its export with a clear message, and the next export completes', async () => {
    const out = await tempDir();
    // Every progress event (see the cancel test below): the thread must die mid-export.
    const exporter = new Exporter({ workers: 2, progressInterval: 0 });
    const exp = exporter.create(fromBatches(many()), { format: 'jsonl', out: join(out, 'killed') });
    let ended = false;
    exp.on('progress', () => {
      if (ended || exp.percentCompleted < 10 || encodingThreads().length === 0) return;
      ended = true;
      void encodingThreads()[0].terminate();
    });
    await exp.done();
    expect(ended).toBe(true);
    expect(exp.status).toBe('failed');
    expect(exp.errorCode).toBe('INTERNAL');
    expect(exp.errorMessage).toMatch(/^jsonl: an encoding worker thread failed: /);
    expect(readdirSync(join(out, 'killed'))).toEqual([]);

    const next = await exporter.create(fromBatches(many()), { format: 'jsonl', out: join(out, 'next') }).done();
    expect(next.status, next.errorMessage ?? '').toBe('completed');
    expect(next.files[0].rows).toBe(1_600_000);
    const single = await exportTable(fromBatches(many()), { format: 'jsonl', out: join(out, 'single'), workers: 1 });
    expect(next.files[0].md5).toBe(single.files[0].md5);
  });

  it('a cancel stops the threads\' work within a second and leaves nothing; progress never goes down', async () => {
    const out = await tempDir();
    // Every progress event, not one per 100 ms: the export can take less than two of those (so
    // the first event past 30 % came after the last rows), and the cancel must come mid-export.
    const exporter = new Exporter({ workers: 2, progressInterval: 0 });
    const exp = exporter.create(fromBatches(many()), { format: 'csv', out, maxRowsPerFile: 200_000 });
    const seen: number[] = [];
    exp.on('progress', () => {
      seen.push(exp.percentCompleted);
      if (exp.percentCompleted >= 30) exporter.cancel(exp.id, 'enough');
    });
    await exp.done();
    expect(exp.status).toBe('cancelled');
    expect(seen.length).toBeGreaterThan(1);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    await expectThreadsIdleWithinASecond();
    expect(readdirSync(out)).toEqual([]);
  });
});
