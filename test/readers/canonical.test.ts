/** The cell encoding shared with read_back.py: Python repr of doubles, ISO dates and times. */
import { describe, expect, it } from 'vitest';
import {
  canonicalOf, cellsEqual, isoDate, isoDateTime, isoTime, parseDate, parseDateTime, parseTime, pyFloatRepr,
} from '../helpers/canonical.js';
import { compareCanonical } from '../helpers/compare.js';
import { expectationFor } from '../helpers/reader-quirks.js';
import { allTypes, emptyTable, subnormalFloats } from '../fixtures/tables.js';

describe('pyFloatRepr matches Python repr()', () => {
  // Pairs printed by CPython 3.11: [x, repr(x)].
  const cases: [number, string][] = [
    [0.1, '0.1'], [1, '1.0'], [-0, '-0.0'], [0, '0.0'], [NaN, 'nan'], [Infinity, 'inf'], [-Infinity, '-inf'],
    [1e16, '1e+16'], [1234567890123456, '1234567890123456.0'], [0.0001, '0.0001'], [0.00001, '1e-05'],
    [5e-324, '5e-324'], [1.7976931348623157e308, '1.7976931348623157e+308'], [-99277012169170270000, '-9.927701216917027e+19'],
    [123.456, '123.456'], [2.2250738585072014e-308, '2.2250738585072014e-308'], [1e22, '1e+22'],
  ];
  it.each(cases)('%s → %s', (x, repr) => expect(pyFloatRepr(x)).toBe(repr));
});

describe('dates and times', () => {
  it('converts the calendar edges both ways', () => {
    expect(parseDate('1970-01-01')).toBe(0);
    expect(parseDate('0001-01-01')).toBe(-719162);
    expect(parseDate('9999-12-31')).toBe(2932896);
    for (const d of ['0001-01-01', '1582-10-04', '1600-02-29', '1900-02-28', '1969-12-31', '2000-02-29', '9999-12-31']) {
      expect(isoDate(parseDate(d))).toBe(d);
    }
    expect(parseDateTime('1969-12-31T23:59:59.999999')).toBe(-1n);
    expect(isoDateTime(-1n)).toBe('1969-12-31T23:59:59.999999');
    expect(isoDateTime(parseDateTime('0001-01-01T00:00:00'))).toBe('0001-01-01T00:00:00');
    expect(isoTime(parseTime('12:34:56.5'))).toBe('12:34:56.500000');
    expect(isoTime(0n)).toBe('00:00:00');
  });
});

describe('comparison', () => {
  it('compares floats bitwise and explains the usual losses', () => {
    expect(cellsEqual({ f: 'nan' }, { f: 'nan' })).toBe(true);
    expect(cellsEqual({ f: '-0.0' }, { f: '0.0' })).toBe(false);
    expect(compareCanonical('float', { f: '-0.0' }, { f: '0.0' })).toBe('sign of zero lost');
    expect(compareCanonical('integer', '9007199254740993', '9007199254740992')).toBe('off by -1: rounded through a double');
    expect(compareCanonical('integer', '1', { f: '1.0' })).toBe('integer read as a float');
    expect(compareCanonical('time', '12:00:00.000001', '12:00:00')).toBe('fraction of a second differs');
    expect(canonicalOf('integer', -9223372036854775807n)).toBe('-9223372036854775807');
  });
});

describe('reader quirks', () => {
  it('apply only to the reader and format they name', () => {
    expect(expectationFor(allTypes, 'duckdb', 'csv').notes).toEqual([]);
    expect(expectationFor(allTypes, 'pandas', 'csv').values.string_col[1]).toBeNull();
    expect(expectationFor(allTypes, 'pandas', 'jsonl').values.int_col[3]).toEqual({ f: '9.223372036854776e+18' });
    expect(expectationFor(allTypes, 'pandas', 'jsonl').values.big_int[0]).toBe('9223372036854775807');
    expect(expectationFor(emptyTable, 'pandas', 'jsonl').columns).toEqual([]);
    expect(expectationFor(subnormalFloats, 'pandas', 'jsonl').error).toBeInstanceOf(RegExp);
  });

  it('round only the parts of a split jsonl file that hold a null', () => {
    const want = expectationFor(allTypes, 'pandas', 'jsonl', [5, 9]);
    expect(want.values.int_col.slice(0, 5)).toEqual(allTypes.expected.int_col.slice(0, 5));
  });
});
