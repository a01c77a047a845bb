/**
 * Smoke test of the independent-reader harness: hand-written files read by pandas and DuckDB
 * give exactly the cells we expect, a bogus reader fails loudly, and every fixture written by
 * the reference writer reads back as its expectation says (which validates the quirk table).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { VariableType } from '../../src/table/types.js';
import { ALL_FIXTURES, allTypes, mediumRandom, oneColumn } from '../fixtures/tables.js';
import type { Cell } from '../helpers/canonical.js';
import { READERS_BY_FORMAT, expectReadBackMatches, readBack } from '../helpers/readers.js';
import { writeReference } from './reference-writer.js';

const dir = mkdtempSync(join(tmpdir(), 'read-back-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SCHEMA: Record<string, VariableType> = {
  i: 'integer', f: 'float', b: 'boolean', d: 'date', dt: 'dateTime', t: 'time', s: 'string',
};

const CSV = 'i,f,b,d,dt,t,s\n'
  + '9223372036854775807,NaN,true,0001-01-01,0001-01-01T00:00:00,00:00:00,""\n'
  + '-9223372036854775807,-Infinity,false,9999-12-31,9999-12-31T23:59:59.999999,23:59:59.999999,NA\n'
  + ',,,,,,\n'
  + '0,-0,true,1969-12-31,1969-12-31T23:59:59.5,12:34:56.000001,"a,""b""\r\nc"\n'
  + '9007199254740993,0.1,false,1970-01-01,1970-01-01T00:00:00.000001,01:00:00,😀 𝔘 中\n';

const JSONL = '{"i":9223372036854775807,"f":"NaN","b":true,"d":"0001-01-01","dt":"0001-01-01T00:00:00","t":"00:00:00","s":""}\n'
  + '{"i":-9223372036854775807,"f":"-Infinity","b":false,"d":"9999-12-31","dt":"9999-12-31T23:59:59.999999","t":"23:59:59.999999","s":"NA"}\n'
  + '{"i":null,"f":null,"b":null,"d":null,"dt":null,"t":null,"s":null}\n'
  + '{"i":0,"f":-0.0,"b":true,"d":"1969-12-31","dt":"1969-12-31T23:59:59.500000","t":"12:34:56.000001","s":"a,\\"b\\"\\r\\nc"}\n'
  + '{"i":9007199254740993,"f":0.1,"b":false,"d":"1970-01-01","dt":"1970-01-01T00:00:00.000001","t":"01:00:00","s":"😀 𝔘 中"}\n';

/** What an exact reader returns for both files above. */
const EXACT: Record<string, Cell[]> = {
  i: ['9223372036854775807', '-9223372036854775807', null, '0', '9007199254740993'],
  f: [{ f: 'nan' }, { f: '-inf' }, null, { f: '-0.0' }, { f: '0.1' }],
  b: [true, false, null, true, false],
  d: ['0001-01-01', '9999-12-31', null, '1969-12-31', '1970-01-01'],
  dt: ['0001-01-01T00:00:00', '9999-12-31T23:59:59.999999', null, '1969-12-31T23:59:59.500000', '1970-01-01T00:00:00.000001'],
  t: ['00:00:00', '23:59:59.999999', null, '12:34:56.000001', '01:00:00'],
  s: ['', 'NA', null, 'a,"b"\r\nc', '😀 𝔘 中'],
};

const CASES: { reader: string; format: 'csv' | 'jsonl'; values: Record<string, Cell[]>; dtypes: Record<string, string> }[] = [
  {
    reader: 'duckdb', format: 'csv', values: EXACT,
    dtypes: { i: 'BIGINT', f: 'DOUBLE', b: 'BOOLEAN', d: 'DATE', dt: 'TIMESTAMP', t: 'TIME', s: 'VARCHAR' },
  },
  {
    reader: 'duckdb', format: 'jsonl', values: EXACT,
    dtypes: { i: 'BIGINT', f: 'DOUBLE', b: 'BOOLEAN', d: 'DATE', dt: 'TIMESTAMP', t: 'TIME', s: 'VARCHAR' },
  },
  {
    // pandas: "" reads as NA; float64 null is NaN.
    reader: 'pandas', format: 'csv', values: { ...EXACT, f: [{ f: 'nan' }, { f: '-inf' }, { f: 'nan' }, { f: '-0.0' }, { f: '0.1' }], s: [null, 'NA', null, 'a,"b"\r\nc', '😀 𝔘 中'] },
    dtypes: { i: 'Int64', f: 'float64', b: 'boolean', d: 'datetime64[us]', dt: 'datetime64[us]', t: 'str', s: 'str' },
  },
  {
    // pandas read_json: an integer column with a null goes through float64 (2^63-1 leaves int64).
    reader: 'pandas', format: 'jsonl',
    values: {
      ...EXACT,
      i: [{ f: '9.223372036854776e+18' }, { f: '-9.223372036854776e+18' }, null, { f: '0.0' }, { f: '9007199254740992.0' }],
      f: [{ f: 'nan' }, { f: '-inf' }, { f: 'nan' }, { f: '-0.0' }, { f: '0.1' }],
    },
    dtypes: { i: 'float64', f: 'float64', b: 'boolean', d: 'datetime64[us]', dt: 'datetime64[us]', t: 'str', s: 'str' },
  },
];

describe('readBack on hand-written files', () => {
  writeFileSync(join(dir, 'tiny.csv'), CSV);
  writeFileSync(join(dir, 'tiny.jsonl'), JSONL);

  it.concurrent.each(CASES)('$reader reads $format exactly as documented', async ({ reader, format, values, dtypes }) => {
    const got = await readBack(reader, format, [join(dir, `tiny.${format}`)], SCHEMA);
    expect(got.columns).toEqual(Object.keys(SCHEMA));
    expect(got.rows).toBe(5);
    expect(got.dtypes).toEqual(dtypes);
    expect(got.values).toEqual(values);
  }, 60_000);

  it.concurrent.each(['pandas', 'duckdb'])('%s reads the parts of a split csv as one table, in order', async (reader) => {
    const [header, ...rows] = CSV.split(/\n(?=[-\d,])/);
    const parts = [rows.slice(0, 2), rows.slice(2)].map((part, i) => {
      const path = join(dir, `split_${reader}_${i}.csv`);
      writeFileSync(path, `${header}\n${part.join('\n')}${part[part.length - 1].endsWith('\n') ? '' : '\n'}`);
      return path;
    });
    const got = await readBack(reader, 'csv', parts, SCHEMA);
    expect(got.rows).toBe(5);
    expect(got.values.i).toEqual(EXACT.i);
  }, 60_000);

  it('fails loudly, naming the reader, for a bogus reader', async () => {
    await expect(readBack('bogus', 'csv', [join(dir, 'tiny.csv')])).rejects.toThrow(/no reader 'bogus' for format 'csv'/);
  }, 60_000);

  it('fails loudly for a missing file', async () => {
    await expect(readBack('duckdb', 'csv', [join(dir, 'missing.csv')], SCHEMA)).rejects.toThrow(/missing\.csv/);
  }, 60_000);
});

describe('every fixture, written by the reference writer, reads back as expected', () => {
  const matrix = ALL_FIXTURES.flatMap((fixture) => (['csv', 'jsonl'] as const).flatMap((format) =>
    READERS_BY_FORMAT[format].map((reader) => ({ fixture, format, reader, name: fixture.name }))));

  it.concurrent.each(matrix)('$name as $format, read by $reader', async ({ fixture, format, reader }) => {
    const paths = writeReference(fixture, format, join(dir, `${reader}-${format}`));
    await expectReadBackMatches(reader, format, paths, fixture);
  }, 120_000);

  it.concurrent.each(['csv', 'jsonl'] as const)('%s split into three parts reads back as one table', async (format) => {
    const partRows = [2000, 1999, 1001];
    for (const reader of READERS_BY_FORMAT[format]) {
      const paths = writeReference(mediumRandom, format, join(dir, `split-${reader}-${format}`), partRows);
      await expectReadBackMatches(reader, format, paths, mediumRandom, { partRows });
    }
  }, 120_000);

  it.concurrent('names column, row, expected and got when one cell is wrong', async () => {
    const [path] = writeReference(allTypes, 'csv', join(dir, 'mutated-int'));
    writeFileSync(path, readFileSync(path, 'utf8').replace('\n2,-9223372036854775807,', '\n2,-9223372036854775806,'));
    await expect(expectReadBackMatches('duckdb', 'csv', [path], allTypes))
      .rejects.toThrow('column "big_int" (BIGINT) row 1: expected "-9223372036854775807", got "-9223372036854775806"');
  }, 60_000);

  it.concurrent('catches a lost sign of zero (JSON -0 reads as integer 0)', async () => {
    const [path] = writeReference(allTypes, 'jsonl', join(dir, 'mutated-zero'));
    writeFileSync(path, readFileSync(path, 'utf8').replace('"float_col":-0.0,', '"float_col":-0,'));
    await expect(expectReadBackMatches('duckdb', 'jsonl', [path], allTypes))
      .rejects.toThrow('column "float_col" (DOUBLE) row 4: expected float -0.0, got float 0.0 — sign of zero lost');
  }, 60_000);

  it('one_column as csv really ends in an empty line (its last row is null)', () => {
    const [path] = writeReference(oneColumn, 'csv', join(dir, 'one'));
    expect(readFileSync(path, 'utf8').endsWith('x\n\n')).toBe(true);
  });
});
