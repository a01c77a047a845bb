import { Bool, Data, DateDay, Float64, Int64, TimeMicrosecond, TimestampMicrosecond, Utf8, makeData } from 'apache-arrow';
import type { DataType } from 'apache-arrow';
import { ExportError } from '../errors.js';
import type { Variable } from '../table/types.js';
import { daysOfDate, microsOfDate, parseDate, parseDateTime, parseTime } from './temporal.js';

/**
 * Builds one canonical Arrow column of one batch from plain values, in row order. Chosen once
 * per column, so a cell costs one conversion and one typed-array store. `row` (0-based, whole
 * table) is only used to name the place of a bad value.
 */
export interface ColumnBuilder {
  append(value: unknown, row: number): void;
  /** The column's Data for the rows appended since the last finish; starts a fresh column. */
  finish(): Data;
}

type Convert<T> = (value: unknown, row: number) => T;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const INTEGER_TEXT = /^[+-]?\d+$/;
const FLOAT_TEXT = /^(?:[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|NaN|[+-]?Infinity)$/;

function describe(value: unknown): string {
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === 'bigint') return `the bigint ${value}`;
  if (typeof value === 'number' || typeof value === 'boolean') return `the ${typeof value} ${String(value)}`;
  if (value instanceof Date) return `an invalid or out-of-range Date`;
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function mismatch(v: Variable, row: number, expected: string, value: unknown): ExportError {
  return new ExportError('SCHEMA_MISMATCH', `expected ${expected} for this ${v.type} column, got ${describe(value)}`, { column: v.name, row });
}

function checkInt64(v: Variable, row: number, value: bigint): bigint {
  if (value < INT64_MIN || value > INT64_MAX) {
    throw new ExportError('VALUE_OUT_OF_RANGE', `${value} is outside the 64-bit integer range`, { column: v.name, row });
  }
  return value;
}

function integerOf(v: Variable): Convert<bigint> {
  const expected = 'a safe-integer number, a bigint or a decimal integer string';
  return (value, row) => {
    if (typeof value === 'bigint') return checkInt64(v, row, value);
    if (typeof value === 'number') {
      if (Number.isSafeInteger(value)) return BigInt(value);
      if (Number.isInteger(value)) {
        throw new ExportError('VALUE_OUT_OF_RANGE', `the number ${value} is beyond ±(2^53−1), so its digits are not exact; ` +
          'pass it as a bigint or a decimal string', { column: v.name, row });
      }
    }
    if (typeof value === 'string' && INTEGER_TEXT.test(value)) return checkInt64(v, row, BigInt(value));
    throw mismatch(v, row, expected, value);
  };
}

function floatOf(v: Variable): Convert<number> {
  return (value, row) => {
    if (typeof value === 'number') return value;
    if (typeof value === 'string' && FLOAT_TEXT.test(value)) return Number(value);
    throw mismatch(v, row, 'a number or a numeric string (NaN, Infinity and -Infinity allowed)', value);
  };
}

function temporalOf<T>(v: Variable, expected: string, parse: (text: string) => T | null, fromDate: ((d: Date) => T | null) | null): Convert<T> {
  return (value, row) => {
    const out = typeof value === 'string' ? parse(value) : value instanceof Date && fromDate ? fromDate(value) : null;
    if (out === null) throw mismatch(v, row, expected, value);
    return out;
  };
}

/** Validity bits shared by every builder; the bitmap is omitted from the Data when nothing is null. */
class Validity {
  bits: Uint8Array;
  nullCount = 0;
  constructor(readonly capacity: number) {
    this.bits = new Uint8Array((capacity + 7) >> 3);
  }
  mark(i: number, valid: boolean): void {
    if (valid) this.bits[i >> 3] |= 1 << (i & 7);
    else this.nullCount++;
  }
  take(): { nullCount: number; nullBitmap: Uint8Array | undefined } {
    const out = { nullCount: this.nullCount, nullBitmap: this.nullCount > 0 ? this.bits : undefined };
    this.bits = new Uint8Array((this.capacity + 7) >> 3);
    this.nullCount = 0;
    return out;
  }
}

type FixedArray = BigInt64Array | Float64Array | Int32Array;

/** Integer, float, date, dateTime and time: one typed-array slot per row (0 under a null). */
class FixedBuilder<A extends FixedArray> implements ColumnBuilder {
  private values: A;
  private length = 0;
  private readonly validity: Validity;
  constructor(private readonly type: DataType, private readonly allocate: (n: number) => A,
    private readonly convert: Convert<A[number]>, private readonly capacity: number) {
    this.values = allocate(capacity);
    this.validity = new Validity(capacity);
  }
  append(value: unknown, row: number): void {
    const valid = value !== null && value !== undefined;
    if (valid) this.values[this.length] = this.convert(value, row);
    this.validity.mark(this.length++, valid);
  }
  finish(): Data {
    const { nullCount, nullBitmap } = this.validity.take();
    const data = new Data(this.type, 0, this.length, nullCount, [undefined, this.values.subarray(0, this.length), nullBitmap]);
    this.values = this.allocate(this.capacity);
    this.length = 0;
    return data;
  }
}

class BoolBuilder implements ColumnBuilder {
  private values: Uint8Array;
  private length = 0;
  private readonly validity: Validity;
  constructor(private readonly v: Variable, private readonly capacity: number) {
    this.values = new Uint8Array((capacity + 7) >> 3);
    this.validity = new Validity(capacity);
  }
  append(value: unknown, row: number): void {
    const valid = value !== null && value !== undefined;
    if (valid && typeof value !== 'boolean') throw mismatch(this.v, row, 'true or false', value);
    if (value === true) this.values[this.length >> 3] |= 1 << (this.length & 7);
    this.validity.mark(this.length++, valid);
  }
  finish(): Data {
    const data = makeData({ type: new Bool(), length: this.length, ...this.validity.take(), data: this.values });
    this.values = new Uint8Array((this.capacity + 7) >> 3);
    this.length = 0;
    return data;
  }
}

const encoder = new TextEncoder();

/** Strings: UTF-8 bytes appended to one growing buffer, offsets per row. */
class Utf8Builder implements ColumnBuilder {
  private offsets: Int32Array;
  private bytes = new Uint8Array(1 << 16);
  private used = 0;
  private length = 0;
  private readonly validity: Validity;
  constructor(private readonly v: Variable, private readonly capacity: number) {
    this.offsets = new Int32Array(capacity + 1);
    this.validity = new Validity(capacity);
  }
  append(value: unknown, row: number): void {
    const valid = value !== null && value !== undefined;
    if (valid) {
      if (typeof value !== 'string') throw mismatch(this.v, row, 'a string', value);
      this.reserve(value.length * 3); // a UTF-16 unit never takes more than 3 UTF-8 bytes
      this.used += encoder.encodeInto(value, this.bytes.subarray(this.used)).written;
    }
    this.validity.mark(this.length++, valid);
    this.offsets[this.length] = this.used;
  }
  private reserve(extra: number): void {
    if (this.used + extra <= this.bytes.byteLength) return;
    if (this.used + extra > 0x7fffffff) {
      throw new ExportError('VALUE_OUT_OF_RANGE', 'a batch holds more than 2 GiB of text; use a smaller batchSize', { column: this.v.name });
    }
    const grown = new Uint8Array(Math.max(this.bytes.byteLength * 2, this.used + extra));
    grown.set(this.bytes.subarray(0, this.used));
    this.bytes = grown;
  }
  finish(): Data {
    const data = makeData({ type: new Utf8(), length: this.length, ...this.validity.take(),
      valueOffsets: this.offsets.subarray(0, this.length + 1), data: this.bytes.subarray(0, this.used) });
    this.offsets = new Int32Array(this.capacity + 1);
    this.bytes = new Uint8Array(Math.max(1 << 16, this.used));
    this.used = 0;
    this.length = 0;
    return data;
  }
}

const big = (n: number): BigInt64Array => new BigInt64Array(n);

/** The builder for a variable's canonical Arrow type (src/table/arrow-types.ts), chosen once. */
export function createColumnBuilder(v: Variable, capacity: number): ColumnBuilder {
  switch (v.type) {
    case 'integer': return new FixedBuilder(new Int64(), big, integerOf(v), capacity);
    case 'float': return new FixedBuilder(new Float64(), (n) => new Float64Array(n), floatOf(v), capacity);
    case 'boolean': return new BoolBuilder(v, capacity);
    case 'date': return new FixedBuilder(new DateDay(), (n) => new Int32Array(n),
      temporalOf(v, "a date 'YYYY-MM-DD' (0001-01-01 to 9999-12-31) or a Date", parseDate, daysOfDate), capacity);
    case 'dateTime': return new FixedBuilder(new TimestampMicrosecond(), big,
      temporalOf(v, "a date-time 'YYYY-MM-DDTHH:MM:SS[.ffffff]' without zone, or a Date", parseDateTime, microsOfDate), capacity);
    case 'time': return new FixedBuilder(new TimeMicrosecond(), big,
      temporalOf(v, "a time 'HH:MM:SS[.ffffff]'", parseTime, null), capacity);
    case 'string':
    case 'geography': return new Utf8Builder(v, capacity);
  }
}
