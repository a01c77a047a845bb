/**
 * Unit tests of the dta encoder (src/formats/dta): storage type choice at every boundary, name
 * rules and renames, the header and map layout, a byte-exact golden file (checked with the
 * ReadStat CLI too, so it is not just self-consistent), errors before the first byte and
 * warnings. Round trips through independent readers are in test/roundtrip/dta.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import { afterAll, describe, expect, it } from 'vitest';
import { dtaEncoder, planDta, type DtaOptions } from '../../src/formats/dta/index.js';
import { dtaKernel } from '../../src/formats/dta/kernel.js';
import { viewColumns } from '../../src/table/columns.js';
import { batchOf, column, tableOf } from '../helpers/columns.js';
import { assignStataNames } from '../../src/formats/dta/names.js';
import { formatTimestamp, writeHeader } from '../../src/formats/dta/header.js';
import { SectionWriter } from '../../src/formats/dta/section-writer.js';
import { RELEASE_119, releaseFor } from '../../src/formats/dta/spec.js';
import { chooseIntegerStorage, chooseStringStorage, type CellKind } from '../../src/formats/dta/types.js';
import type { Patch } from '../../src/formats/protocol.js';
import { exportTable, fromBatches } from '../../src/index.js';
import type { Table, Variable } from '../../src/table/types.js';
import { defineFixture, makeBatches, type Fixture, type SourceValue } from '../fixtures/build.js';
import { mediumRandom, unevenBatches } from '../fixtures/tables.js';
import { PROJECT_ROOT } from '../helpers/readers.js';
import { MemorySink, measured } from '../helpers/memory-sink.js';

const TIMESTAMP = new Date(Date.UTC(2024, 0, 2, 3, 4));
const root = mkdtempSync(join(tmpdir(), 'dta-unit-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Encoded { bytes: Buffer; warnings: string[]; renames: { from: string; to: string }[]; patches: Patch[] }

/** Encodes batches straight through the protocol (no pipeline), patches applied. */
async function encode(table: Table, batches: readonly RecordBatch[], options: DtaOptions = { timestamp: TIMESTAMP },
  declaredRows?: number): Promise<Encoded> {
  const stats = measured(table, batches);
  const prepared = dtaEncoder.prepare({ ...stats, numRows: declaredRows ?? stats.numRows }, options);
  const sink = new MemorySink();
  const file = await prepared.beginFile(sink);
  let row = 0;
  for (const b of batches) {
    await file.writeBatch(b, row);
    row += b.numRows;
  }
  const patches: Patch[] = await file.endFile();
  const bytes = sink.bytes();
  for (const p of patches) bytes.set(p.bytes, p.position);
  return { bytes, warnings: [...prepared.warnings, ...(file.warnings ?? [])], renames: [...prepared.renames], patches };
}

describe('dta storage types', () => {
  const cases: [bigint | undefined, bigint | undefined, CellKind][] = [
    [undefined, undefined, 'integerByte'], // all null
    [-127n, 100n, 'integerByte'],
    [0n, 101n, 'integerInt'], // 101 is byte's `.`
    [-128n, 0n, 'integerInt'], // -128 is not a valid byte
    [-32767n, 32740n, 'integerInt'],
    [0n, 32741n, 'integerLong'],
    [-32768n, 0n, 'integerLong'],
    [-2147483647n, 2147483620n, 'integerLong'],
    [0n, 2147483621n, 'integerDouble'],
    [-2147483648n, 0n, 'integerDouble'],
    [-(2n ** 63n) + 1n, 2n ** 63n - 1n, 'integerDouble'],
  ];
  it.each(cases)('integers %s..%s are %s', (min, max, kind) => {
    expect(chooseIntegerStorage(min, max).kind).toBe(kind);
  });

  it.each([[0, 1, 'str'], [1, 1, 'str'], [2045, 2045, 'str'], [2046, 32768, 'strL']] as const)(
    'a string of at most %i bytes has type code %i (%s)', (bytes, code, kind) => {
      const storage = chooseStringStorage(bytes);
      expect([storage.typeCode, storage.kind]).toEqual([code, kind]);
    });

  it('warns that integers beyond ±2^53 are rounded, and only then', () => {
    const warnings = (min: bigint, max: bigint): readonly string[] => dtaEncoder.prepare({
      name: 't', numRows: 1, variables: [{ name: 'x', type: 'integer' }], statistics: { x: { min, max, nullCount: 0 } },
    }, {}).warnings;
    expect(warnings(0n, 2n ** 53n)).toEqual([]);
    expect(warnings(0n, 2n ** 53n + 1n)).toEqual([expect.stringContaining('column "x": values from 0 to 9007199254740993 exceed')]);
    expect(warnings(-(2n ** 53n) - 1n, 0n)).toHaveLength(1);
  });

  it('format 118 up to 32,767 variables, 119 beyond', () => {
    expect(releaseFor(32_767).release).toBe(118);
    expect(releaseFor(32_768).release).toBe(119);
  });
});

describe('dta names', () => {
  const cases: [string[], string[]][] = [
    [['id', 'Age', '_x', 'a1'], ['id', 'Age', '_x', 'a1']],
    [['int', 'long', '_n', '_N', '_se', 'strL', 'str1', 'str2045', 'if', 'using'],
      ['int_', 'long_', '_n_', '_N_', '_se_', 'strL_', 'str1_', 'str2045_', 'if_', 'using_']],
    [['strx', 'str', 'STR1', 'string'], ['strx', 'str', 'STR1', 'string']], // only str<digits> is reserved
    [['my var', '1st', '2nd-try', 'café', 'Größe', '中文', '😀', 'x.y'], ['my_var', '_1st', '_2nd_try', 'cafe', 'Gro_e', 'v6', 'v7', 'x_y']],
    [['a'.repeat(33), 'a'.repeat(32)], ['a'.repeat(30) + '_2', 'a'.repeat(32)]], // the valid name keeps its name
    [['a b', 'a_b', 'a-b'], ['a_b_2', 'a_b', 'a_b_3']],
    [['ID', 'id'], ['ID', 'id']], // Stata names are case-sensitive
    [['str' + '1'.repeat(40)], ['str' + '1'.repeat(28) + '_']],
  ];
  it.each(cases)('%j → %j', (names, expected) => {
    expect(assignStataNames(names).names).toEqual(expected);
  });

  it('reports each rename with its reasons, deterministically', () => {
    const first = assignStataNames(['int', 'a b', 'a_b', '1x', 'x'.repeat(40)]);
    expect(first.renames).toEqual([
      { from: 'int', to: 'int_', reason: '"int" is a reserved word in Stata' },
      { from: 'a b', to: 'a_b_2', reason: 'Stata names use only the letters A-Z and a-z, digits and "_"; "a_b" is the Stata name of another column' },
      { from: '1x', to: '_1x', reason: 'Stata names cannot start with a digit' },
      { from: 'x'.repeat(40), to: 'x'.repeat(32), reason: 'Stata names have at most 32 characters' },
    ]);
    expect(assignStataNames(['int', 'a b', 'a_b', '1x', 'x'.repeat(40)])).toEqual(first);
  });
});

describe('dta header', () => {
  it('timestamps are "dd Mon yyyy hh:mm" in UTC with English months', () => {
    expect(formatTimestamp(TIMESTAMP)).toBe('02 Jan 2024 03:04');
    expect(formatTimestamp(new Date(Date.UTC(1999, 11, 31, 23, 59)))).toBe('31 Dec 1999 23:59');
    expect(formatTimestamp(new Date(Date.UTC(10000, 0, 1)))).toBe('');
  });

  it('119 writes K as u32, so N sits at byte 81 (118: 79)', () => {
    const w = new SectionWriter(0);
    const places = writeHeader(w, { release: RELEASE_119, K: 40_000, N: 5, label: new Uint8Array(0), timestamp: '' });
    const bytes = Buffer.from(w.finish());
    expect(places.nPosition).toBe(81);
    expect(bytes.readUInt32LE(70)).toBe(40_000);
    expect(bytes.readBigUInt64LE(81)).toBe(5n);
  });
});

const GOLDEN = join(PROJECT_ROOT, 'fixtures', 'golden', 'small.dta');

/** The golden table: one column of each kind, nulls, NaN, a strL, value labels, a rename. */
const small: Fixture = defineFixture('small', [
  { name: 'id', type: 'integer', label: 'Row' },
  { name: 'count', type: 'integer', label: 'Needs a long' },
  { name: 'amount', type: 'float', label: 'Money' },
  { name: 'flag', type: 'boolean' },
  { name: 'day', type: 'date', label: 'Day' },
  { name: 'at', type: 'dateTime', label: 'When' },
  { name: 'clock', type: 'time' },
  { name: 'name', type: 'string', label: 'Näme' },
  { name: 'note', type: 'string', label: 'A strL' },
  { name: 'in', type: 'integer', label: 'Answer', valueLabels: [{ value: '1', label: 'yes' }, { value: '0', label: 'no' }] },
], {
  id: [1n, 2n, 3n],
  count: [100000n, null, -5n],
  amount: [1.5, NaN, null],
  flag: [true, null, false],
  day: ['2024-02-29', null, '1960-01-01'],
  at: ['2024-02-29T12:34:56.789500', null, '1960-01-01T00:00:00'],
  clock: ['23:59:59.999999', null, '00:00:00.001'],
  name: ['é', null, 'abc'],
  note: ['L'.repeat(2046), '', null],
  in: [1n, 0n, null],
}, { description: 'Golden table' });

describe('dta golden file', () => {
  it('fixtures/golden/small.dta holds exactly the bytes written (UPDATE_GOLDEN=1 rewrites it)', async () => {
    const { bytes, renames } = await encode(small.table, small.batches);
    expect(renames).toEqual([{ from: 'in', to: 'in_', reason: '"in" is a reserved word in Stata' }]);
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(GOLDEN, bytes);
    expect(existsSync(GOLDEN), `${GOLDEN} is missing: run with UPDATE_GOLDEN=1 once and review it`).toBe(true);
    expect(bytes.equals(readFileSync(GOLDEN))).toBe(true);
  });

  it('the public API writes the golden bytes too', async () => {
    const exp = await exportTable(fromBatches(small.batches), { format: 'dta', out: join(root, 'golden'), table: small.table, dta: { timestamp: TIMESTAMP } });
    expect(readFileSync(exp.files[0].path as string).equals(readFileSync(GOLDEN))).toBe(true);
  });

  it('the golden file reads back in the ReadStat CLI exactly', () => {
    const csv = execFileSync('readstat', [GOLDEN, '-'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    expect(csv).toBe([
      '"id","count","amount","flag","day","at","clock","name","note","in_"',
      `1,100000,1.500000,1,2024-02-29,${Date.UTC(2024, 1, 29, 12, 34, 56, 790) + 315_619_200_000}.000000,86399999.000000,"é","${'L'.repeat(2046)}",1`,
      '2,,,,,,,"","",0',
      '3,-5,,0,1960-01-01,0.000000,1.000000,"abc","",',
      '',
    ].join('\n'));
    const info = execFileSync('readstat', [GOLDEN], { encoding: 'utf8' });
    expect(info).toContain('Columns: 10\nRows: 3\nTable label: Golden table\nFormat version: 118\nByte order: little-endian\nTimestamp: 02 Jan 2024 03:04');
  });

  it('its map points at every section tag, and N at byte 79 holds the row count', () => {
    const bytes = readFileSync(GOLDEN);
    expect(bytes.readBigUInt64LE(79)).toBe(3n);
    const mapAt = bytes.indexOf('<map>');
    const map = Array.from({ length: 14 }, (_, i) => Number(bytes.readBigUInt64LE(mapAt + 5 + 8 * i)));
    const tags = ['<stata_dta>', '<map>', '<variable_types>', '<varnames>', '<sortlist>', '<formats>', '<value_label_names>',
      '<variable_labels>', '<characteristics>', '<data>', '<strls>', '<value_labels>', '</stata_dta>'];
    tags.forEach((tag, i) => expect(bytes.subarray(map[i], map[i] + tag.length).toString('latin1'), tag).toBe(tag));
    expect(map[13]).toBe(bytes.length);
    // Rows are 1+4+8+1+4+8+8+3+8+1 = 46 bytes (byte, long, double, byte, long, double, double, str3, strL, byte).
    expect(map[10] - map[9]).toBe('<data>'.length + 3 * 46 + '</data>'.length);
  });
});

describe('dta map and N: planned up front, patched only when the file came out otherwise', () => {
  const plain = defineFixture('plain', [{ name: 'x', type: 'integer' }, { name: 's', type: 'string' }], { x: [1n, 2n], s: ['a', 'bc'] });

  it('needs no patch without strLs (the sink then hashes the file once, as it streams)', async () => {
    expect((await encode(plain.table, plain.batches)).patches).toEqual([]);
  });

  it('patches the map when strL records make the file longer than planned', async () => {
    const { patches, bytes } = await encode(small.table, small.batches);
    expect(patches.map((p) => [p.position, p.bytes.length])).toEqual([[79, 8], [bytes.indexOf('<map>') + 5, 112]]);
  });

  it('patches N and the map when fewer rows arrive than the table declared, so the file stays readable', async () => {
    const { bytes, patches } = await encode(plain.table, plain.batches, { timestamp: TIMESTAMP }, 5);
    expect(patches).toHaveLength(2);
    expect(bytes.readBigUInt64LE(79)).toBe(2n);
    const path = join(root, 'short.dta');
    writeFileSync(path, bytes);
    expect(execFileSync('readstat', [path, '-'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })).toBe('"x","s"\n1,"a"\n2,"bc"\n');
  });
});

describe('dta errors before the first byte, naming the column', () => {
  const table = (variables: Variable[], statistics: Table['statistics'] = {}): Table => ({ name: 't', numRows: 1, variables, statistics });

  it('more variables than format 119 holds', () => {
    const variables = Array.from({ length: 120_001 }, (_, i): Variable => ({ name: `v${i}`, type: 'boolean' }));
    expect(() => dtaEncoder.prepare(table(variables), {})).toThrow(expect.objectContaining({
      code: 'TOO_MANY_VARIABLES', column: 'v120000', message: expect.stringContaining('at most 120000 variables'),
    }));
  });

  it('a string longer than a strL holds', () => {
    expect(() => dtaEncoder.prepare(table([{ name: 'text', type: 'string' }], { text: { maxByteLength: 2_000_000_001 } }), {}))
      .toThrow(expect.objectContaining({ code: 'STRING_TOO_LONG', column: 'text', format: 'dta' }));
  });

  it('an invalid timestamp option', () => {
    expect(() => dtaEncoder.prepare(table([{ name: 'x', type: 'float' }]), { timestamp: new Date(NaN) }))
      .toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
  });

  it('statistics that do not match the data fail at the row, and no file is left', async () => {
    const fixture = defineFixture('liar', [{ name: 'n', type: 'integer' }, { name: 's', type: 'string' }],
      { n: [1n, 1000n], s: ['a', 'abc'] });
    const out = join(root, 'liar');
    for (const [stats, code, column] of [
      [{ n: { min: 0n, max: 100n, nullCount: 0 }, s: { maxByteLength: 3 } }, 'VALUE_OUT_OF_RANGE', 'n'],
      [{ n: { min: 0n, max: 1000n, nullCount: 0 }, s: { maxByteLength: 1 } }, 'STRING_TOO_LONG', 's'],
    ] as const) {
      const exp = await exportTable(fromBatches(fixture.batches), { format: 'dta', out, table: { ...fixture.table, statistics: stats } });
      expect(exp.status).toBe('failed');
      expect(exp.errorMessage).toMatch(new RegExp(`^dta, column "${column}", row 1: `));
      expect(exp.errorCode).toBe(code);
      expect(readdirSync(out)).toEqual([]);
    }
  });
});

describe('dta values and warnings', () => {
  it('±Infinity and doubles beyond ±8.988e307 become `.` with a warning; NaN silently', async () => {
    const fixture = defineFixture('inf', [{ name: 'x', type: 'float' }], { x: [Infinity, -Infinity, 1e308, NaN, 8.98846567431158e307] });
    const { bytes, warnings } = await encode(fixture.table, fixture.batches);
    expect(warnings).toEqual(['column "x": 3 value(s) a Stata double cannot hold (±Infinity, or beyond ±8.988e307) written as missing (.)']);
    const data = bytes.indexOf('<data>') + 6;
    const cells = Array.from({ length: 5 }, (_, i) => bytes.readBigUInt64LE(data + 8 * i));
    expect(cells.slice(0, 4)).toEqual([0x7fe0000000000000n, 0x7fe0000000000000n, 0x7fe0000000000000n, 0x7fe0000000000000n]);
    expect(bytes.readDoubleLE(data + 32)).toBe(8.98846567431158e307);
  });

  it('dates beyond a Stata long become `.` with a warning', async () => {
    const fixture = defineFixture('far', [{ name: 'd', type: 'date' }], { d: [2_147_480_000, 0] });
    const { bytes, warnings } = await encode(fixture.table, fixture.batches);
    expect(warnings).toEqual(['column "d": 1 date(s) beyond the range of a Stata long written as missing (.)']);
    const data = bytes.indexOf('<data>') + 6;
    expect([bytes.readInt32LE(data), bytes.readInt32LE(data + 4)]).toEqual([2147483621, 3653]);
  });

  it('writes the same bytes from one batch as from uneven batches and across 1 MiB chunks', async () => {
    for (const fixture of [unevenBatches, mediumRandom]) {
      const rows = fixture.table.numRows ?? 0;
      const one = makeBatches(fixture.table.variables, fixture.values, [rows]);
      const [a, b] = await Promise.all([encode(fixture.table, fixture.batches), encode(fixture.table, one)]);
      expect(a.bytes.equals(b.bytes)).toBe(true);
    }
  });

  it('reads sliced batches (bit offsets not on a byte boundary) like whole ones', async () => {
    const rows = unevenBatches.table.numRows ?? 0;
    const [whole] = makeBatches(unevenBatches.table.variables, unevenBatches.values, [rows]);
    const sliced = [whole.slice(0, 3), whole.slice(3, 3), whole.slice(3, 130), whole.slice(130, rows)];
    const [a, b] = await Promise.all([encode(unevenBatches.table, [whole]), encode(unevenBatches.table, sliced)]);
    expect(a.bytes.equals(b.bytes)).toBe(true);
  });

  it('spools strLs beyond 1 MiB to an unlinked temp file, in (o, v) order, and leaves nothing behind', async () => {
    const dir = mkdtempSync(join(root, 'spool-'));
    const big: SourceValue[] = Array.from({ length: 300 }, (_, i) => (i % 7 === 3 ? null : `${i}:${'x'.repeat(5000 + i)}`));
    const fixture = defineFixture('spool', [{ name: 'a', type: 'string' }, { name: 'b', type: 'string' }], {
      a: big, b: big.map((v, i) => (i === 5 ? 'y'.repeat(1_200_000) : v === null ? '' : `b${v}`)),
    }, { batchSizes: [100, 0, 200] });
    const { bytes } = await encode(fixture.table, fixture.batches, { timestamp: TIMESTAMP, tempDir: dir });
    expect(readdirSync(dir)).toEqual([]);
    let at = bytes.indexOf('<strls>') + 7;
    const seen: string[] = [];
    while (bytes.subarray(at, at + 3).toString('latin1') === 'GSO') {
      const v = bytes.readUInt32LE(at + 3);
      const o = Number(bytes.readBigUInt64LE(at + 7));
      const len = bytes.readUInt32LE(at + 16);
      expect(bytes[at + 15]).toBe(130);
      const text = bytes.subarray(at + 20, at + 20 + len - 1).toString('utf8');
      expect(bytes[at + 20 + len - 1]).toBe(0);
      expect(text).toBe(fixture.values[v === 1 ? 'a' : 'b'][o - 1]);
      seen.push(`${o}/${v}`);
      at += 20 + len;
    }
    expect(bytes.subarray(at, at + 8).toString('latin1')).toBe('</strls>');
    const expected = big.flatMap((value, i) => [...(value === null ? [] : [`${i + 1}/1`]), ...(i === 5 || value !== null ? [`${i + 1}/2`] : [])]);
    expect(seen).toEqual(expected);
  });
});

describe('dta kernel (worker threads)', () => {
  it('writes every byte of its rows, str# padding included: a chunk in reused memory holding old bytes comes out the same', () => {
    const table: Table = {
      ...tableOf({ s: 'string', n: 'integer', t: 'string' }),
      statistics: { s: { maxByteLength: 11 }, n: { min: -5n, max: 100_000n }, t: { maxByteLength: 3 } },
    };
    const s = ['', null, 'a', 'abcd', 'abcde', 'hello world', 'é', null, 'xyz'];
    const n = [1n, null, -5n, 100_000n, 0n, 7n, null, 3n, 42n];
    const t = ['abc', 'ab', null, '', 'a', 'abc', 'b', 'c', null];
    const batch = batchOf(table, [column('string', s), column('integer', n), column('string', t)]);
    const { plan } = planDta(table, {}, {}, []);
    const encode = dtaKernel.compile({ columns: plan.columns, columnOffsets: plan.columnOffsets, rowLength: plan.rowLength, strlVBytes: plan.release.strlVBytes });
    const cols = viewColumns(batch, plan.types);
    const into = (fill: number): Uint8Array => encode(cols, batch.numRows, 0, (bytes) => new Uint8Array(new SharedArrayBuffer(bytes)).fill(fill)).bytes[0];
    const clean = into(0);
    expect(clean.length).toBe(batch.numRows * plan.rowLength);
    for (const fill of [0xff, 0x41]) expect(Buffer.from(into(fill)).equals(Buffer.from(clean)), `old bytes ${fill}`).toBe(true);
    // Row 1: s is null ("", all NUL), n is missing, t is "ab" then one NUL.
    const row = clean.subarray(plan.rowLength, 2 * plan.rowLength);
    expect([...row.subarray(plan.columnOffsets[0], plan.columnOffsets[0] + 11)]).toEqual(Array(11).fill(0));
    expect([...row.subarray(plan.columnOffsets[2], plan.columnOffsets[2] + 3)]).toEqual([0x61, 0x62, 0]);
  });
});
