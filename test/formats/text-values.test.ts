/**
 * The cell text shared by csv and jsonl (the WebAssembly kernel's), against exact expected
 * strings. Where an independent oracle exists (BigInt text for int64, JS `String` for doubles,
 * `Date#toISOString` for dates in its range, a byte-at-a-time quoting and escaping written
 * here), random values are compared with it as well.
 */
import { describe, expect, it } from 'vitest';
import { ExportError } from '../../src/errors.js';
import { planCsvLayout } from '../../src/formats/csv/index.js';
import { resolveCsvOptions } from '../../src/formats/csv/options.js';
import { planJsonlLayout } from '../../src/formats/jsonl/index.js';
import { bindRows, encodeRows, measureRows, type TextLayout } from '../../src/formats/text/rows.js';
import { viewColumn, type ColumnView } from '../../src/table/columns.js';
import type { VariableType } from '../../src/table/types.js';
import { column, tableOf, type Value } from '../helpers/columns.js';
import { seededRandom } from '../helpers/random.js';

const decoder = new TextDecoder();

/** One column's rows under a layout (all rows in one call), as the output bytes. */
function encodeColumn(layout: TextLayout, type: VariableType, values: Value[]): Uint8Array {
  const rows = bindRows(layout, [viewColumn(column(type, values), type)]);
  const out = new Uint8Array(measureRows(rows, 0, values.length));
  return out.subarray(0, encodeRows(rows, out, 0, 0, values.length, 0));
}

/** Each value's csv text (all in one call; scalar text holds no line end), or `<out of range>`. */
function cells(type: VariableType, values: Value[]): string[] {
  const layout = planCsvLayout(tableOf({ x: type }), resolveCsvOptions({}));
  try {
    return decoder.decode(encodeColumn(layout, type, values)).split('\n').slice(0, -1);
  } catch (err) {
    if (err instanceof ExportError && err.code === 'VALUE_OUT_OF_RANGE') return values.map(() => '<out of range>');
    throw err;
  }
}

const cell = (type: VariableType, value: Value): string => cells(type, [value])[0];

/** A string column given as bytes (so any byte can be tested), encoded in one call. */
function encodeBytes(layout: TextLayout, strings: Uint8Array[]): Uint8Array {
  const offsets = new Int32Array(strings.length + 1);
  strings.forEach((s, i) => { offsets[i + 1] = offsets[i] + s.length; });
  const col: ColumnView = { type: 'string', length: strings.length, nullCount: 0, validity: null, bitOffset: 0, values: new Uint8Array(Buffer.concat(strings)), offsets };
  const rows = bindRows(layout, [col]);
  const out = new Uint8Array(measureRows(rows, 0, strings.length));
  return out.subarray(0, encodeRows(rows, out, 0, 0, strings.length, 0));
}

/** 0001-01-01 and 9999-12-31 in days since 1970-01-01. */
const MIN_DAYS = -719162;
const MAX_DAYS = 2932896;

describe('integers', () => {
  it.each([
    [0, '0'], [7, '7'], [-1, '-1'], [10, '10'], [99, '99'], [100, '100'], [999, '999'], [1000, '1000'],
    [9999, '9999'], [10000, '10000'], [100001, '100001'], [99999999, '99999999'], [100000000, '100000000'],
    [2147483647, '2147483647'], [2147483648, '2147483648'], [-2147483648, '-2147483648'],
    [1000000000000, '1000000000000'], [1234567890123456, '1234567890123456'],
    [2 ** 53, '9007199254740992'], [-(2 ** 53), '-9007199254740992'], [2 ** 53 - 1, '9007199254740991'],
  ])('%d = %s', (n, text) => {
    expect(cell('integer', BigInt(n))).toBe(text);
  });

  it.each([
    [-(2n ** 63n), '-9223372036854775808'], [2n ** 63n - 1n, '9223372036854775807'], [0n, '0'],
    [10n ** 18n, '1000000000000000000'], [9_999_999_999_999_999_999n - 10n ** 18n * 1n, '8999999999999999999'], [-(10n ** 18n), '-1000000000000000000'], [2n ** 32n, '4294967296'],
    [99_999_999_999_999_999n, '99999999999999999'], [4_294_967_295n, '4294967295'],
  ])('%s beyond 32 bits', (n, text) => {
    expect(cell('integer', n)).toBe(text);
  });

  it('writes every int64 exactly, on both sides of 2^53', () => {
    const values = [
      -(2n ** 63n), 2n ** 63n - 1n, -(2n ** 53n) - 1n, -(2n ** 53n), -(2n ** 53n) + 1n, 2n ** 53n - 1n, 2n ** 53n,
      2n ** 53n + 1n, 0n, -1n, 1n, 2n ** 32n, -(2n ** 32n), 2n ** 32n - 1n, 4294967296123n, -4294967296123n,
    ];
    expect(cells('integer', values)).toEqual(values.map(String));
  });

  it('matches BigInt text for random int64 of every magnitude', () => {
    const random = seededRandom(7);
    const values = Array.from({ length: 2000 }, () => {
      const bits = BigInt(Math.floor(random() * 64));
      const magnitude = BigInt(Math.floor(random() * 2 ** 32)) * 2n ** 32n + BigInt(Math.floor(random() * 2 ** 32));
      return BigInt.asIntN(64, (magnitude % (2n ** bits + 1n)) * (random() < 0.5 ? -1n : 1n));
    });
    expect(cells('integer', values)).toEqual(values.map(String));
  });
});

describe('floats', () => {
  it.each([
    [0, '0'], [-0, '-0'], [1, '1'], [-1, '-1'], [0.1, '0.1'], [-0.1, '-0.1'], [0.1 + 0.2, '0.30000000000000004'],
    [5e-324, '5e-324'], [-5e-324, '-5e-324'], [1.7976931348623157e308, '1.7976931348623157e+308'],
    [2.2250738585072014e-308, '2.2250738585072014e-308'], [1e21, '1e+21'], [1e20, '100000000000000000000'],
    [123456789012345680000, '123456789012345680000'], [1e-7, '1e-7'], [1.5e-7, '1.5e-7'], [0.000001, '0.000001'], [0.0000015, '0.0000015'], [9.99e-7, '9.99e-7'],
    [0.00000999, '0.00000999'], [123.45, '123.45'], [-123.45, '-123.45'], [100, '100'],
    [2 ** 53, '9007199254740992'], [2 ** 53 + 2, '9007199254740994'], [2 ** 50, '1125899906842624'],
    [1125899906842623.8, '1125899906842623.8'], [0.5, '0.5'], [1 / 3, '0.3333333333333333'], [2 / 3, '0.6666666666666666'],
    [4.35, '4.35'], [0.07, '0.07'], [1.005, '1.005'], [99.99, '99.99'], [1e15 + 0.5, '1000000000000000.5'],
    [3.14159, '3.14159'], [Math.PI, '3.141592653589793'], [Number.MAX_SAFE_INTEGER, '9007199254740991'],
    [Number.EPSILON, '2.220446049250313e-16'], [1234.5678, '1234.5678'], [0.000123, '0.000123'],
  ])('%d = %s', (x, text) => {
    expect(cell('float', x)).toBe(text);
  });

  it('matches String(x) for random decimals, doubles and magnitudes', () => {
    const random = seededRandom(11);
    const doubles = new Float64Array(1);
    const words = new Uint32Array(doubles.buffer);
    const cases: number[] = [];
    for (let i = 0; i < 20000; i++) {
      const digits = Math.floor(random() * 18);
      cases.push(Math.round(random() * 10 ** (1 + Math.floor(random() * 15))) / 10 ** digits);
      cases.push((random() - 0.5) * 10 ** (Math.floor(random() * 40) - 20));
      words[0] = Math.floor(random() * 2 ** 32);
      words[1] = Math.floor(random() * 2 ** 32);
      if (Number.isFinite(doubles[0])) cases.push(doubles[0]);
    }
    expect(cells('float', cases)).toEqual(cases.map((x) => (Object.is(x, -0) ? '-0' : String(x))));
  });
});

describe('dates', () => {
  it.each([
    [MIN_DAYS, '0001-01-01'], [-1, '1969-12-31'], [0, '1970-01-01'], [11016, '2000-02-29'], [-25508, '1900-03-01'],
    [-719104, '0001-02-28'], [-683004, '0099-12-31'], [-141427, '1582-10-15'], [MAX_DAYS, '9999-12-31'],
    [2932837, '9999-11-02'], [-25509, '1900-02-28'], [11323, '2001-01-01'],
  ])('%d = %s', (days, text) => {
    expect(cell('date', days)).toBe(text);
  });

  it.each([MIN_DAYS - 1, MAX_DAYS + 1, -(2 ** 31), 2 ** 31 - 1])('%d is out of range', (days) => {
    expect(cell('date', days)).toBe('<out of range>');
  });

  it('matches Date#toISOString across 0001..9999', () => {
    const random = seededRandom(3);
    const days = Array.from({ length: 20000 }, () => MIN_DAYS + Math.floor(random() * (MAX_DAYS - MIN_DAYS + 1)));
    expect(cells('date', days)).toEqual(days.map((d) => new Date(d * 86_400_000).toISOString().slice(0, 10)));
  });
});

describe('times and dateTimes', () => {
  it.each([
    [0, '00:00:00'], [1, '00:00:00.000001'], [500000, '00:00:00.500000'], [43_200_000_000, '12:00:00'],
    [86_399_999_999, '23:59:59.999999'], [86_399_000_000, '23:59:59'], [3_723_000_010, '01:02:03.000010'],
  ])('time %d = %s', (micros, text) => {
    expect(cell('time', BigInt(micros))).toBe(text);
  });

  it.each([-1n, 86_400_000_000n, -(2n ** 63n), 2n ** 63n - 1n])('time %d is out of range', (micros) => {
    expect(cell('time', micros)).toBe('<out of range>');
  });

  it.each([
    [0, '1970-01-01T00:00:00'], [-1, '1969-12-31T23:59:59.999999'], [-86_400_000_000, '1969-12-31T00:00:00'],
    [-86_400_000_001, '1969-12-30T23:59:59.999999'], [-1_500_000, '1969-12-31T23:59:58.500000'],
    [1, '1970-01-01T00:00:00.000001'], [951_782_400_000_000, '2000-02-29T00:00:00'],
    [-2_208_988_800_000_000, '1900-01-01T00:00:00'], [-2_208_988_799_999_999, '1900-01-01T00:00:00.000001'],
    [8_640_000_000_000_000, '2243-10-17T00:00:00'],
  ])('dateTime %d = %s', (micros, text) => {
    expect(cell('dateTime', BigInt(micros))).toBe(text);
  });

  it.each([
    [-62_135_596_800_000_000n, '0001-01-01T00:00:00'], [253_402_300_799_999_999n, '9999-12-31T23:59:59.999999'],
    [-62_135_596_799_999_999n, '0001-01-01T00:00:00.000001'], [-62_135_596_800_000_001n, '<out of range>'],
    [253_402_300_800_000_000n, '<out of range>'], [-(2n ** 63n), '<out of range>'], [2n ** 63n - 1n, '<out of range>'],
  ])('dateTime %d = %s (beyond ±2^53 and at the ends of the range)', (micros, text) => {
    expect(cell('dateTime', micros)).toBe(text);
  });

  it('matches Date#toISOString for random instants (millisecond steps, 1685..2255)', () => {
    const random = seededRandom(5);
    const ms = Array.from({ length: 20000 }, () => Math.floor((random() - 0.5) * 2 * 9e12));
    expect(cells('dateTime', ms.map((m) => BigInt(m) * 1000n))).toEqual(ms.map((m) => {
      const iso = new Date(m).toISOString().slice(0, 23);
      return iso.slice(20, 23) === '000' ? iso.slice(0, 19) : `${iso}000`;
    }));
  });
});

describe('strings, eight bytes at a time', () => {
  /** Strings of 1..19 bytes (around each 8-byte word's end) with byte b at each position, and twice. */
  function stringsWith(b: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const length of [1, 2, 3, 7, 8, 9, 15, 16, 17, 19]) {
      for (let at = 0; at < length; at++) {
        const bytes = Uint8Array.from({ length }, (_, i) => [0x61, 0xc3, 0xa9, 0x7a][i % 4]);
        bytes[at] = b;
        out.push(bytes);
      }
      const twice = new Uint8Array(length).fill(0x62);
      twice[0] = b;
      twice[length - 1] = b;
      out.push(twice);
    }
    return out;
  }

  it('csv: a field is quoted, its " doubled, exactly when it holds ", LF, CR or the delimiter', () => {
    for (const delimiter of [',', ';', '\t', '|', '\\', 'A']) {
      const code = delimiter.charCodeAt(0);
      const layout = planCsvLayout(tableOf({ x: 'string' }), resolveCsvOptions({ delimiter, header: false, lineEnding: '\r\n' }));
      for (let b = 0; b < 256; b++) {
        const strings = stringsWith(b);
        const expected = Buffer.concat(strings.flatMap((s) => {
          const quote = s.some((x) => x === 0x22 || x === 10 || x === 13 || x === code);
          const body = quote ? Buffer.from([0x22, ...[...s].flatMap((x) => (x === 0x22 ? [x, x] : [x])), 0x22]) : Buffer.from(s);
          return [body, Buffer.from('\r\n')];
        }));
        expect(Buffer.from(encodeBytes(layout, strings)).equals(expected), `delimiter ${code}, byte ${b}`).toBe(true);
      }
    }
  });

  it('jsonl: a string escapes exactly the bytes below 0x20, " and \\', () => {
    const layout = planJsonlLayout(tableOf({ x: 'string' }));
    const short: Record<number, string> = { 8: 'b', 9: 't', 10: 'n', 12: 'f', 13: 'r', 0x22: '"', 0x5c: '\\' };
    const escape = (x: number): number[] => {
      if (short[x] !== undefined) return [0x5c, short[x].charCodeAt(0)];
      if (x < 0x20) return [...Buffer.from(`\\u00${x.toString(16).padStart(2, '0')}`)];
      return [x];
    };
    for (let b = 0; b < 256; b++) {
      const strings = stringsWith(b);
      const expected = Buffer.concat(strings.map((s) => Buffer.from([...Buffer.from('{"x":"'), ...[...s].flatMap(escape), ...Buffer.from('"}\n')])));
      expect(Buffer.from(encodeBytes(layout, strings)).equals(expected), `byte ${b}`).toBe(true);
    }
  });
});

describe('one kernel per thread, shared by the exports that take turns on it', () => {
  it('encodes the same bytes when two layouts and two batches alternate, call after call, as when each runs alone', () => {
    const random = seededRandom(17);
    const table = tableOf({ s: 'string', n: 'integer', x: 'float', d: 'date' });
    const batch = (rows: number): ColumnView[] => [
      viewColumn(column('string', Array.from({ length: rows }, (_, i) => (i % 7 === 0 ? null : `v${i},"${'é'.repeat(i % 5)}"\n`))), 'string'),
      viewColumn(column('integer', Array.from({ length: rows }, () => BigInt(Math.floor((random() - 0.5) * 2 ** 40)))), 'integer'),
      viewColumn(column('float', Array.from({ length: rows }, () => (random() < 0.1 ? null : random() * 1000))), 'float'),
      viewColumn(column('date', Array.from({ length: rows }, () => Math.floor(random() * 20000))), 'date'),
    ];
    const layouts = [planCsvLayout(table, resolveCsvOptions({})), planJsonlLayout(table)];
    const batches = [batch(3000), batch(5000)];
    const alone = layouts.map((layout) => batches.map((cols) => {
      const rows = bindRows(layout, cols);
      const out = new Uint8Array(measureRows(rows, 0, cols[0].length));
      return Buffer.from(out.subarray(0, encodeRows(rows, out, 0, 0, cols[0].length, 0)));
    }));
    // Every (layout, batch) pair bound at once, then 100 rows of each in turn.
    const pairs = layouts.flatMap((layout, l) => batches.map((cols, b) => ({ l, b, rows: bindRows(layout, cols), n: cols[0].length, parts: [] as Buffer[] })));
    for (let start = 0; pairs.some((p) => start < p.n); start += 100) {
      for (const p of pairs) {
        if (start >= p.n) continue;
        const end = Math.min(p.n, start + 100);
        const out = new Uint8Array(measureRows(p.rows, start, end));
        p.parts.push(Buffer.from(out.subarray(0, encodeRows(p.rows, out, 0, start, end, 0))));
      }
    }
    for (const p of pairs) expect(Buffer.concat(p.parts).equals(alone[p.l][p.b]), `layout ${p.l}, batch ${p.b}`).toBe(true);
  });

  it('writes a batch whose rows take more than one call\'s output (1 MiB) in several calls, the same bytes', () => {
    const long = 'x'.repeat(3000);
    const values = Array.from({ length: 1200 }, (_, i) => `${i}${long}`);
    const text = decoder.decode(encodeColumn(planCsvLayout(tableOf({ x: 'string' }), resolveCsvOptions({})), 'string', values));
    expect(text).toBe(values.map((v) => `${v}\n`).join(''));
  });
});
