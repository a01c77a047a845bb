/**
 * Issue #12: a local Arrow IPC file is read by the worker threads themselves, in ranges of its
 * record batches (src/parallel/ranges.ts), first pass included; the calling thread only writes
 * what comes back, in order. The files are those of one thread, byte for byte, and every error
 * is the one the single-threaded export reports (same code, format, column, row and words).
 */
import { Field, Int64, RecordBatchFileWriter, Schema, type RecordBatch } from 'apache-arrow';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Exporter, exportTable, fromIPC, type ExportRequest } from '../../src/index.js';
import { encodingActivity } from '../../src/parallel/pool.js';
import { readFileLayout, type BatchBlock } from '../../src/sources/ipc-footer.js';
import { planRanges } from '../../src/parallel/ranges.js';
import type { SourceRanges } from '../../src/sources/ranges.js';
import type { Table } from '../../src/table/types.js';
import { largeRandom } from '../fixtures/large-random.js';
import { ALL_FIXTURES } from '../fixtures/tables.js';
import { idBatch, idBatches, tempDir } from '../helpers/batches.js';
import { expectThreadsIdleWithinASecond } from '../helpers/workers.js';

const NOW = new Date(Date.UTC(2025, 10, 24, 12, 34, 56));
const FORMATS = ['csv', 'jsonl', 'dta', 'sav', 'parquet'] as const;

function ipcFile(dir: string, name: string, batches: RecordBatch[]): string {
  const path = join(dir, `${name}.arrow`);
  writeFileSync(path, RecordBatchFileWriter.writeAll(batches).toUint8Array(true));
  return path;
}

/** Exports `path` with 2 workers (by ranges) and with 1; expects the same outcome, files and bytes. */
async function expectSameByRanges(path: string, request: ExportRequest): Promise<void> {
  const before = encodingActivity().ranges;
  const two = await exportTable(fromIPC(path), { ...request, out: `${request.out as string}-2`, workers: 2 });
  const read = encodingActivity().ranges - before;
  const one = await exportTable(fromIPC(path), { ...request, out: `${request.out as string}-1`, workers: 1 });
  expect([two.status, two.errorCode, two.errorMessage]).toEqual([one.status, one.errorCode, one.errorMessage]);
  expect(read, 'the worker threads read the file by ranges').toBeGreaterThan(0);
  expect(two.files.map((f) => [f.name, f.rows, f.size, f.md5])).toEqual(one.files.map((f) => [f.name, f.rows, f.size, f.md5]));
  two.files.forEach((f, i) => {
    expect(readFileSync(f.path as string).equals(readFileSync(one.files[i].path as string)), `${f.name}: the same bytes`).toBe(true);
  });
}

describe('IPC files read by ranges on the worker threads', () => {
  for (const fixture of ALL_FIXTURES.filter((f) => (f.table.numRows ?? 0) > 0)) {
    it(`${fixture.name}: csv, jsonl, dta, sav and parquet are the bytes of one thread`, async () => {
      const dir = await tempDir();
      const path = ipcFile(dir, fixture.name, fixture.batches);
      for (const format of FORMATS) {
        await expectSameByRanges(path, { format, out: join(dir, format), table: fixture.table, dta: { timestamp: NOW }, sav: { now: NOW } });
      }
    });
  }

  it('the first pass on the threads finds the widest string and the integer range in any range', async () => {
    const dir = await tempDir();
    // The widest label and the largest id sit in the last of 12 batches.
    const batches = idBatches(Array.from({ length: 12 }, () => 40_000));
    const path = ipcFile(dir, 'ids', batches);
    for (const format of ['dta', 'sav'] as const) {
      await expectSameByRanges(path, { format, out: join(dir, format), dta: { timestamp: NOW }, sav: { now: NOW } });
    }
  });

  it('parquet: a row group per range, cut inside batches (700-row batches, 1,000-row groups), the bytes of one thread; also with a split by size', async () => {
    const dir = await tempDir();
    const path = ipcFile(dir, 'ids', idBatches(Array.from({ length: 10 }, () => 700)));
    await expectSameByRanges(path, { format: 'parquet', out: join(dir, 'pq'), parquet: { rowGroupSize: 1000 } });
    // 700,000 rows in 7,000-row batches, 10,000-row groups: parts of whole groups under 1 MiB.
    const big = ipcFile(dir, 'big', idBatches(Array.from({ length: 100 }, () => 7000)));
    const before = encodingActivity().ranges;
    const split = await exportTable(fromIPC(big), { format: 'parquet', out: join(dir, 'split'), parquet: { rowGroupSize: 10_000 }, maxFileSize: 1 << 20, workers: 2 });
    expect(split.status, split.errorMessage ?? '').toBe('completed');
    expect(encodingActivity().ranges).toBeGreaterThan(before);
    expect(split.fileCount).toBeGreaterThan(1);
    expect(split.files.reduce((n, f) => n + f.rows, 0)).toBe(700_000);
    split.files.forEach((f, i) => {
      if (i < split.files.length - 1) expect(f.rows % 10_000, `${f.name}: whole row groups`).toBe(0);
      expect(f.size, `${f.name}: under the limit`).toBeLessThanOrEqual(1 << 20);
    });
  });

  it('parquet: a size limit below one row group\'s output still splits (ranges hold at most the limit of the source)', async () => {
    const dir = await tempDir();
    // 40,000 wide random rows: ~4 MB of parquet in what would be one 131,072-row group.
    const path = ipcFile(dir, 'large', largeRandom.batches);
    const before = encodingActivity().ranges;
    const exp = await exportTable(fromIPC(path), { format: 'parquet', out: join(dir, 'pq'), table: largeRandom.table, maxFileSize: 1 << 20, workers: 2 });
    expect(exp.status, exp.errorMessage ?? '').toBe('completed');
    expect(encodingActivity().ranges).toBeGreaterThan(before);
    expect(exp.fileCount).toBeGreaterThan(2);
    expect(exp.files.reduce((n, f) => n + f.rows, 0)).toBe(largeRandom.table.numRows);
    // A parquet part may pass the limit by its footer (README: splitting).
    for (const f of exp.files) expect(f.size, f.name).toBeLessThan(1.1 * (1 << 20));
  });

  it('a value dta cannot hold, found while a thread encodes its range: the error of one thread', async () => {
    const dir = await tempDir();
    const path = ipcFile(dir, 'ids', [idBatch(0, 30_000), idBatch(0, 30_000), idBatch(0, 30_000), idBatch(30_000, 20_000)]);
    const table: Table = {
      name: 'ids', numRows: 110_000,
      variables: [{ name: 'id', type: 'integer' }, { name: 'label', type: 'string' }],
      statistics: { id: { min: 0n, max: 30_000n, nullCount: 0 }, label: { maxByteLength: 12, nullCount: 0 } },
    };
    await expectSameByRanges(path, { format: 'dta', out: join(dir, 'dta'), table });
    expect(readdirSync(join(dir, 'dta-2'))).toEqual([]);
  });

  it('a batch that does not match the table, normalized on a thread: the error of one thread', async () => {
    const dir = await tempDir();
    const path = ipcFile(dir, 'ids', idBatches([1000, 1000]));
    const table: Table = { name: 'ids', variables: [{ name: 'id', type: 'string' }, { name: 'label', type: 'string' }] };
    await expectSameByRanges(path, { format: 'csv', out: join(dir, 'csv'), table });
  });

  it('a damaged batch body (a string offset past its bytes): SOURCE_FAILED naming file and batch, as on one thread', async () => {
    const dir = await tempDir();
    const path = ipcFile(dir, 'damaged', idBatches([1000, 1000, 1000, 1000]));
    const bytes = readFileSync(path);
    const layout = await readFileLayout(async (offset, length) => bytes.subarray(offset, offset + length), bytes.byteLength, 'damaged');
    // Batch 2's body: id values (1000 × 8 bytes), then label's 1001 int32 offsets: the last one is made huge.
    const block = layout.blocks?.[2];
    if (!block) throw new Error('the file has no block 2');
    const lastOffset = block.offset + block.metaDataLength + 8000 + 4 * 1000;
    bytes.writeInt32LE(1 << 30, lastOffset);
    writeFileSync(path, bytes);
    for (const format of ['csv', 'sav'] as const) {
      await expectSameByRanges(path, { format, out: join(dir, format), sav: { now: NOW } });
    }
    const failed = await exportTable(fromIPC(path), { format: 'csv', out: join(dir, 'again'), workers: 2 });
    expect(failed.errorCode).toBe('SOURCE_FAILED');
    expect(failed.errorMessage).toMatch(/^csv: Arrow IPC file damaged\.arrow is corrupt: batch 2, column "label" /);
    expect(readdirSync(join(dir, 'again'))).toEqual([]);
  });

  it('a cancel stops the threads\' ranges within a second and leaves nothing', async () => {
    const dir = await tempDir();
    const path = ipcFile(dir, 'many', idBatches(Array.from({ length: 32 }, () => 50_000)));
    // Every progress event, not one per 100 ms, so the cancel comes mid-export (as in workers.test.ts).
    const exporter = new Exporter({ workers: 2, progressInterval: 0 });
    const out = join(dir, 'out');
    const before = encodingActivity().ranges;
    const exp = exporter.create(fromIPC(path), { format: 'jsonl', out });
    const seen: number[] = [];
    exp.on('progress', () => {
      seen.push(exp.percentCompleted);
      if (exp.percentCompleted >= 30) exporter.cancel(exp.id, 'enough');
    });
    await exp.done();
    expect(exp.status, exp.errorMessage ?? '').toBe('cancelled');
    expect(encodingActivity().ranges).toBeGreaterThan(before);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    await expectThreadsIdleWithinASecond();
    expect(readdirSync(out)).toEqual([]);
  });
});

describe('planRanges', () => {
  const blocksOf = (sizes: number[]): BatchBlock[] => sizes.map((rows, i) => ({ offset: 8 + i * 100, metaDataLength: 40, bodyLength: 60, rows }));
  const table: Table = { name: 't', variables: [{ name: 'id', type: 'integer' }] };
  const ranges = (sizes: number[]): SourceRanges => ({ path: '/x.arrow', label: 'x', schema: new Schema([new Field('id', new Int64(), true)]), blocks: blocksOf(sizes), firstBatch: 3 });

  it('with a fixed number of rows, cuts exact groups inside batches (skip and take), the last one short', () => {
    const plan = [...planRanges(ranges([5, 0, 7, 3, 10]), table, 6)];
    expect(plan.map((r) => [r.firstRow, r.rows, r.spec.firstBatch, r.spec.blocks.map((b) => b.rows), r.spec.skip, r.spec.take])).toEqual([
      [0, 6, 3, [5, 0, 7], 0, 6],
      [6, 6, 5, [7], 1, 6],
      [12, 6, 6, [3, 10], 0, 6],
      [18, 6, 7, [10], 3, 6],
      [24, 1, 7, [10], 9, 1],
    ]);
  });

  it('a group also ends where its rows reach the byte limit (by their batches\' bytes per row), a row at least', () => {
    const wide: SourceRanges = { ...ranges([10]), blocks: [{ offset: 8, metaDataLength: 40, bodyLength: 1000, rows: 10 }] };
    expect([...planRanges(wide, table, 6, 250)].map((r) => [r.firstRow, r.rows, r.spec.skip])).toEqual([[0, 3, 0], [3, 3, 3], [6, 3, 6], [9, 1, 9]]);
    expect([...planRanges(wide, table, 6, 10)].map((r) => r.rows)).toEqual(Array.from({ length: 10 }, () => 1));
  });

  it('without, whole batches up to 65,536 rows or 4 MiB of body together', () => {
    const plan = [...planRanges(ranges([40_000, 20_000, 10_000, 70_000]), table)];
    expect(plan.map((r) => [r.firstRow, r.rows, r.spec.blocks.length, r.spec.skip, r.spec.take])).toEqual([
      [0, 60_000, 2, 0, null], [60_000, 10_000, 1, 0, null], [70_000, 70_000, 1, 0, null],
    ]);
  });
});
