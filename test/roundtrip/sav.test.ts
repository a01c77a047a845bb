/**
 * Round trips through the sav encoder (bytecode, uncompressed and zsav) via the public
 * exportTable API, judged by the ReadStat CLI and GNU PSPP, never by the library's own code:
 * every core fixture, plus the cases SPSS writers get wrong (string widths at the segment
 * limits, multibyte text across segment boundaries, names SPSS forbids, value labels, 0 rows),
 * also from a one-shot stream (first pass over a spool). Known reader losses come from
 * test/helpers/reader-quirks.ts; nothing is skipped.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import { afterAll, describe, expect, it } from 'vitest';
import { exportTable, fromBatches, type ExportRequest, type SourceInput } from '../../src/index.js';
import { expectSameWithOneWorker } from '../helpers/workers.js';
import type { Export, Rename, SavOptions, Variable } from '../../src/index.js';
import type { Fixture } from '../fixtures/tables.js';
import { defineFixture } from '../fixtures/build.js';
import { ALL_FIXTURES, allTypes } from '../fixtures/tables.js';
import type { ReadBack } from '../helpers/readers.js';
import { READERS_BY_FORMAT, expectReadBackMatches } from '../helpers/readers.js';

type Compression = NonNullable<SavOptions['compression']>;
const COMPRESSIONS: readonly Compression[] = ['bytecode', 'none', 'zsav'];
const NOW = new Date(Date.UTC(2025, 10, 24, 12, 34, 56));

const root = mkdtempSync(join(tmpdir(), 'roundtrip-sav-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function* oneShot(fixture: Fixture): AsyncGenerator<RecordBatch> {
  for (const batch of fixture.batches) yield batch;
}

interface Written {
  path: string;
  exp: Export;
}

/** Exports a fixture to one sav/zsav file and checks the file the export reports. */
async function exportSav(fixture: Fixture, compression: Compression, dir: string, streamed = false): Promise<Written> {
  const input = (): SourceInput => (streamed ? oneShot(fixture) : fromBatches(fixture.batches));
  const request: ExportRequest = { format: 'sav', out: join(root, dir), table: fixture.table, sav: { compression, now: NOW }, workers: 2 };
  const exp = await exportTable(input(), request);
  expect(exp.errorMessage).toBeNull();
  expect(exp.status).toBe('completed');
  await expectSameWithOneWorker(input, request, exp);
  expect(exp.files).toHaveLength(1);
  const [file] = exp.files;
  if (file.path === null) throw new Error('no local path');
  expect(basename(file.path)).toBe(`${fixture.name}.${compression === 'zsav' ? 'zsav' : 'sav'}`);
  expect(statSync(file.path).size).toBe(file.size);
  expect(createHash('md5').update(readFileSync(file.path)).digest('hex')).toBe(file.md5);
  expect(file.rows).toBe(fixture.table.numRows);
  return { path: file.path, exp };
}

/** The fixture under the names the export gave its columns (reported renames). */
function renamed(fixture: Fixture, renames: readonly Rename[]): Fixture {
  const to = new Map(renames.map((r) => [r.from, r.to]));
  const name = (n: string): string => to.get(n) ?? n;
  const rekey = <T>(record: Record<string, T>): Record<string, T> => Object.fromEntries(Object.entries(record).map(([k, v]) => [name(k), v]));
  return {
    ...fixture,
    table: { ...fixture.table, variables: fixture.table.variables.map((v) => ({ ...v, name: name(v.name) })) },
    expected: rekey(fixture.expected),
    values: rekey(fixture.values),
  };
}

interface ReadstatMeta {
  Rows: string;
  Columns: string;
  'Text encoding': string;
  Compression: string;
  'Table label'?: string;
  variables: { name: string; label?: string; categories?: { code: number | string; label: string }[] }[];
}
interface PsppMeta {
  messages: string[];
  Variables: string[][];
  'Value Labels'?: string[][];
  'File Label'?: string[][];
}
const metaOf = <T>(got: ReadBack | null): T => (got as unknown as { metadata: T }).metadata;

/** What `readstat f.sav` says of the compression (it prints no line for an uncompressed file). */
const READSTAT_COMPRESSION: Record<Compression, string | undefined> = { bytecode: 'rows', none: undefined, zsav: 'binary' };

/** The print format the DESIGN type table gives each column, from the fixture's own values. */
function expectedFormat(fixture: Fixture, v: Variable): string {
  const values = fixture.values[v.name];
  switch (v.type) {
    case 'integer': {
      const ints = values.filter((x): x is bigint => typeof x === 'bigint');
      return ints.length ? `F${Math.max(...ints.map((x) => x.toString().length))}.0` : 'F8.0';
    }
    case 'float': return 'F8.2';
    case 'boolean': return 'F1.0';
    case 'date': return 'DATE11';
    case 'dateTime': return 'DATETIME27.6';
    case 'time': return 'TIME15.6';
    default: {
      const widest = Math.max(1, ...values.map((x) => (typeof x === 'string' ? Buffer.byteLength(x) : 0)));
      return `A${widest}`;
    }
  }
}

/** Reads the file with every sav reader, value by value, and checks what each says of the dictionary. */
async function checkFile(fixture: Fixture, written: Written, compression: Compression): Promise<{ readstat: ReadstatMeta; pspp: PsppMeta }> {
  const target = renamed(fixture, written.exp.renames);
  const metas: Record<string, unknown> = {};
  for (const reader of READERS_BY_FORMAT.sav) {
    metas[reader] = metaOf(await expectReadBackMatches(reader, 'sav', [written.path], target));
  }
  const readstat = metas.readstat as ReadstatMeta;
  const pspp = metas.pspp as PsppMeta;
  const names = target.table.variables.map((v) => v.name);
  expect(readstat.Rows).toBe(String(fixture.table.numRows));
  expect(readstat['Text encoding']).toBe('UTF-8');
  expect(readstat.Compression).toBe(READSTAT_COMPRESSION[compression]);
  expect(readstat['Table label']).toBe(fixture.table.description ?? fixture.table.name);
  expect(readstat.variables.map((v) => v.name)).toEqual(names);
  expect(readstat.variables.map((v) => v.label ?? null)).toEqual(target.table.variables.map((v) => v.label ?? null));
  expect(pspp.messages, 'PSPP printed warnings about the file').toEqual([]);
  const rows = pspp.Variables.slice(1);
  expect(rows.map((r) => r[0])).toEqual(names);
  expect(rows.map((r) => r[2])).toEqual(target.table.variables.map((v) => v.label ?? ''));
  expect(rows.map((r) => r[7])).toEqual(target.table.variables.map((v) => expectedFormat(target, v)));
  expect(pspp['File Label']?.[0]?.[1]).toBe(fixture.table.description ?? fixture.table.name);
  return { readstat, pspp };
}

// ---- the cases beyond the core fixtures ---------------------------------------------------------

const emoji = '😀'; // 4 bytes: straddles the 255-byte segment boundaries (255 is odd)
const widths = defineFixture('string_widths', [
  { name: 'w8', type: 'string' }, { name: 'w9', type: 'string' }, { name: 'w255', type: 'string' },
  { name: 'w256', type: 'string' }, { name: 'w504', type: 'string' }, { name: 'w505', type: 'string' },
  { name: 'w32767', type: 'string', label: 'The widest SPSS string' },
  { name: 'boundaries', type: 'string', label: 'Multibyte characters across segment and slot boundaries' },
], {
  w8: ['12345678', 'é', null, '', '中文'],
  w9: ['123456789', 'x', '', null, '1234567é'],
  w255: ['a'.repeat(255), 'a'.repeat(254), null, `${'a'.repeat(252)}中`, '      x'],
  w256: ['b'.repeat(256), `${'b'.repeat(254)}é`, `${'b'.repeat(255)}`, null, 'short'],
  w504: ['c'.repeat(504), `${'c'.repeat(253)}${emoji}${'c'.repeat(247)}`, '', null, `${'c'.repeat(496)}${emoji}`],
  w505: ['d'.repeat(505), 'd'.repeat(504), `${'d'.repeat(501)}${emoji}`, null, 'd'],
  w32767: ['x'.repeat(32767), `${emoji.repeat(8191)}abc`, null, '', `${'é'.repeat(16383)}z`],
  boundaries: [`${'a'.repeat(254)}${emoji}${'中'.repeat(80)}`, `${'中'.repeat(85)}é${'中'.repeat(85)}`, `${'é'.repeat(127)}${emoji}z`,
    null, `${'a'.repeat(253)}${'é'.repeat(200)}`],
}, { batchSizes: [2, 0, 3], description: 'String widths at the SPSS segment limits' });

const names = defineFixture('names', [
  { name: 'id', type: 'integer', label: 'lower id' }, { name: 'ID', type: 'integer', label: 'upper ID' },
  { name: 'Age', type: 'integer' }, { name: 'AGE', type: 'integer' }, { name: 'age', type: 'integer' },
  { name: 'BY', type: 'integer' }, { name: 'with', type: 'integer' }, { name: '1st', type: 'integer' },
  { name: 'a b', type: 'integer' }, { name: 'ends.', type: 'integer' }, { name: 'x'.repeat(70), type: 'integer' },
  { name: `${'x'.repeat(64)}y`, type: 'integer' }, { name: 'y'.repeat(64), type: 'integer', label: 'exactly 64 bytes' },
  { name: '中文名', type: 'integer' }, { name: 'longtext', type: 'string' }, { name: 'LONGT0', type: 'integer' },
], {
  id: [1n, 2n], ID: [3n, 4n], Age: [5n, 6n], AGE: [7n, 8n], age: [9n, 10n], BY: [11n, 12n], with: [13n, 14n], '1st': [15n, 16n],
  'a b': [17n, 18n], 'ends.': [19n, 20n], ['x'.repeat(70)]: [21n, 22n], [`${'x'.repeat(64)}y`]: [23n, 24n],
  ['y'.repeat(64)]: [25n, 26n], 中文名: [27n, 28n], longtext: ['z'.repeat(600), 'short'], LONGT0: [29n, 30n],
});

/** The renames the names fixture must get: deterministic, in column order. */
const NAME_RENAMES: [string, string][] = [
  ['ID', 'ID_2'], ['AGE', 'AGE_2'], ['age', 'age_3'], ['BY', 'BY_'], ['with', 'with_'], ['1st', 'v1st'], ['a b', 'a_b'],
  ['ends.', 'ends_'], ['x'.repeat(70), 'x'.repeat(64)], [`${'x'.repeat(64)}y`, `${'x'.repeat(62)}_2`],
];

/** 147 bytes: cut to 119 (the 57th é would end past byte 120). */
const CHERRY = `Cherry ${'é'.repeat(70)}`;
const labelled = defineFixture('value_labels', [
  { name: 'code', type: 'integer', label: 'Coded answer', valueLabels: [{ value: '1', label: 'Yes' }, { value: '2', label: 'No' }, { value: '-9', label: 'Refused' }] },
  { name: 'score', type: 'float', valueLabels: [{ value: '0.5', label: 'half' }, { value: '1e3', label: 'a thousand' }] },
  { name: 'flag', type: 'boolean', valueLabels: [{ value: 'true', label: 'set' }, { value: 'false', label: 'unset' }] },
  { name: 'short', type: 'string', valueLabels: [{ value: 'a', label: 'Apple' }, { value: 'ccc', label: CHERRY }] },
  { name: 'medium', type: 'string', valueLabels: [{ value: 'banana split', label: 'Banana' }, { value: 'x', label: 'Ex' }] },
  { name: 'long', type: 'string', valueLabels: [{ value: 'v'.repeat(300), label: 'All v' }, { value: 'w', label: 'Double-u' }] },
], {
  code: [1n, 2n, -9n, 3n], score: [0.5, 1000, 2.25, null], flag: [true, false, null, true],
  short: ['a', 'ccc', 'bb', null], medium: ['banana split', 'x', 'y', ''], long: ['v'.repeat(300), 'w', null, 'other'],
});

const EXTRA_FIXTURES: readonly Fixture[] = [widths, names, labelled];

describe.each(COMPRESSIONS)('sav (%s) round trip, judged by ReadStat and PSPP', (compression) => {
  it.concurrent.each([...ALL_FIXTURES, ...EXTRA_FIXTURES].map((fixture) => ({ fixture, name: fixture.name })))('$name', async ({ fixture }) => {
    const written = await exportSav(fixture, compression, `${compression}-${fixture.name}`);
    await checkFile(fixture, written, compression);
  }, 120_000);
});

describe('sav from a one-shot stream (first pass over a spool)', () => {
  it.concurrent.each([allTypes, widths].map((fixture) => ({ fixture, name: fixture.name })))('$name', async ({ fixture }) => {
    // No statistics in the table and a generator as the source: the pipeline must spool it.
    const written = await exportSav(fixture, 'bytecode', `stream-${fixture.name}`, true);
    await checkFile(fixture, written, 'bytecode');
    const fromArray = await exportSav(fixture, 'bytecode', `array-${fixture.name}`);
    expect(readFileSync(written.path).equals(readFileSync(fromArray.path)), 'same bytes as from an array').toBe(true);
  }, 120_000);
});

describe('sav names, labels and widths', () => {
  it('refuses a string over 32,767 bytes before the first byte, naming the column, and leaves no file', async () => {
    const tooLong = defineFixture('too_long', [{ name: 'id', type: 'integer' }, { name: 'essay', type: 'string' }],
      { id: [1n, 2n], essay: ['short', 'x'.repeat(32768)] });
    const out = join(root, 'too-long');
    const exp = await exportTable(oneShot(tooLong), { format: 'sav', out, table: tooLong.table });
    expect(exp.status).toBe('failed');
    expect(exp.errorCode).toBe('STRING_TOO_LONG');
    expect(exp.errorMessage).toMatch(/^sav, column "essay": .*32768 bytes.*32767/);
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
  });

  it('renames deterministically and reports every rename', async () => {
    const { exp } = await exportSav(names, 'bytecode', 'renames');
    expect(exp.renames.map((r) => [r.from, r.to])).toEqual(NAME_RENAMES);
    for (const r of exp.renames) expect(r.reason).toMatch(/^SPSS variable name /);
  });

  it('writes value labels for numbers, short strings (3/4) and long strings (subtype 21)', async () => {
    const written = await exportSav(labelled, 'bytecode', 'labels');
    expect(written.exp.warnings).toEqual([
      'sav, column "short": value label "' + CHERRY + '" was cut to 119 bytes (SPSS allows 120)',
    ]);
    const { readstat, pspp } = await checkFile(labelled, written, 'bytecode');
    const categories = Object.fromEntries(readstat.variables.map((v) => [v.name, v.categories?.map((c) => [c.code, c.label]) ?? null]));
    expect(categories.code).toEqual([[1, 'Yes'], [2, 'No'], [-9, 'Refused']]);
    expect(categories.score).toEqual([[0.5, 'half'], [1000, 'a thousand']]);
    expect(categories.flag).toEqual([[1, 'set'], [0, 'unset']]);
    expect(categories.short).toEqual([['a', 'Apple'], ['ccc', `Cherry ${'é'.repeat(56)}`]]);
    // ReadStat 1.1.8 drops subtype-21 labels (long strings), also PSPP's own (facts C9): PSPP checks them.
    // PSPP's Value Labels table: variable (its label, else its name) on the first row of each set only.
    const sets = new Map<string, Map<string, string>>();
    let current = '';
    for (const [variable, value, label] of (pspp['Value Labels'] ?? []).slice(1)) {
      if (variable !== '') current = variable;
      if (!sets.has(current)) sets.set(current, new Map());
      sets.get(current)?.set(value, label);
    }
    const setOf = (key: string): [string, string][] => [...(sets.get(key) ?? new Map<string, string>())];
    expect(setOf('Coded answer')).toEqual([['-9', 'Refused'], ['1', 'Yes'], ['2', 'No']]);
    expect(setOf('flag')).toEqual([['0', 'unset'], ['1', 'set']]);
    expect(setOf('short')).toEqual([['a', 'Apple'], ['ccc', `Cherry ${'é'.repeat(56)}`]]);
    expect(setOf('medium')).toEqual([['banana split', 'Banana'], ['x', 'Ex']]);
    expect(setOf('long')).toEqual([['v'.repeat(300), 'All v'], ['w', 'Double-u']]);
  });
});
