import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { Exporter, ExportError, exportTable, fromBatches, fromIPC, fromRows } from '../../src/index.js';
import { idBatches, tempDir } from '../helpers/batches.js';
import { PROJECT_ROOT } from '../helpers/readers.js';

const SAMPLE = join(PROJECT_ROOT, 'fixtures', 'sample', 'survey.arrow');

const KEYS = ['kind', 'uri', 'id', 'createdAt', 'status', 'errorMessage', 'percentCompleted', 'format', 'size', 'fileCount', 'table'];

describe('Export resource', () => {
  it('toJSON has exactly the spec shape while queued and once completed', async () => {
    const out = await tempDir();
    const exporter = new Exporter({ concurrency: 1 });
    const before = Date.now();
    const first = exporter.create(fromBatches(idBatches([1])), { format: 'csv', out, name: 'first' });
    const exp = exporter.create(fromBatches(idBatches([3, 2])), { format: 'csv', out, name: 'people' });
    expect(first.status).toBe('queued'); // created queued; started on the next microtask
    await Promise.resolve();
    expect(first.status).toBe('running');
    const queued = exp.toJSON();
    expect(Object.keys(queued)).toEqual(KEYS);
    expect(queued).toMatchObject({ kind: 'export', status: 'queued', errorMessage: null, format: 'csv', size: null, fileCount: null, percentCompleted: 0 });
    expect(queued.uri).toBe(`/exports/${exp.id}`);
    expect(Number.isInteger(queued.createdAt) && queued.createdAt >= before && queued.createdAt <= Date.now()).toBe(true);
    expect(queued.table).toMatchObject({ kind: 'table', name: 'people' });

    await exp.done();
    const done = JSON.parse(JSON.stringify(exp));
    expect(Object.keys(done)).toEqual(KEYS);
    expect(done.status).toBe('completed');
    expect(done.percentCompleted).toBe(100);
    expect(done.fileCount).toBe(1);
    expect(done.size).toBe(exp.files[0].size);
    expect(done.table).toMatchObject({ kind: 'table', name: 'people', numRows: 5, variableCount: 2 });
    expect(exporter.files(exp.id)).toEqual(exp.files);
    expect(exp.files[0]).toMatchObject({ name: 'people.csv', rows: 5 });
    expect(exp.files[0].md5).toMatch(/^[0-9a-f]{32}$/);
  });

  it('accepts ndjson as an alias of jsonl', async () => {
    const exp = await exportTable(fromBatches(idBatches([2])), { format: 'ndjson', out: await tempDir(), name: 't' });
    expect(exp.status).toBe('completed');
    expect(exp.toJSON().format).toBe('jsonl');
    expect(exp.files[0].name).toBe('t.jsonl');
  });

  it('refuses an unknown format at once with UNKNOWN_FORMAT', async () => {
    const exporter = new Exporter();
    expect(() => exporter.create(fromBatches([]), { format: 'xlsx', out: '/tmp' })).toThrow(ExportError);
    try {
      exporter.create(fromBatches([]), { format: 'xlsx', out: '/tmp' });
    } catch (err) {
      expect((err as ExportError).code).toBe('UNKNOWN_FORMAT');
      expect((err as ExportError).message).toContain('xlsx');
    }
  });

  it('refuses bad sizes with INVALID_OPTION', () => {
    const exporter = new Exporter();
    expect(() => exporter.create(fromBatches([]), { format: 'csv', out: '/tmp', maxFileSize: -1 })).toThrow(/maxFileSize must be a positive integer/);
    expect(() => exporter.create(fromBatches([]), { format: 'csv', out: '/tmp', maxRowsPerFile: 1.5 })).toThrow(/maxRowsPerFile/);
  });

  it.each(['csv', 'parquet', 'dta'])('refuses a maxFileSize below 1 MiB with INVALID_OPTION naming the floor, for %s too (issue #11)', async (format) => {
    const exporter = new Exporter();
    for (const maxFileSize of [1, 40_000, 2 ** 20 - 1]) {
      let error: unknown;
      try {
        exporter.create(fromBatches([]), { format, out: '/nonexistent-dir-never-created', maxFileSize });
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(ExportError);
      expect((error as ExportError).code).toBe('INVALID_OPTION');
      expect((error as ExportError).message).toBe(`${format}: maxFileSize must be at least 1048576 bytes (1 MiB), got ${maxFileSize}; to split into smaller parts, use maxRowsPerFile`);
    }
    expect(exporter.list()).toEqual([]);
    // The floor itself is allowed, and maxRowsPerFile has none.
    const allowed = exporter.create(fromBatches(idBatches([3])), { format, out: await tempDir(), name: 'ids', maxFileSize: 2 ** 20, maxRowsPerFile: 1 });
    expect((await allowed.done()).status).toBe('completed');
  });

  it.each([
    ['csv', { csv: { delimiter: ';;' } }, /delimiter must be a single character/],
    ['jsonl', { jsonl: { gzip: 'yes' } }, /gzip must be true or false/],
    ['parquet', { parquet: { compression: 'lzo' } }, /compression/],
    ['avro', { avro: { codec: 'bzip2' } }, /codec/],
    ['dta', { dta: { timestamp: 'today' } }, /dta.timestamp must be a valid Date/],
    ['sav', { sav: { compression: 'rle' } }, /compression/],
  ])('refuses a bad %s option at create, before anything runs', (format, options, message) => {
    const exporter = new Exporter();
    let pulled = false;
    const source = (async function* () { pulled = true; yield* []; })();
    let error: unknown;
    try {
      exporter.create(source, { format, out: '/nonexistent-dir-never-created', ...options } as never);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ExportError);
    expect((error as ExportError).code).toBe('INVALID_OPTION');
    expect((error as ExportError).format).toBe(format);
    expect((error as ExportError).message).toMatch(message);
    expect(exporter.list()).toEqual([]);
    expect(pulled).toBe(false);
  });

  it.each(['dta', 'sav'])('%s is one file whatever the split options, and the export says they were ignored', async (format) => {
    // maxFileSize at the 1 MiB floor (was 100): the point is that the options are ignored, and said so.
    const exp = await exportTable(fromBatches(idBatches([5, 5])), { format, out: await tempDir(), name: 'ids', maxFileSize: 2 ** 20, maxRowsPerFile: 2 });
    expect(exp.status).toBe('completed');
    expect(exp.fileCount).toBe(1);
    expect(exp.files[0].rows).toBe(10);
    expect(exp.warnings).toContain(`${format} is always written as one file: maxFileSize and maxRowsPerFile ignored`);
    const plain = await exportTable(fromBatches(idBatches([5, 5])), { format, out: await tempDir(), name: 'ids' });
    expect(plain.warnings.filter((w) => w.includes('one file'))).toEqual([]);
  });

  it('names the export after its source when the request gives no name: fromRows\' table, a file\'s name (issue #10)', async () => {
    const people = { name: 'people', description: 'who', variables: [{ name: 'id', type: 'integer' as const, label: 'Person id' }] };
    const rows = await exportTable(fromRows([{ id: 1 }, { id: 2 }], people), { format: 'csv', out: await tempDir() });
    expect(rows.toJSON().table).toMatchObject({ name: 'people', description: 'who', numRows: 2 });
    expect(rows.files.map((f) => f.name)).toEqual(['people.csv']);
    const file = await exportTable(fromIPC(SAMPLE), { format: 'jsonl', out: await tempDir() });
    expect(file.files.map((f) => f.name)).toEqual(['survey.jsonl']);
    // The request's name, then its table's, come first; a source without a name gives "table".
    const named = await exportTable(fromRows([{ id: 1 }], people), { format: 'csv', out: await tempDir(), name: 'staff' });
    expect(named.files.map((f) => f.name)).toEqual(['staff.csv']);
    const plain = await exportTable(fromBatches(idBatches([1])), { format: 'csv', out: await tempDir() });
    expect(plain.files.map((f) => f.name)).toEqual(['table.csv']);
  });

  it('uses the given table base and keeps it in toJSON', async () => {
    const base = { kind: 'table' as const, name: 'survey', id: 't1', uri: '/tables/t1', numRows: 2 };
    const exp = await exportTable(fromBatches(idBatches([2])), { format: 'csv', out: await tempDir(), tableBase: base, name: 'survey' });
    expect(exp.toJSON().table).toEqual(base);
  });
});
