import type { ColumnView } from '../../table/columns.js';
import type { VariableType } from '../../table/types.js';
import { writePacked, type PackedBytes } from './bytes.js';
import { LITTLE_ENDIAN, MAX_INT64_CHARS, primeIntegerText, readSafeInt64, viewInt64Words, writeBigInt, writeSafeInteger } from './digits.js';
import { DATE_CHARS, DATETIME_CHARS, MAX_DAYS, MICROS_PER_DAY, MIN_DAYS, TIME_CHARS, writeBigDateTime, writeDate, writeDateTime, writeTimeOfDay } from './datetime.js';
import { MAX_FLOAT_CHARS, writeFiniteFloat, writeJsonFloat } from './float.js';

/**
 * Writes the text of row `row`'s (non-null) value at `pos`, returns the position after it.
 * One is bound per column and batch, capturing that column's typed arrays, so the row loop
 * makes one call per cell and no per-cell dispatch on the type.
 */
export type CellWriter = (out: DataView, pos: number, row: number) => number;

/** Binds a column of one batch to its writer; chosen once per file from the column's type. */
export type BindCell = (col: ColumnView) => CellWriter;

/** A value the text form cannot hold; the row loop adds the column and row to the error. */
export class CellRangeError extends Error {}

/** How a format spells the non-finite doubles (csv bare, jsonl as JSON strings). */
export interface NonFiniteText {
  nan: PackedBytes;
  infinity: PackedBytes;
  negativeInfinity: PackedBytes;
}

/** Where csv and jsonl differ for the scalar types. */
export interface ScalarStyle {
  nonFinite: NonFiniteText;
  /** Dates, dateTimes and times in double quotes (jsonl: they are JSON strings). */
  quoteTemporal: boolean;
  /** Doubles spelled for JSON readers (`-0.0`, exponent form from 1e16): see writeJsonFloat. */
  jsonFloats: boolean;
}

/** Types whose text is the same in csv and jsonl (strings differ: quoting vs escaping). */
export type ScalarType = Exclude<VariableType, 'string' | 'geography'>;

export interface ScalarWriter {
  bind: BindCell;
  /** Most bytes one value can take: lets the row loop reserve room per chunk, not per cell. */
  maxBytes: number;
}

/** The writer of a scalar column type, chosen once per file. */
export function chooseScalarWriter(type: ScalarType, style: ScalarStyle): ScalarWriter {
  const { nonFinite, quoteTemporal: quote } = style;
  const quotes = quote ? 2 : 0;
  switch (type) {
    case 'integer':
      primeIntegerText();
      return { bind: bindIntegerWriter, maxBytes: MAX_INT64_CHARS };
    case 'float': {
      const longest = Math.max(MAX_FLOAT_CHARS, nonFinite.nan.length, nonFinite.infinity.length, nonFinite.negativeInfinity.length);
      return { bind: (col) => bindFloatWriter(col, nonFinite, style.jsonFloats ? writeJsonFloat : writeFiniteFloat), maxBytes: longest };
    }
    case 'boolean': return { bind: bindBooleanWriter, maxBytes: 5 };
    case 'date': return { bind: (col) => bindDateWriter(col, quote), maxBytes: DATE_CHARS + quotes };
    case 'dateTime': return { bind: (col) => bindDateTimeWriter(col, quote), maxBytes: DATETIME_CHARS + quotes };
    case 'time': return { bind: (col) => bindTimeWriter(col, quote), maxBytes: TIME_CHARS + quotes };
  }
}

export function bindIntegerWriter(col: ColumnView): CellWriter {
  const values = col.values as BigInt64Array;
  if (!LITTLE_ENDIAN) return (out, pos, row) => writeBigInt(out, pos, values[row]);
  const words = viewInt64Words(values);
  return (out, pos, row) => {
    const n = readSafeInt64(words, row);
    // NaN marks a value beyond ±2^53: only BigInt text is exact there.
    return n === n ? writeSafeInteger(out, pos, n) : writeBigInt(out, pos, values[row]);
  };
}

export function bindFloatWriter(col: ColumnView, nonFinite: NonFiniteText, writeFinite = writeFiniteFloat): CellWriter {
  const values = col.values as Float64Array;
  return (out, pos, row) => {
    const x = values[row];
    if (x - x === 0) return writeFinite(out, pos, x); // finite: Inf − Inf and NaN are NaN
    if (x !== x) return writePacked(out, pos, nonFinite.nan);
    return writePacked(out, pos, x > 0 ? nonFinite.infinity : nonFinite.negativeInfinity);
  };
}

/** "true" and "fals" as little-endian words; "false" adds its "e". */
const TRUE_WORD = 0x65757274;
const FALS_WORD = 0x736c6166;

export function bindBooleanWriter(col: ColumnView): CellWriter {
  const bits = col.values as Uint8Array;
  const offset = col.bitOffset;
  return (out, pos, row) => {
    const bit = offset + row;
    if ((bits[bit >> 3] >> (bit & 7)) & 1) {
      out.setUint32(pos, TRUE_WORD, true);
      return pos + 4;
    }
    out.setUint32(pos, FALS_WORD, true);
    out.setUint8(pos + 4, 101);
    return pos + 5;
  };
}

const QUOTE = 34;

/** Writes the closing quote when `quote`; the opening one is written by the caller. */
function closeQuote(out: DataView, pos: number, quote: boolean): number {
  if (!quote) return pos;
  out.setUint8(pos, QUOTE);
  return pos + 1;
}

export function bindDateWriter(col: ColumnView, quote: boolean): CellWriter {
  const values = col.values as Int32Array;
  return (out, pos, row) => {
    const days = values[row];
    if (days < MIN_DAYS || days > MAX_DAYS) {
      throw new CellRangeError(`date ${days} days from 1970-01-01 is outside 0001-01-01..9999-12-31, the dates ISO text (YYYY-MM-DD) can hold`);
    }
    if (quote) out.setUint8(pos++, QUOTE);
    return closeQuote(out, writeDate(out, pos, days), quote);
  };
}

export function bindDateTimeWriter(col: ColumnView, quote: boolean): CellWriter {
  const values = col.values as BigInt64Array;
  const words = LITTLE_ENDIAN ? viewInt64Words(values) : null;
  return (out, pos, row) => {
    const micros = words === null ? NaN : readSafeInt64(words, row);
    const start = quote ? pos + 1 : pos;
    const end = micros === micros ? writeDateTime(out, start, micros) : writeBigDateTime(out, start, values[row]);
    if (end < 0) {
      throw new CellRangeError(`dateTime ${values[row]} µs from 1970-01-01T00:00:00 is outside years 0001..9999, the dateTimes ISO text can hold`);
    }
    if (quote) out.setUint8(pos, QUOTE);
    return closeQuote(out, end, quote);
  };
}

export function bindTimeWriter(col: ColumnView, quote: boolean): CellWriter {
  const values = col.values as BigInt64Array;
  const words = LITTLE_ENDIAN ? viewInt64Words(values) : null;
  return (out, pos, row) => {
    const micros = words === null ? Number(values[row]) : readSafeInt64(words, row);
    if (!(micros >= 0 && micros < MICROS_PER_DAY)) {
      throw new CellRangeError(`time ${values[row]} µs is outside 00:00:00..23:59:59.999999`);
    }
    if (quote) out.setUint8(pos++, QUOTE);
    return closeQuote(out, writeTimeOfDay(out, pos, micros), quote);
  };
}
