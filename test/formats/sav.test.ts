/**
 * Unit tests of the sav encoder's parts against the fact sheet (../shared/reference/
 * dta-sav-facts.md part B): bytecode opcodes and groups, uncompressed slots, zsav blocks,
 * segment maths, long and short names, validation before the first byte. The encoder runs
 * straight into memory here; test/roundtrip/sav.test.ts judges whole files with ReadStat/PSPP.
 */
import type { RecordBatch } from 'apache-arrow';
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ExportError } from '../../src/errors.js';
import { opcodeOf } from '../../src/formats/sav/case-block.js';
import { secondsOfMicros } from '../../src/formats/sav/cells.js';
import { savEncoder, type SavOptions } from '../../src/formats/sav/index.js';
import { planLayout, segmentSlots, segmentWidths } from '../../src/formats/sav/layout.js';
import { assignLongNames, assignShortNames } from '../../src/formats/sav/names.js';
import type { Table, Variable } from '../../src/table/types.js';
import { defineFixture } from '../fixtures/build.js';
import type { SourceValue } from '../fixtures/build.js';
import { MemorySink, measured } from '../helpers/memory-sink.js';

// ---- running the encoder into memory ------------------------------------------------------------

interface Encoded {
  bytes: Uint8Array;
  /** Bytes before the case data: header, records, 999 terminator (the zheader counts as data). */
  dictionaryLength: number;
  warnings: string[];
}

async function encodeSav(table: Table, batches: readonly RecordBatch[], options: SavOptions = {}): Promise<Encoded> {
  const prepared = savEncoder.prepare(measured(table, batches), { now: new Date(Date.UTC(2024, 0, 2, 3, 4, 5)), ...options });
  const sink = new MemorySink();
  const file = await prepared.beginFile(sink);
  const dictionaryLength = sink.chunks[0].length; // the dictionary is one write; a zsav zheader follows it
  let row = 0;
  for (const b of batches) {
    await file.writeBatch(b, row);
    row += b.numRows;
  }
  const patches = await file.endFile();
  const bytes = new Uint8Array(sink.bytesWritten);
  let at = 0;
  for (const c of sink.chunks) {
    bytes.set(c, at);
    at += c.length;
  }
  for (const p of patches) bytes.set(p.bytes, p.position);
  return { bytes, dictionaryLength, warnings: [...prepared.warnings, ...(file.warnings ?? [])] };
}

async function encodeColumns(variables: Variable[], columns: Record<string, SourceValue[]>, options: SavOptions = {},
  batchSizes?: number[]): Promise<Encoded> {
  const fixture = defineFixture('t', variables, columns, batchSizes ? { batchSizes } : {});
  return encodeSav(fixture.table, fixture.batches, options);
}

const f64 = (x: number): number[] => [...new Uint8Array(new Float64Array([x]).buffer)];
const ascii = (text: string): number[] => [...Buffer.from(text, 'latin1')];
const dataOf = (e: Encoded): number[] => [...e.bytes.subarray(e.dictionaryLength)];
const int32At = (e: Encoded, at: number): number => new DataView(e.bytes.buffer).getInt32(at, true);

// ---- bytecode (facts B7) --------------------------------------------------------------------------

describe('sav bytecode compression (facts B7)', () => {
  it('codes integral −99..151 as value + 100, everything else as 253 plus a raw slot', async () => {
    const e = await encodeColumns([{ name: 'n', type: 'integer' }], { n: [-99n, 0n, 151n, -100n, 152n] });
    expect(dataOf(e)).toEqual([1, 100, 251, 253, 253, 0, 0, 0, ...f64(-100), ...f64(152)]);
  });

  it('keeps −0 and fractions raw, writes SYSMIS (255) for null, NaN and ±Infinity', async () => {
    const e = await encodeColumns([{ name: 'x', type: 'float' }], { x: [-0, 0.5, NaN, null, 1, Infinity, -Infinity, 151.5] });
    expect(dataOf(e)).toEqual([253, 253, 255, 255, 101, 255, 255, 253, ...f64(-0), ...f64(0.5), ...f64(151.5)]);
    expect(opcodeOf(-0)).toBe(253);
    expect(opcodeOf(0)).toBe(100);
    expect(opcodeOf(-99.5)).toBe(253);
  });

  it('writes 254 for string slots of 8 spaces (padding, or content that is all spaces) and 253 otherwise', async () => {
    const e = await encodeColumns([{ name: 's', type: 'string' }], { s: ['', 'abcdefghij', null, '        xy'] });
    expect(dataOf(e)).toEqual([254, 254, 253, 253, 254, 254, 254, 253,
      ...ascii('abcdefgh'), ...ascii('ij      '), ...ascii('xy      ')]);
  });

  it('runs groups across cases and batches, padding only the last group with 0', async () => {
    const e = await encodeColumns([{ name: 'a', type: 'integer' }, { name: 'b', type: 'boolean' }],
      { a: [1n, 2n, 3n, 4n, 500n], b: [true, false, null, true, false] }, {}, [2, 0, 3]);
    expect(dataOf(e)).toEqual([101, 101, 102, 100, 103, 255, 104, 101, 253, 100, 0, 0, 0, 0, 0, 0, ...f64(500)]);
  });

  it('writes raw 8-byte slots without compression: SYSMIS bits for null, strings space-padded', async () => {
    const e = await encodeColumns([{ name: 'a', type: 'integer' }, { name: 's', type: 'string' }],
      { a: [7n, null], s: ['abc', null] }, { compression: 'none' });
    expect(dataOf(e)).toEqual([...f64(7), ...ascii('abc     '), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xef, 0xff, ...ascii('        ')]);
    expect(int32At(e, 72)).toBe(0); // compression 0
  });

  it('writes dates, date-times and times as SPSS seconds (facts B9)', async () => {
    const e = await encodeColumns([{ name: 'd', type: 'date' }, { name: 'dt', type: 'dateTime' }, { name: 't', type: 'time' }],
      { d: ['1582-10-15', '1900-01-01'], dt: ['1970-01-01T00:00:00.5', '1582-10-14T00:00:00'], t: ['00:01:40', '12:00:00.25'] },
      { compression: 'none' });
    const slots = new Float64Array(e.bytes.slice(e.dictionaryLength).buffer);
    expect([...slots]).toEqual([86_400, 12_219_379_200.5, 100, 10_010_390_400, 0, 43_200.25]);
    // µs beyond 2^53 (year 9999): the whole seconds stay exact, the fraction rounds once.
    const micros = 60_000_000n * 2n ** 32n + 4_000_000_123n; // ≈ 2.6e17 µs, far beyond 2^53
    const exact = Number(`${micros / 1_000_000n}.${(micros % 1_000_000n).toString().padStart(6, '0')}`); // correctly rounded
    expect(secondsOfMicros(60_000_000, 4_000_000_123, 0)).toBe(exact);
    expect(secondsOfMicros(-1, 4_294_967_295, 0)).toBe(-0.000001);
  });
});

// ---- layout and names (facts B3, B4, B10) ---------------------------------------------------------

describe('sav very long string segments (facts B4)', () => {
  it.each([
    [8, [8], 1], [9, [9], 2], [255, [255], 32], [256, [255, 4], 33], [504, [255, 252], 64],
    [505, [255, 255, 1], 65], [32767, [...Array<number>(130).fill(255), 7], 130 * 32 + 1],
  ])('width %i → segments %j, %i slots', (width, segments, slots) => {
    expect(segmentWidths(width)).toEqual(segments);
    expect(segments.reduce((n, w) => n + segmentSlots(w), 0)).toBe(slots);
  });

  it('names segments after the first 5 bytes of the short name, skipping names in use', () => {
    const table: Table = {
      name: 't',
      variables: [{ name: 'longtext', type: 'string' }, { name: 'LONGT0', type: 'integer' }, { name: 'LONGT2', type: 'integer' }],
      statistics: { longtext: { maxByteLength: 800 }, LONGT0: { min: 0n, max: 1n }, LONGT2: { min: 0n, max: 1n } },
    };
    const layout = planLayout(table);
    expect(layout.variables[0].segments.map((s) => [s.shortName, s.width, s.firstSlot])).toEqual([
      ['LONGTEXT', 255, 0], ['LONGT1', 255, 32], ['LONGT3', 255, 64], ['LONGT4', 44, 96]]);
    expect(layout.nominal_case_size).toBe(96 + 6 + 2);
  });
});

describe('sav names (facts B3, B10, C12)', () => {
  it('keeps valid long names and renames the rest deterministically, first come first kept', () => {
    const { names, renames } = assignLongNames(['ID', 'id', 'by', 'With', '_x', '9lives', 'a-b', 'end.', 'ok.name', 'é']);
    expect(names).toEqual(['ID', 'id_2', 'by_', 'With_', 'v_x', 'v9lives', 'a_b', 'end_', 'ok.name', 'é']);
    expect(renames.map((r) => r.from)).toEqual(['id', 'by', 'With', '_x', '9lives', 'a-b', 'end.']);
  });

  it('lets a valid name keep itself even when an earlier column is renamed onto it', () => {
    expect(assignLongNames(['a b', 'a_b']).names).toEqual(['a_b_2', 'a_b']);
  });

  it('cuts long names to 64 bytes on a character boundary and keeps them unique', () => {
    const { names } = assignLongNames([`${'é'.repeat(40)}`, `${'é'.repeat(40)}x`]);
    expect(names[0]).toBe('é'.repeat(32));
    expect(names[1]).toBe(`${'é'.repeat(31)}_2`);
    for (const n of names) expect(Buffer.byteLength(n)).toBeLessThanOrEqual(64);
  });

  it('makes short names uppercase, ≤ 8 bytes, unique ignoring case, never reserved', () => {
    const long = ['id', 'Identifier', 'identifier_2', 'ID_2x', '中文', 'to中', 'abcdefghij', 'ABCDEFGH'];
    const { names } = assignShortNames(long, long.map(() => 1));
    expect(names).toEqual(['ID', 'IDENTIFI', 'IDENTI_A', 'ID_2X', 'V', 'TO_A', 'ABCDEF_A', 'ABCDEFGH']);
    expect(new Set(names).size).toBe(names.length);
  });
});

// ---- validation before the first byte ------------------------------------------------------------

describe('sav validation', () => {
  it('refuses a string over 32,767 bytes before any byte, naming the column (STRING_TOO_LONG)', () => {
    const table: Table = { name: 't', variables: [{ name: 'essay', type: 'string' }], statistics: { essay: { maxByteLength: 32768 } } };
    const error = (() => {
      try {
        savEncoder.prepare(table, {});
      } catch (err) {
        return err;
      }
      return null;
    })();
    expect(error).toBeInstanceOf(ExportError);
    expect((error as ExportError).code).toBe('STRING_TOO_LONG');
    expect((error as ExportError).column).toBe('essay');
  });

  it('refuses a value label whose key is not a number on a numeric column', () => {
    const table: Table = { name: 't', variables: [{ name: 'n', type: 'integer', valueLabels: [{ value: 'one', label: 'x' }] }],
      statistics: { n: { min: 0n, max: 1n } } };
    expect(() => savEncoder.prepare(table, {})).toThrow(/column "n".*"one" is not a valid integer value/);
  });

  it('rejects unknown options', () => {
    expect(() => savEncoder.prepare({ name: 't', variables: [] }, { compression: 'lz4' as 'none' })).toThrow(/sav.compression/);
  });

  it('warns about integers beyond ±2^53 and cuts labels on a character boundary', async () => {
    const e = await encodeColumns([{ name: 'big', type: 'integer', label: 'é'.repeat(200) }], { big: [2n ** 53n + 1n] });
    expect(e.warnings).toEqual([
      'sav, column "big": the variable label was cut to 254 bytes (SPSS allows 255)',
      'sav, column "big": integers beyond ±2^53 are stored as the nearest double (SPSS numbers are doubles); they lose their last digits',
    ]);
  });

  it('cuts a value longer than its statistics said on a character boundary, with a warning naming the row', async () => {
    const fixture = defineFixture('t', [{ name: 's', type: 'string' }], { s: ['ab', 'aé', 'abc'] });
    const table: Table = { ...fixture.table, statistics: { s: { maxByteLength: 2 } } };
    const prepared = savEncoder.prepare(table, { compression: 'none' });
    const sink = new MemorySink();
    const file = await prepared.beginFile(sink);
    await file.writeBatch(fixture.batches[0], 10);
    await file.endFile();
    const data = [...sink.chunks.slice(1).flatMap((c) => [...c])];
    expect(data).toEqual([...ascii('ab      '), ...ascii('a       '), ...ascii('ab      ')]);
    expect(file.warnings).toEqual(['sav, column "s", row 11: 2 value(s) longer than the column\'s width (2 bytes, from the statistics) '
      + 'were cut on a character boundary']);
  });
});

describe('sav values SPSS cannot hold', () => {
  it('warns that −DBL_MAX (SYSMIS\'s bit pattern) reads back as missing', async () => {
    const e = await encodeColumns([{ name: 'x', type: 'float' }], { x: [1, -Number.MAX_VALUE, Number.MAX_VALUE, -Number.MAX_VALUE] });
    expect(e.warnings).toEqual(['sav, column "x", row 1: 2 value(s) equal to -1.7976931348623157e308 (the bit pattern of SPSS\'s '
      + 'system-missing value) will read back as missing']);
  });
});

// ---- header, case count, zsav (facts B2, B8, B11) ------------------------------------------------

describe('sav header and zsav', () => {
  it('patches ncases in the header and subtype 16 with the rows written', async () => {
    const fixture = defineFixture('t', [{ name: 'n', type: 'integer' }], { n: [1n, 2n, 3n] });
    const e = await encodeSav({ ...fixture.table, numRows: undefined }, fixture.batches);
    expect(Buffer.from(e.bytes.subarray(0, 4)).toString('latin1')).toBe('$FL2');
    expect(int32At(e, 80)).toBe(3);
    expect(int32At(e, 72)).toBe(1);
    expect(new DataView(e.bytes.buffer).getFloat64(84, true)).toBe(100);
    expect(Buffer.from(e.bytes.subarray(92, 109)).toString('latin1')).toBe('02 Jan 2403:04:05');
  });

  it('patches only when the declared count is not the rows written', async () => {
    const fixture = defineFixture('t', [{ name: 'n', type: 'integer' }], { n: [1n, 2n] });
    const patchesFor = async (numRows: number | undefined): Promise<number> => {
      const prepared = savEncoder.prepare({ ...measured(fixture.table, fixture.batches), numRows }, {});
      const file = await prepared.beginFile(new MemorySink());
      await file.writeBatch(fixture.batches[0], 0);
      return (await file.endFile()).length;
    };
    expect(await patchesFor(2)).toBe(0);
    expect(await patchesFor(5)).toBe(2);
    expect(await patchesFor(undefined)).toBe(2);
  });

  it('writes $FL3 with zlib blocks of the bytecode stream, a zheader and a consistent ztrailer', async () => {
    // ~5.4 MB of bytecode: two blocks, the first exactly 0x3FF000 bytes.
    const rows = 600_000;
    const x = Array.from({ length: rows }, (_, i) => (i % 7 === 0 ? null : i + 0.5));
    const fixture = defineFixture('z', [{ name: 'x', type: 'float' }], { x }, { batchSizes: [250_000, 350_000] });
    const [plain, zsav] = await Promise.all([encodeSav(fixture.table, fixture.batches), encodeSav(fixture.table, fixture.batches, { compression: 'zsav' })]);
    expect(Buffer.from(zsav.bytes.subarray(0, 4)).toString('latin1')).toBe('$FL3');
    expect(int32At(zsav, 72)).toBe(2);
    const view = new DataView(zsav.bytes.buffer);
    const zheader = zsav.dictionaryLength;
    expect(Number(view.getBigInt64(zheader, true))).toBe(zheader);
    const trailerOfs = Number(view.getBigInt64(zheader + 8, true));
    const trailerLen = Number(view.getBigInt64(zheader + 16, true));
    expect(trailerOfs + trailerLen).toBe(zsav.bytes.length);
    expect(view.getBigInt64(trailerOfs, true)).toBe(-100n);
    expect(view.getInt32(trailerOfs + 16, true)).toBe(0x3ff000);
    const n = view.getInt32(trailerOfs + 20, true);
    expect(n).toBe(2);
    expect(trailerLen).toBe(24 + 24 * n);
    const blocks: Uint8Array[] = [];
    let uncompressed = zheader;
    let compressed = zheader + 24;
    for (let i = 0; i < n; i++) {
      const e = trailerOfs + 24 + 24 * i;
      expect(Number(view.getBigInt64(e, true))).toBe(uncompressed);
      expect(Number(view.getBigInt64(e + 8, true))).toBe(compressed);
      const usize = view.getInt32(e + 16, true);
      const csize = view.getInt32(e + 20, true);
      expect(csize).toBeLessThanOrEqual(usize + usize / 7 + 11); // PSPP's bound
      const block = inflateSync(zsav.bytes.subarray(compressed, compressed + csize));
      expect(block.length).toBe(usize);
      if (i === 0) expect(usize).toBe(0x3ff000);
      blocks.push(block);
      uncompressed += usize;
      compressed += csize;
    }
    expect(compressed).toBe(trailerOfs);
    // Not toEqual: a deep comparison of megabytes takes minutes.
    expect(Buffer.concat(blocks).equals(plain.bytes.subarray(plain.dictionaryLength)), 'blocks inflate to the bytecode stream').toBe(true);
  });
});
