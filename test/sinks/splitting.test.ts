import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { exportTable, fromBatches } from '../../src/index.js';
import { largeRandom } from '../fixtures/large-random.js';
import { idBatches, listDir, tempDir } from '../helpers/batches.js';

const SIZES = [1, 7, 250, 3, 0, 64, 100];
const TOTAL = SIZES.reduce((a, b) => a + b, 0);
/** The smallest maxFileSize allowed (issue #11). */
const MIB = 2 ** 20;
/**
 * The same shape at the scale a split by size now needs: small batches around one of 150,000
 * rows, 4.8 MiB of jsonl (5 times the limit), so limits are crossed inside a batch and at batch
 * ends. (maxFileSize was 1,500 and 2,000 bytes on SIZES before the 1 MiB floor.)
 */
const LARGE_SIZES = [1, 7, 150_000, 3, 0, 64, 40_000];
const LARGE_TOTAL = LARGE_SIZES.reduce((a, b) => a + b, 0);

async function readParts(paths: (string | null)[]): Promise<string[]> {
  return Promise.all(paths.map((p) => readFile(p as string, 'utf8')));
}

describe('splitting sink', () => {
  it('csv parts, concatenated with their repeated headers removed, equal the unsplit file', async () => {
    const whole = await exportTable(fromBatches(idBatches(SIZES)), { format: 'csv', out: await tempDir(), name: 'ids' });
    const out = await tempDir();
    const split = await exportTable(fromBatches(idBatches(SIZES)), { format: 'csv', out, name: 'ids', maxRowsPerFile: 60 });
    expect(split.status).toBe('completed');
    const expectedParts = Math.ceil(TOTAL / 60);
    expect(split.fileCount).toBe(expectedParts);
    expect(split.files.map((f) => f.name)).toEqual(Array.from({ length: expectedParts }, (_, i) => `ids-${String(i).padStart(6, '0')}.csv`));
    expect(split.files.map((f) => f.rows)).toEqual([...Array(expectedParts - 1).fill(60), TOTAL - 60 * (expectedParts - 1)]);
    expect(await listDir(out)).toEqual(split.files.map((f) => f.name));

    const [unsplit] = await readParts([whole.files[0].path]);
    const parts = await readParts(split.files.map((f) => f.path));
    const header = unsplit.slice(0, unsplit.indexOf('\n') + 1);
    for (const p of parts) expect(p.startsWith(header)).toBe(true);
    expect(header + parts.map((p) => p.slice(header.length)).join('')).toBe(unsplit);

    // size and fileCount match the files on disk exactly, and each MD5 is the file's.
    let total = 0;
    for (const f of split.files) {
      const bytes = await readFile(f.path as string);
      expect((await stat(f.path as string)).size).toBe(f.size);
      expect(createHash('md5').update(bytes).digest('hex')).toBe(f.md5);
      total += f.size;
    }
    expect(split.size).toBe(total);
  });

  it('jsonl split by maxFileSize cuts batches where a part would pass the limit and concatenates to the unsplit file', async () => {
    const whole = await exportTable(fromBatches(idBatches(LARGE_SIZES)), { format: 'jsonl', out: await tempDir(), name: 'ids' });
    const split = await exportTable(fromBatches(idBatches(LARGE_SIZES)), { format: 'jsonl', out: await tempDir(), name: 'ids', maxFileSize: MIB });
    expect(split.fileCount).toBeGreaterThan(4);
    const [unsplit] = await readParts([whole.files[0].path]);
    expect((await readParts(split.files.map((f) => f.path))).join('')).toBe(unsplit);
    // Rows of 25 to 35 bytes, growing with the id (the 150,000-row batch alone is 5 times the
    // limit): every part ends below the limit and within 2 % of it; none was begun empty.
    for (const f of split.files) expect(f.size).toBeLessThanOrEqual(MIB);
    for (const f of split.files.slice(0, -1)) expect(f.size).toBeGreaterThan(0.98 * MIB);
    for (const f of split.files) expect(f.rows).toBeGreaterThan(0);
  });

  it('with both limits, whichever a part reaches first ends it', async () => {
    // csv rows of 8 to 18 bytes, 60,000 to 70,000 to a MiB: parts of 40,000 rows stay below 1 MiB
    // (the row limit rules), parts of 100,000 rows would pass it (the size limit rules).
    const byRows = await exportTable(fromBatches(idBatches(LARGE_SIZES)), { format: 'csv', out: await tempDir(), name: 'ids', maxFileSize: MIB, maxRowsPerFile: 40_000 });
    const bySize = await exportTable(fromBatches(idBatches(LARGE_SIZES)), { format: 'csv', out: await tempDir(), name: 'ids', maxFileSize: MIB, maxRowsPerFile: 100_000 });
    for (const split of [byRows, bySize]) {
      for (const f of split.files) expect(f.size).toBeLessThanOrEqual(MIB);
      expect(split.files.reduce((n, f) => n + f.rows, 0)).toBe(LARGE_TOTAL);
    }
    expect(byRows.files.slice(0, -1).every((f) => f.rows === 40_000)).toBe(true);
    expect(byRows.files.every((f) => f.size < 0.9 * MIB)).toBe(true);
    expect(bySize.files.every((f) => f.rows < 100_000)).toBe(true);
    expect(bySize.files.slice(0, -1).every((f) => f.size > 0.98 * MIB)).toBe(true);
  });

  it('an empty table still yields one complete file', async () => {
    const exp = await exportTable(fromBatches(idBatches([0])), { format: 'csv', out: await tempDir(), name: 'empty', maxRowsPerFile: 5 });
    expect(exp.fileCount).toBe(1);
    expect(await readFile(exp.files[0].path as string, 'utf8')).toBe('id,label\n');
  });

  it('gzip parts are standalone gzip files of the same text', async () => {
    const plain = await exportTable(fromBatches(idBatches(SIZES)), { format: 'csv', out: await tempDir(), name: 'ids' });
    const gz = await exportTable(fromBatches(idBatches(SIZES)), { format: 'csv', out: await tempDir(), name: 'ids', csv: { gzip: true } });
    expect(gz.files[0].name).toBe('ids.csv.gz');
    const text = gunzipSync(await readFile(gz.files[0].path as string)).toString('utf8');
    expect(text).toBe(await readFile(plain.files[0].path as string, 'utf8'));
    expect(gz.size).toBe((await stat(gz.files[0].path as string)).size);
  });

  it('gzip parts split by maxFileSize stay below it in compressed bytes and hold the same text', async () => {
    // Random rows, which compress about 2:1 as real tables do (ids alone would compress far more),
    // twice over: 5.5 MiB compressed, so 1 MiB parts are several (was mediumRandom at 60 kB).
    const batches = [...largeRandom.batches, ...largeRandom.batches];
    const table = { ...largeRandom.table, numRows: 2 * (largeRandom.table.numRows ?? 0) };
    const plain = await exportTable(fromBatches(batches), { format: 'csv', out: await tempDir(), table });
    const gz = await exportTable(fromBatches(batches), { format: 'csv', out: await tempDir(), table, csv: { gzip: true }, maxFileSize: MIB });
    expect(gz.fileCount).toBeGreaterThan(3);
    for (const f of gz.files) expect(f.size, f.name).toBeLessThanOrEqual(MIB);
    for (const f of gz.files.slice(0, -1)) expect(f.size, f.name).toBeGreaterThan(0.85 * MIB);
    const whole = await readFile(plain.files[0].path as string, 'utf8');
    const header = whole.slice(0, whole.indexOf('\n') + 1);
    const texts = await Promise.all(gz.files.map(async (f) => gunzipSync(await readFile(f.path as string)).toString('utf8')));
    for (const t of texts) expect(t.startsWith(header)).toBe(true);
    expect(header + texts.map((t) => t.slice(header.length)).join('')).toBe(whole);
  });

  it('a new export replaces the files an earlier one of the same name left, and nothing else', async () => {
    const out = await tempDir();
    const first = await exportTable(fromBatches(idBatches(SIZES)), { format: 'csv', out, name: 'ids', maxRowsPerFile: 100 });
    expect(first.fileCount).toBe(5);
    await writeFile(join(out, 'notes.txt'), 'mine');
    await writeFile(join(out, 'ids-extra.csv'), 'mine');
    await writeFile(join(out, 'ids.jsonl'), 'mine');
    const second = await exportTable(fromBatches(idBatches(SIZES)), { format: 'csv', out, name: 'ids', maxRowsPerFile: 200 });
    expect(second.fileCount).toBe(3);
    // Parts 000003 and 000004 of the first export would make the directory read as 5 parts of two exports.
    expect(await listDir(out)).toEqual(['ids-000000.csv', 'ids-000001.csv', 'ids-000002.csv', 'ids-extra.csv', 'ids.jsonl', 'notes.txt']);
    expect(second.warnings).toContain('replaced the files of an earlier export of the same name in the output directory: '
      + 'ids-000000.csv, ids-000001.csv, ids-000002.csv, ids-000003.csv, ids-000004.csv');
    const third = await exportTable(fromBatches(idBatches(SIZES)), { format: 'csv', out, name: 'ids' });
    expect(await listDir(out)).toEqual(['ids-extra.csv', 'ids.csv', 'ids.jsonl', 'notes.txt']);
    expect((await readFile(join(out, 'ids.csv'), 'utf8')).split('\n')).toHaveLength(TOTAL + 2);
    expect(third.warnings.some((w) => w.startsWith('replaced'))).toBe(true);
    const fresh = await exportTable(fromBatches(idBatches(SIZES)), { format: 'csv', out: await tempDir(), name: 'ids' });
    expect(fresh.warnings).toEqual([]);
  });

  it('a stream target receives each part in order', async () => {
    const received = new Map<number, Buffer[]>();
    const target = ({ index }: { index: number }): Writable => {
      const chunks: Buffer[] = [];
      received.set(index, chunks);
      return new Writable({ write(chunk: Buffer, _e, cb) { chunks.push(chunk); cb(); } });
    };
    const exp = await exportTable(fromBatches(idBatches(SIZES)), { format: 'csv', target, name: 'ids', maxRowsPerFile: 200 });
    expect(exp.status).toBe('completed');
    expect(exp.fileCount).toBe(3);
    expect([...received.keys()]).toEqual([0, 1, 2]);
    for (const f of exp.files) {
      const bytes = Buffer.concat(received.get(exp.files.indexOf(f)) ?? []);
      expect(bytes.length).toBe(f.size);
      expect(f.path).toBeNull();
      expect(createHash('md5').update(bytes).digest('hex')).toBe(f.md5);
    }
  });
});
