/**
 * Round trips through the dta encoder via the public exportTable API, judged by pandas
 * read_stata and the ReadStat CLI (test/readers/read_back.py), never by the library's own code:
 * every fixture of the core issue, then issue 4's extra cases (string widths 2045/2046 and
 * multibyte boundaries, integer type boundaries, all-null columns, value labels, long and
 * reserved names, a table wide enough for format 119), from a re-readable source and from a
 * one-shot stream (spooled first pass), and the CLI reading stdin. What the readers return
 * instead of the exact table is stated in test/helpers/reader-quirks.ts (dta quirks).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import { afterAll, describe, expect, it } from 'vitest';
import { exportTable, fromBatches, fromIPC, type ExportRequest, type SourceInput } from '../../src/index.js';
import { expectSameWithOneWorker } from '../helpers/workers.js';
import type { Export, Rename } from '../../src/index.js';
import type { Variable } from '../../src/table/types.js';
import { defineFixture, type Fixture, type SourceValue } from '../fixtures/build.js';
import { ALL_FIXTURES, allTypes, mediumRandom } from '../fixtures/tables.js';
import { PROJECT_ROOT, READERS_BY_FORMAT, expectReadBackMatches, type ReadBack } from '../helpers/readers.js';

const TIMESTAMP = new Date(Date.UTC(2024, 0, 2, 3, 4));
const root = mkdtempSync(join(tmpdir(), 'roundtrip-dta-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface PandasMetadata {
  data_label: string;
  time_stamp: string;
  variable_labels: Record<string, string>;
  value_labels: Record<string, Record<string, string>>;
  label_sets: Record<string, string>;
  formats: Record<string, string>;
  /** pandas' storage codes: b byte, h int, l long, d double, a number for str#, Q for strL. */
  types: Record<string, string>;
}

interface ReadstatMetadata {
  Rows: string;
  Columns: string;
  'Format version': string;
  'Table label'?: string;
  Timestamp?: string;
  variables?: { name: string; label?: string; categories?: { code: number | string; label: string }[] }[];
}

/** The "metadata" read_back.py adds for dta readers. */
function metadataOf<T>(got: ReadBack | null): T {
  if (got === null || !('metadata' in got)) throw new Error('read_back.py printed no dta metadata');
  return got.metadata as T;
}

async function* oneShot(fixture: Fixture): AsyncGenerator<RecordBatch> {
  for (const batch of fixture.batches) yield batch;
}

/** Exports `fixture` to dta and checks the one file against the Export's size and MD5. */
async function exportDta(fixture: Fixture, dir: string, stream = false): Promise<{ path: string; exp: Export }> {
  const source = (): SourceInput => (stream ? oneShot(fixture) : fromBatches(fixture.batches));
  const request: ExportRequest = { format: 'dta', out: join(root, dir), table: fixture.table, dta: { timestamp: TIMESTAMP }, workers: 2 };
  const exp = await exportTable(source(), request);
  expect(exp.status, exp.errorMessage ?? '').toBe('completed');
  await expectSameWithOneWorker(source, request, exp);
  const files = exp.files;
  expect(files.map((f) => f.name)).toEqual([`${fixture.name}.dta`]); // never split
  const path = files[0].path as string;
  expect(statSync(path).size).toBe(files[0].size);
  expect(createHash('md5').update(readFileSync(path)).digest('hex')).toBe(files[0].md5);
  expect(files[0].rows).toBe(fixture.table.numRows);
  return { path, exp };
}

/** Reads back with every dta reader; returns [pandas, readstat] read-backs. */
async function readBoth(path: string, fixture: Fixture): Promise<[ReadBack | null, ReadBack | null]> {
  expect(READERS_BY_FORMAT.dta).toEqual(['pandas', 'readstat']);
  const pandas = await expectReadBackMatches('pandas', 'dta', [path], fixture);
  const readstat = await expectReadBackMatches('readstat', 'dta', [path], fixture);
  return [pandas, readstat];
}

/** Variable labels as both readers see them, and the dataset label. */
function expectLabels(pandas: ReadBack | null, readstat: ReadBack | null, fixture: Fixture, names?: string[]): void {
  const stataNames = names ?? fixture.table.variables.map((v) => v.name);
  const labels = Object.fromEntries(fixture.table.variables.map((v, i) => [stataNames[i], [...(v.label ?? '')].slice(0, 80).join('')]));
  const p = metadataOf<PandasMetadata>(pandas);
  expect(p.variable_labels).toEqual(labels);
  expect(p.time_stamp).toBe('02 Jan 2024 03:04');
  expect(p.data_label).toBe([...(fixture.table.description || fixture.table.name)].slice(0, 80).join(''));
  const r = metadataOf<ReadstatMetadata>(readstat);
  expect(r.Rows).toBe(String(fixture.table.numRows));
  expect(r['Format version']).toBe(fixture.table.variables.length > 32767 ? '119' : '118');
  for (const v of r.variables ?? []) expect(v.label ?? '', v.name).toBe(labels[v.name]);
}

describe('dta round trip of every fixture, judged by pandas and ReadStat', () => {
  it.concurrent.each(ALL_FIXTURES.map((fixture) => ({ fixture, name: fixture.name })))('$name', async ({ fixture }) => {
    const { path } = await exportDta(fixture, `all-${fixture.name}`);
    expect(basename(path)).toBe(`${fixture.name}.dta`);
    const [pandas, readstat] = await readBoth(path, fixture);
    expectLabels(pandas, readstat, fixture);
  }, 120_000);

  it.concurrent.each([allTypes, mediumRandom].map((fixture) => ({ fixture, name: fixture.name })))(
    'a one-shot stream ($name, first pass over a spool) writes the same bytes', async ({ fixture }) => {
      const { path: again } = await exportDta(fixture, `again-${fixture.name}`);
      const { path: streamed } = await exportDta(fixture, `stream-${fixture.name}`, true);
      expect(readFileSync(streamed).equals(readFileSync(again))).toBe(true);
    }, 120_000);
});

const s = (text: string, n: number): string => text.repeat(n);

/** Issue 4: strings at the str#/strL boundary, counted in bytes; multibyte text at the edge. */
const stringWidths = defineFixture('dta_string_widths', [
  { name: 's2045', type: 'string', label: 'exactly 2045 bytes at most: str2045' },
  { name: 's2046', type: 'string', label: '2046 bytes: strL' },
  { name: 'mb2045', type: 'string', label: '2045 bytes of mostly 2-byte characters' },
  { name: 'mb2046', type: 'string', label: '1023 characters, 2046 bytes: strL' },
  { name: 'mb_narrow', type: 'string', label: 'few characters, more bytes' },
  { name: 'huge', type: 'geography', label: 'strL values beyond the 1 MiB spool buffer' },
], {
  s2045: [s('x', 2045), 'a', null, '', s('x', 2044)],
  s2046: [s('y', 2046), 'b', null, '', s('y', 2045)],
  mb2045: [`${s('é', 1022)}a`, 'é', '', null, '😀'],
  mb2046: [s('é', 1023), '', 'é', null, s('中', 682)],
  mb_narrow: ['é', 'aé', '中文', '😀', null],
  huge: [s('z', 1_500_000), `${s('ü', 300_000)}x`, null, '', 'POINT (0 0)'],
});

const integerBounds = defineFixture('dta_integer_bounds', [
  { name: 'byte_edges', type: 'integer' },
  { name: 'int_from_101', type: 'integer' },
  { name: 'int_from_minus_128', type: 'integer' },
  { name: 'int_edges', type: 'integer' },
  { name: 'long_from_32741', type: 'integer' },
  { name: 'long_from_minus_32768', type: 'integer' },
  { name: 'long_edges', type: 'integer' },
  { name: 'double_from_2147483621', type: 'integer' },
  { name: 'double_from_minus_2147483648', type: 'integer' },
  { name: 'byte_with_null', type: 'integer' },
], {
  byte_edges: [100n, -127n, 0n],
  int_from_101: [101n, -127n, 0n],
  int_from_minus_128: [-128n, 100n, 0n],
  int_edges: [32740n, -32767n, 0n],
  long_from_32741: [32741n, -32767n, 0n],
  long_from_minus_32768: [-32768n, 32740n, 0n],
  long_edges: [2147483620n, -2147483647n, 0n],
  double_from_2147483621: [2147483621n, -2147483647n, 0n],
  double_from_minus_2147483648: [-2147483648n, 2147483620n, 0n],
  byte_with_null: [100n, null, -127n],
});

const EXPECTED_STORAGE: Record<string, string> = {
  byte_edges: 'b', int_from_101: 'h', int_from_minus_128: 'h', int_edges: 'h', long_from_32741: 'l',
  long_from_minus_32768: 'l', long_edges: 'l', double_from_2147483621: 'd', double_from_minus_2147483648: 'd',
  byte_with_null: 'b',
};

const ALL_NULL_TYPES: Variable[] = (['integer', 'float', 'boolean', 'date', 'dateTime', 'time', 'string', 'geography'] as const)
  .map((type) => ({ name: `null_${type}`, type }));
const allNull = defineFixture('dta_all_null', ALL_NULL_TYPES,
  Object.fromEntries(ALL_NULL_TYPES.map((v) => [v.name, [null, null, null] as SourceValue[]])));

describe('dta: issue 4 cases, judged by pandas and ReadStat', () => {
  it.concurrent('strings of 2045 and 2046 bytes, multibyte text at the width, strLs beyond the spool buffer', async () => {
    const { path } = await exportDta(stringWidths, 'widths');
    const [pandas] = await readBoth(path, stringWidths);
    expect(metadataOf<PandasMetadata>(pandas).types).toEqual({ s2045: '2045', s2046: 'Q', mb2045: '2045', mb2046: 'Q', mb_narrow: '6', huge: 'Q' });
  }, 120_000);

  it.concurrent('integer columns at each type boundary choose byte, int, long or double', async () => {
    const { path } = await exportDta(integerBounds, 'bounds');
    const [pandas] = await readBoth(path, integerBounds);
    expect(metadataOf<PandasMetadata>(pandas).types).toEqual(EXPECTED_STORAGE);
  }, 120_000);

  it.concurrent('all-null columns of every type ("" for strings)', async () => {
    const { path } = await exportDta(allNull, 'all-null');
    const [pandas] = await readBoth(path, allNull);
    expect(metadataOf<PandasMetadata>(pandas).types).toMatchObject({ null_integer: 'b', null_string: '1', null_geography: '1' });
  }, 120_000);

  it.concurrent('value labels: sorted int32 keys, invalid keys skipped with a warning, labels cut at 80 characters', async () => {
    const long = `${s('a', 78)}é😀 and more than eighty characters`;
    const fixture = defineFixture('dta_labels', [
      { name: 'answer', type: 'integer', label: 'Do you agree?', valueLabels: [
        { value: '2', label: 'no' }, { value: '1', label: 'yes' }, { value: '-1', label: 'refused' },
        { value: 'x', label: 'not a number' }, { value: '3000000000', label: 'beyond int32' }, { value: '2', label: 'again' },
        { value: '2147483647', label: 'largest key' }] },
      { name: 'score', type: 'float', label: long, valueLabels: [{ value: '1', label: 'one' }] },
    ], { answer: [1n, 2n, -1n, null, 7n], score: [1, 2.5, null, 0, -1] },
    { description: `${s('d', 79)}é😀 — a description longer than Stata's 80 characters` });
    const { path, exp } = await exportDta(fixture, 'labels');
    const [pandas, readstat] = await readBoth(path, fixture);
    expectLabels(pandas, readstat, fixture);
    const p = metadataOf<PandasMetadata>(pandas);
    expect(p.label_sets).toEqual({ answer: 'answer', score: '' });
    expect(p.value_labels).toEqual({ answer: { '-1': 'refused', 1: 'yes', 2: 'no', 2147483647: 'largest key' } });
    // ReadStat reads a long key of 2147483622 and above as an extended missing code (.a-.z, facts A7).
    const r = metadataOf<ReadstatMetadata>(readstat);
    expect(r.variables?.[0].categories).toEqual([
      { code: -1, label: 'refused' }, { code: 1, label: 'yes' }, { code: 2, label: 'no' }, { code: '.z', label: 'largest key' }]);
    expect(exp.warnings).toEqual([
      'column "score": variable label cut to Stata\'s 80 characters',
      'column "answer": 2 value label(s) skipped ("x", "3000000000"): Stata labels only whole numbers from -2147483648 to 2147483647',
      'column "answer": 1 value label(s) repeat a value already labelled; the first label of each value is kept',
      'column "score": value labels dropped: Stata attaches value labels to integer columns only, and this column is float',
      'dataset label cut to Stata\'s 80 characters',
    ]);
  }, 120_000);

  it.concurrent('long, reserved, unicode and colliding names are renamed deterministically and reported', async () => {
    const names = ['int', '_n', 'str80', 'strL', '_se', s('a', 40), 'my var', '1st', 'café', '中文', 'a_b', 'a b', 'ok_name'];
    const fixture = defineFixture('dta_names', names.map((name): Variable => ({ name, type: 'integer', label: `was ${name}` })),
      Object.fromEntries(names.map((n, i) => [n, [BigInt(i), null] as SourceValue[]])));
    const { path, exp } = await exportDta(fixture, 'names');
    const stata = ['int_', '_n_', 'str80_', 'strL_', '_se_', s('a', 32), 'my_var', '_1st', 'cafe', 'v10', 'a_b', 'a_b_2', 'ok_name'];
    expect(exp.renames.map((r: Rename) => [r.from, r.to])).toEqual(names.map((n, i) => [n, stata[i]]).filter(([a, b]) => a !== b));
    const renamed = renameFixture(fixture, stata);
    const [pandas, readstat] = await readBoth(path, renamed);
    expectLabels(pandas, readstat, fixture, stata);
  }, 120_000);

  it('a table of 32,768 columns is written as format 119 (few rows)', async () => {
    const K = 32_768;
    const variables: Variable[] = Array.from({ length: K }, (_, i) => ({ name: `c${i + 1}`, type: 'integer' }));
    // Few nulls: pandas' missing-value pass costs time per column holding one.
    const fixture = defineFixture('dta_wide', variables, Object.fromEntries(variables.map((v, i) =>
      [v.name, [BigInt(i % 101), i % 8192 === 0 ? null : BigInt(-(i % 128)), BigInt(i)] as SourceValue[]])));
    const { path, exp } = await exportDta(fixture, 'wide');
    expect(exp.warnings).toEqual(['the table has 32768 columns, more than the 32,767 of format 118, so the file is format 119, which only Stata/MP opens']);
    const bytes = readFileSync(path);
    expect(bytes.subarray(0, 41).toString('latin1')).toBe('<stata_dta><header><release>119</release>');
    const [pandas, readstat] = await Promise.all([
      expectReadBackMatches('pandas', 'dta', [path], fixture), expectReadBackMatches('readstat', 'dta', [path], fixture)]);
    expect(metadataOf<ReadstatMetadata>(readstat)['Format version']).toBe('119');
    const types = metadataOf<PandasMetadata>(pandas).types;
    // Column i+1 holds i % 101, -(i % 128) and i: byte up to i = 100, int up to 32740, then long.
    expect([types.c1, types.c101, types.c102, types.c32741, types.c32742, types.c32768]).toEqual(['b', 'b', 'h', 'h', 'l', 'l']);
  }, 180_000);
});

/** The fixture as a reader sees it after the renames: same values under the Stata names. */
function renameFixture(fixture: Fixture, stata: readonly string[]): Fixture {
  const byOld = new Map(fixture.table.variables.map((v, i) => [v.name, stata[i]]));
  const rekey = <T>(record: Record<string, T>): Record<string, T> =>
    Object.fromEntries(Object.entries(record).map(([k, v]) => [byOld.get(k) ?? k, v]));
  return {
    ...fixture,
    table: { ...fixture.table, variables: fixture.table.variables.map((v, i) => ({ ...v, name: stata[i] })) },
    expected: rekey(fixture.expected),
    values: rekey(fixture.values),
  };
}

describe('dta from the CLI', () => {
  const CLI = join(PROJECT_ROOT, 'dist', 'cli', 'main.js');
  const SAMPLE = join(PROJECT_ROOT, 'fixtures', 'sample', 'survey.arrow');

  function runCli(args: string[], stdinFile: string): Promise<number | null> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [CLI, ...args], { stdio: ['pipe', 'ignore', 'inherit'] });
      child.on('error', reject);
      child.on('close', resolve);
      createReadStream(stdinFile).pipe(child.stdin);
    });
  }

  it('reads a one-shot Arrow stream on stdin and writes what a re-readable source gives', async () => {
    const out = join(root, 'cli');
    expect(await runCli(['-', '--format', 'dta', '--out', out, '--name', 'survey'], SAMPLE)).toBe(0);
    expect(readdirSync(out)).toEqual(['survey.dta']);
    const piped = readFileSync(join(out, 'survey.dta'));
    const exp = await exportTable(fromIPC(SAMPLE), { format: 'dta', out: join(root, 'cli-file'), name: 'survey', dta: { timestamp: TIMESTAMP } });
    const direct = readFileSync(exp.files[0].path as string);
    // The same bytes apart from the 17-byte timestamp (the CLI writes the current time).
    const at = direct.indexOf('<timestamp>') + 12;
    expect(piped.length).toBe(direct.length);
    expect(Buffer.concat([piped.subarray(0, at), piped.subarray(at + 17)]).equals(Buffer.concat([direct.subarray(0, at), direct.subarray(at + 17)]))).toBe(true);
  }, 120_000);
});
