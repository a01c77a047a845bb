/**
 * The value-to-text pieces shared by csv and jsonl, against exact expected strings. Where an
 * independent oracle exists (JS `String` for doubles, `Date#toISOString` for dates in its
 * range), random values are compared with it as well.
 */
import { makeData, Int64 } from 'apache-arrow';
import { seededRandom } from '../helpers/random.js';
import { describe, expect, it } from 'vitest';
import { viewColumn } from '../../src/table/columns.js';
import { WRITE_SLACK } from '../../src/formats/text/bytes.js';
import { quotingBytes } from '../../src/formats/csv/quote.js';
import { escapedBytes } from '../../src/formats/jsonl/escape.js';
import { bindIntegerWriter } from '../../src/formats/text/cells.js';
import { writeBigInt, writeSafeInteger } from '../../src/formats/text/digits.js';
import {
  MAX_DAYS, MIN_DAYS, writeBigDateTime, writeDate, writeDateTime, writeTimeOfDay,
} from '../../src/formats/text/datetime.js';
import { writeFiniteFloat } from '../../src/formats/text/float.js';

const decoder = new TextDecoder();

/** The text one writer call produces (in a buffer with the slack writers may use). */
function textOf(write: (out: DataView, pos: number) => number): string {
  const bytes = new Uint8Array(64 + WRITE_SLACK);
  const end = write(new DataView(bytes.buffer), 0);
  if (end < 0) return '<out of range>';
  return decoder.decode(bytes.subarray(0, end));
}


describe('integers', () => {
  it.each([
    [0, '0'], [7, '7'], [-1, '-1'], [10, '10'], [99, '99'], [100, '100'], [999, '999'], [1000, '1000'],
    [9999, '9999'], [10000, '10000'], [100001, '100001'], [99999999, '99999999'], [100000000, '100000000'],
    [2147483647, '2147483647'], [2147483648, '2147483648'], [-2147483648, '-2147483648'],
    [1000000000000, '1000000000000'], [1234567890123456, '1234567890123456'],
    [2 ** 53, '9007199254740992'], [-(2 ** 53), '-9007199254740992'], [2 ** 53 - 1, '9007199254740991'],
  ])('writeSafeInteger(%d) = %s', (n, text) => {
    expect(textOf((out, pos) => writeSafeInteger(out, pos, n))).toBe(text);
  });

  it.each([
    [-(2n ** 63n), '-9223372036854775808'], [2n ** 63n - 1n, '9223372036854775807'], [0n, '0'],
  ])('writeBigInt(%s)', (n, text) => {
    expect(textOf((out, pos) => writeBigInt(out, pos, n))).toBe(text);
  });

  it('writes every int64 exactly, on both sides of 2^53 (the column writer)', () => {
    const values = [
      -(2n ** 63n), 2n ** 63n - 1n, -(2n ** 53n) - 1n, -(2n ** 53n), -(2n ** 53n) + 1n, 2n ** 53n - 1n, 2n ** 53n,
      2n ** 53n + 1n, 0n, -1n, 1n, 2n ** 32n, -(2n ** 32n), 2n ** 32n - 1n, 4294967296123n, -4294967296123n,
    ];
    const data = makeData({ type: new Int64(), length: values.length, nullCount: 0, data: BigInt64Array.from(values) });
    const write = bindIntegerWriter(viewColumn(data, 'integer'));
    values.forEach((v, row) => {
      expect(textOf((out, pos) => write(out, pos, row))).toBe(v.toString());
    });
  });

  it('matches BigInt text for random int64 of every magnitude', () => {
    const random = seededRandom(7);
    const values = Array.from({ length: 2000 }, () => {
      const bits = BigInt(Math.floor(random() * 64));
      const magnitude = BigInt(Math.floor(random() * 2 ** 32)) * 2n ** 32n + BigInt(Math.floor(random() * 2 ** 32));
      return BigInt.asIntN(64, (magnitude % (2n ** bits + 1n)) * (random() < 0.5 ? -1n : 1n));
    });
    const data = makeData({ type: new Int64(), length: values.length, nullCount: 0, data: BigInt64Array.from(values) });
    const write = bindIntegerWriter(viewColumn(data, 'integer'));
    values.forEach((v, row) => expect(textOf((out, pos) => write(out, pos, row))).toBe(v.toString()));
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
  ])('writeFiniteFloat(%d) = %s', (x, text) => {
    expect(textOf((out, pos) => writeFiniteFloat(out, pos, x))).toBe(text);
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
    for (const x of cases) {
      const expected = Object.is(x, -0) ? '-0' : String(x);
      expect(textOf((out, pos) => writeFiniteFloat(out, pos, x))).toBe(expected);
    }
  });
});

describe('dates', () => {
  it.each([
    [MIN_DAYS, '0001-01-01'], [-1, '1969-12-31'], [0, '1970-01-01'], [11016, '2000-02-29'], [-25508, '1900-03-01'],
    [-719104, '0001-02-28'], [-683004, '0099-12-31'], [-141427, '1582-10-15'], [MAX_DAYS, '9999-12-31'],
    [2932837, '9999-11-02'], [-25509, '1900-02-28'], [11323, '2001-01-01'],
  ])('writeDate(%d) = %s', (days, text) => {
    expect(textOf((out, pos) => writeDate(out, pos, days))).toBe(text);
  });

  it('matches Date#toISOString across 0001..9999', () => {
    const random = seededRandom(3);
    for (let i = 0; i < 20000; i++) {
      const days = MIN_DAYS + Math.floor(random() * (MAX_DAYS - MIN_DAYS + 1));
      const expected = new Date(days * 86_400_000).toISOString().slice(0, 10);
      expect(textOf((out, pos) => writeDate(out, pos, days))).toBe(expected);
    }
  });
});

describe('times and dateTimes', () => {
  it.each([
    [0, '00:00:00'], [1, '00:00:00.000001'], [500000, '00:00:00.500000'], [43_200_000_000, '12:00:00'],
    [86_399_999_999, '23:59:59.999999'], [86_399_000_000, '23:59:59'], [3_723_000_010, '01:02:03.000010'],
  ])('writeTimeOfDay(%d) = %s', (micros, text) => {
    expect(textOf((out, pos) => writeTimeOfDay(out, pos, micros))).toBe(text);
  });

  it.each([
    [0, '1970-01-01T00:00:00'], [-1, '1969-12-31T23:59:59.999999'], [-86_400_000_000, '1969-12-31T00:00:00'],
    [-86_400_000_001, '1969-12-30T23:59:59.999999'], [-1_500_000, '1969-12-31T23:59:58.500000'],
    [1, '1970-01-01T00:00:00.000001'], [951_782_400_000_000, '2000-02-29T00:00:00'],
    [-2_208_988_800_000_000, '1900-01-01T00:00:00'], [-2_208_988_799_999_999, '1900-01-01T00:00:00.000001'],
    [8_640_000_000_000_000, '2243-10-17T00:00:00'],
  ])('writeDateTime(%d) = %s', (micros, text) => {
    expect(textOf((out, pos) => writeDateTime(out, pos, micros))).toBe(text);
    expect(textOf((out, pos) => writeBigDateTime(out, pos, BigInt(micros)))).toBe(text);
  });

  it.each([
    [-62_135_596_800_000_000n, '0001-01-01T00:00:00'], [253_402_300_799_999_999n, '9999-12-31T23:59:59.999999'],
    [-62_135_596_799_999_999n, '0001-01-01T00:00:00.000001'], [-62_135_596_800_000_001n, '<out of range>'],
    [253_402_300_800_000_000n, '<out of range>'], [-(2n ** 63n), '<out of range>'], [2n ** 63n - 1n, '<out of range>'],
  ])('writeBigDateTime(%d) = %s', (micros, text) => {
    expect(textOf((out, pos) => writeBigDateTime(out, pos, micros))).toBe(text);
  });

  it('matches Date#toISOString for random instants (millisecond steps, 1685..2255)', () => {
    const random = seededRandom(5);
    for (let i = 0; i < 20000; i++) {
      const ms = Math.floor((random() - 0.5) * 2 * 9e12);
      const iso = new Date(ms).toISOString().slice(0, 23);
      const fraction = iso.slice(20, 23);
      const expected = fraction === '000' ? iso.slice(0, 19) : `${iso}000`;
      expect(textOf((out, pos) => writeDateTime(out, pos, ms * 1000))).toBe(expected);
    }
  });
});

describe('the word-at-a-time checks', () => {
  /** Words of plain bytes with byte b at one position (and at two, to see one hit does not hide another). */
  function* wordsWith(b: number): Generator<[number, string]> {
    for (let position = 0; position < 4; position++) {
      const bytes = [0x61, 0xc3, 0xa9, 0x7a];
      bytes[position] = b;
      yield [(bytes[0] | (bytes[1] << 8) | (bytes[2] << 16) | (bytes[3] << 24)) >>> 0, `byte ${b} at ${position}`];
    }
    yield [((b << 24) | (b << 8) | 0x00610062) >>> 0, `byte ${b} twice`];
  }

  it('csv: a word needs quoting exactly when a byte is ", LF, CR or the delimiter', () => {
    for (const delimiter of [0x2c, 0x3b, 0x09, 0x7c, 0x5c, 0x41]) {
      const pattern = (delimiter * 0x01010101) >>> 0;
      for (let b = 0; b < 256; b++) {
        for (const [word, what] of wordsWith(b)) {
          expect(quotingBytes(word, pattern) !== 0, `delimiter ${delimiter}, ${what}`).toBe(b === 0x22 || b === 10 || b === 13 || b === delimiter);
        }
      }
    }
  });

  it('jsonl: a word needs escaping exactly when a byte is below 0x20, " or \\', () => {
    for (let b = 0; b < 256; b++) {
      for (const [word, what] of wordsWith(b)) expect(escapedBytes(word) !== 0, what).toBe(b < 0x20 || b === 0x22 || b === 0x5c);
    }
  });
});
