/**
 * The parquet encoder through its protocol (prepare → beginFile → writeBatch → endFile) with a
 * recording sink: options, streaming (bytes reach the sink as row groups complete, one batch
 * behind), backpressure, failures that name column and row, and the dictionary choice. The
 * bytes are judged by pyarrow (test/readers/read_back.py), never by the library's own reader.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RecordBatch, Struct, makeData } from 'apache-arrow';
import { afterAll, describe, expect, it } from 'vitest';
import { ExportError, exportTable, fromBatches } from '../../src/index.js';
import type { ByteSink, ParquetOptions, Table } from '../../src/index.js';
import { chooseDictionaryColumns } from '../../src/formats/parquet/dictionary-choice.js';
import { parquetEncoder } from '../../src/formats/parquet/index.js';
import { resolveParquetOptions } from '../../src/formats/parquet/options.js';
import { schemaOfTable } from '../../src/table/arrow-types.js';
import { columnData, defineFixture, makeBatches } from '../fixtures/build.js';
import { mediumRandom, schemaTypes } from '../fixtures/tables.js';
import { expectSameValues, readBack } from '../helpers/readers.js';
import type { ReadBack } from '../helpers/readers.js';

const root = mkdtempSync(join(tmpdir(), 'parquet-encoder-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A sink that keeps every chunk it is handed, optionally slow or failing. */
class RecordingSink implements ByteSink {
  readonly chunks: Uint8Array[] = [];
  bytesWritten = 0;
  constructor(private readonly behave: (bytes: Uint8Array) => Promise<void> = async () => undefined) {}
  async write(bytes: Uint8Array): Promise<void> {
    await this.behave(bytes);
    this.chunks.push(bytes);
    this.bytesWritten += bytes.length;
  }
  save(name: string): string {
    const path = join(root, name);
    writeFileSync(path, Buffer.concat(this.chunks));
    return path;
  }
}

function expectExportError(fn: () => unknown, code: string, pattern: RegExp): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ExportError);
    expect((err as ExportError).code).toBe(code);
    expect((err as ExportError).message).toMatch(pattern);
    return;
  }
  throw new Error('expected an ExportError');
}

describe('parquet options', () => {
  it('defaults to snappy and 131,072-row groups', () => {
    expect(resolveParquetOptions(undefined)).toEqual({ compression: 'snappy', rowGroupSize: 131_072 });
    expect(resolveParquetOptions({ compression: 'zstd', rowGroupSize: 10 })).toEqual({ compression: 'zstd', rowGroupSize: 10 });
  });

  const bad: [string, unknown, RegExp][] = [
    ['an unknown codec', { compression: 'lz4' }, /compression must be one of "snappy", "zstd", "gzip", "none", not "lz4"/],
    ['a zero row group', { rowGroupSize: 0 }, /rowGroupSize must be a whole number of rows from 1/],
    ['a fractional row group', { rowGroupSize: 1.5 }, /rowGroupSize/],
    ['a row group given as text', { rowGroupSize: '1000' }, /rowGroupSize/],
    ['a misspelt option', { rowgroupsize: 10 }, /unknown option "rowgroupsize"; parquet takes compression and rowGroupSize/],
    ['options that are not an object', 'snappy', /parquet options must be an object/],
  ];
  it.each(bad)('refuses %s with INVALID_OPTION', (_what, options, pattern) => {
    expectExportError(() => resolveParquetOptions(options as ParquetOptions), 'INVALID_OPTION', pattern);
  });

  it('a bad option is refused when the export is created, before a file is written', async () => {
    const out = join(root, 'bad-option');
    const pending = exportTable(fromBatches(mediumRandom.batches), { format: 'parquet', out, table: mediumRandom.table, parquet: { compression: 'brotli' as 'zstd' } });
    await expect(pending).rejects.toMatchObject({ code: 'INVALID_OPTION', message: expect.stringMatching(/^parquet: compression must be one of/) });
    expect(existsSync(out)).toBe(false);
  });

  it('declares its capabilities: splittable at 1 GiB, one pass, no header patch', () => {
    expect(parquetEncoder.capabilities).toEqual({
      splittable: true, defaultMaxFileSize: 2 ** 30, needsRowCount: false, needsStatistics: false, patchesHeader: false,
    });
    expect(parquetEncoder.extension({})).toBe('parquet');
  });
});

describe('parquet file encoder', () => {
  it('streams: a batch\'s row groups reach the sink when the next batch is handed over, the footer at the end', async () => {
    // zstd: parquet-wasm's worker, whose one batch in flight this is about (the hand-written
    // writer, which has snappy, gzip and none, writes a group's bytes as soon as it is encoded).
    const prepared = parquetEncoder.prepare(mediumRandom.table, { rowGroupSize: 100, compression: 'zstd' });
    const sink = new RecordingSink();
    const file = await prepared.beginFile(sink);
    const [first, second, third] = makeBatches(mediumRandom.table.variables, mediumRandom.values, [1000, 1000, 3000]);
    await file.writeBatch(first, 0);
    const afterFirst = sink.bytesWritten;
    expect(afterFirst, 'nothing before the first batch is done: it is still in flight').toBe(0);
    await file.writeBatch(second, 1000);
    const afterSecond = sink.bytesWritten;
    expect(afterSecond, 'the first batch\'s ten row groups are in the sink').toBeGreaterThan(afterFirst);
    await file.writeBatch(third, 2000);
    expect(sink.bytesWritten, 'the second batch\'s row groups too').toBeGreaterThan(afterSecond);
    const beforeEnd = sink.bytesWritten;
    expect(await file.endFile()).toEqual([]);
    expect(sink.bytesWritten).toBeGreaterThan(beforeEnd);
    expect(sink.chunks.length).toBeGreaterThan(2);
    const got = await readBack('pyarrow', 'parquet', [sink.save('streamed.parquet')], schemaTypes(mediumRandom));
    expectSameValues(got, mediumRandom);
  }, 60_000);

  it('waits for a slow sink (backpressure) and keeps the chunks it handed over intact', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const sink = new RecordingSink(async () => {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight -= 1;
    });
    const prepared = parquetEncoder.prepare(mediumRandom.table, { rowGroupSize: 250 });
    const file = await prepared.beginFile(sink);
    let row = 0;
    for (const batch of mediumRandom.batches) {
      const before = sink.bytesWritten;
      await file.writeBatch(batch, row);
      expect(inFlight, 'no write is pending when writeBatch returns').toBe(0);
      expect(sink.bytesWritten).toBeGreaterThanOrEqual(before);
      row += batch.numRows;
    }
    await file.endFile();
    expect(maxInFlight).toBe(1);
    const got = await readBack('pyarrow', 'parquet', [sink.save('slow.parquet')], schemaTypes(mediumRandom));
    expectSameValues(got, mediumRandom);
  }, 60_000);

  it('a failing sink fails the file with the sink\'s error instead of hanging', async () => {
    const failure = new ExportError('TARGET_FAILED', 'disk full');
    const sink = new RecordingSink(async () => { throw failure; });
    const prepared = parquetEncoder.prepare(mediumRandom.table, { rowGroupSize: 100 });
    const file = await prepared.beginFile(sink);
    const write = async (): Promise<void> => {
      let row = 0;
      for (const batch of mediumRandom.batches) {
        await file.writeBatch(batch, row);
        row += batch.numRows;
      }
      await file.endFile();
    };
    await expect(write()).rejects.toBe(failure);
  }, 60_000);

  it('an empty file has every column and no row group', async () => {
    const prepared = parquetEncoder.prepare(mediumRandom.table, {});
    const sink = new RecordingSink();
    const file = await prepared.beginFile(sink);
    await file.writeBatch(makeBatches(mediumRandom.table.variables, mediumRandom.values, [0])[0], 0);
    await file.endFile();
    const got = await readBack('pyarrow', 'parquet', [sink.save('empty.parquet')], schemaTypes(mediumRandom));
    expect(got.rows).toBe(0);
    expect(got.columns).toEqual(mediumRandom.table.variables.map((v) => v.name));
  }, 60_000);

  it('refuses text that is not UTF-8, naming the column and the row in the whole table', async () => {
    const table: Table = { name: 'bad_text', variables: [{ name: 'id', type: 'integer' }, { name: 'note', type: 'string' }] };
    const schema = schemaOfTable(table);
    const good = defineFixture('good', table.variables, { id: [1n, 2n, 3n], note: ['a', 'b', 'c'] }).batches[0];
    const note = makeData({ type: schema.fields[1].type, length: 3, nullCount: 0, valueOffsets: new Int32Array([0, 1, 3, 4]), data: new Uint8Array([0x61, 0xc3, 0x28, 0x62]) });
    const bad = new RecordBatch(schema, makeData({
      type: new Struct(schema.fields), length: 3, nullCount: 0, children: [columnData('integer', [4n, 5n, 6n]), note],
    }));
    const exp = await exportTable(fromBatches([good, bad, good]), { format: 'parquet', out: join(root, 'bad-text'), table });
    expect(exp.status).toBe('failed');
    expect(exp.errorMessage).toMatch(/^parquet, column "note", row 4: the text is not valid UTF-8/);
    expect(exp.files).toEqual([]);
  }, 60_000);
});

describe('column names', () => {
  it('keeps them exactly, dots, spaces, quotes and non-ASCII included, with per-column settings applied', async () => {
    const names = ['a.b', 'with space', 'ünïcödé 列', 'quote"d', 'a'];
    const rows = 600;
    const fixture = defineFixture('odd_names', names.map((name, i) => ({ name, type: i % 2 === 0 ? 'string' as const : 'integer' as const })),
      Object.fromEntries(names.map((name, i) => [name, Array.from({ length: rows }, (_, r) => (i % 2 === 0 ? `v${r % 3}` : BigInt(r % 2)))])));
    // Every column is repetitive, so each gets a dictionary: arrow-rs must find them by name.
    expect(chooseDictionaryColumns(fixture.table, fixture.batches[0])).toEqual(names);
    // workers 1 and zstd: parquet-wasm's one-thread path and its choice (the stitched path's is in
    // parquet-parallel.test.ts, the hand-written writer's in parquet-writer.test.ts).
    const exp = await exportTable(fromBatches(fixture.batches), { format: 'parquet', out: join(root, 'odd-names'), table: fixture.table, workers: 1, parquet: { compression: 'zstd' } });
    expect(exp.status, exp.errorMessage ?? '').toBe('completed');
    const got = await readBack('pyarrow', 'parquet', [exp.files[0].path as string], schemaTypes(fixture)) as ReadBack & {
      metadata: { columns: Record<string, { encodings: string[] }> }[];
    };
    expect(got.columns).toEqual(names);
    expectSameValues(got, fixture);
    for (const name of names) expect(got.metadata[0].columns[name].encodings, name).toContain('RLE_DICTIONARY');
  }, 60_000);
});

describe('dictionary choice', () => {
  it('picks repetitive columns from a sample and leaves free text, distinct numbers and booleans plain', () => {
    const rows = 4000;
    const fixture = defineFixture('cardinality', [
      { name: 'code', type: 'string' }, { name: 'free', type: 'string' }, { name: 'level', type: 'integer' },
      { name: 'id', type: 'integer' }, { name: 'flag', type: 'boolean' }, { name: 'rate', type: 'float' },
    ], {
      code: Array.from({ length: rows }, (_, i) => ['NL', 'BE', 'LU', null][i % 4]),
      free: Array.from({ length: rows }, (_, i) => `note ${i * 7919}`),
      level: Array.from({ length: rows }, (_, i) => BigInt(i % 5)),
      id: Array.from({ length: rows }, (_, i) => BigInt(i)),
      flag: Array.from({ length: rows }, (_, i) => i % 2 === 0),
      rate: Array.from({ length: rows }, (_, i) => i / 3),
    });
    expect(chooseDictionaryColumns(fixture.table, fixture.batches[0])).toEqual(['code', 'level']);
  });

  it('leaves the dictionary on (arrow-rs decides) when the first batch is too small to judge', () => {
    const [small] = makeBatches(mediumRandom.table.variables, mediumRandom.values, [100]);
    const expected = mediumRandom.table.variables.filter((v) => v.type !== 'boolean').map((v) => v.name);
    expect(chooseDictionaryColumns(mediumRandom.table, small)).toEqual(expected);
  });
});
