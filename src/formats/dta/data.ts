import type { ColumnView } from '../../table/columns.js';
import {
  BYTE_MAX, BYTE_MIN, BYTE_MISSING, DOUBLE_MAX, DOUBLE_MISSING_HIGH, INT_MAX, INT_MIN, INT_MISSING, LONG_MAX, LONG_MIN,
  LONG_MISSING, MS_PER_DAY, TC_UNIX_EPOCH_MS, TD_UNIX_EPOCH,
} from './spec.js';
import type { CellKind, DtaColumn } from './types.js';

/**
 * The `<data>` rows (facts A5): each row is the columns' cells back to back, little-endian, no
 * padding. A chunk of rows is filled column by column: each column's writer, chosen once per
 * export by its CellKind, runs one tight loop down the chunk at a stride of the row length,
 * reading the Arrow typed arrays directly (never Vector.get, never a BigInt per cell).
 * Every byte of a cell is written (str# padding included) except a strL reference's for ""
 * and null, (0,0), which the one-thread file encoder's zero-filled chunks already hold.
 */

/** One batch's column, in one shape for every kind (monomorphic property access). */
export interface BoundColumn {
  readonly column: DtaColumn;
  readonly validity: Uint8Array | null;
  readonly bitOffset: number;
  /** int64 values (integer, dateTime, time) as little-endian lo/hi int32 pairs; date days. */
  readonly words: Int32Array;
  readonly doubles: Float64Array;
  /** String bytes, or the boolean bits; and a view of them for word copies. */
  readonly bytes: Uint8Array;
  readonly byteView: DataView;
  readonly offsets: Int32Array;
  /** 1-based variable number (strL references). */
  readonly v: number;
  /** Cells written as `.` because Stata cannot hold them (±Infinity, beyond ±8.988e307, far dates). */
  unrepresentable: number;
}

/** The rows being filled: `bytes` holds rows start..end-1 of the batch, `stride` bytes each. */
export interface RowChunk {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly stride: number;
  /** 1-based observation number of the batch's row 0 (strL references). */
  readonly obsBase: number;
  /** 2 (118) or 3 (119) bytes of v in a strL reference. */
  readonly strlVBytes: number;
}

/** A cell the column's storage cannot take; the encoder adds the column and row. */
export class CellError extends Error {
  constructor(readonly row: number, readonly code: 'VALUE_OUT_OF_RANGE' | 'STRING_TOO_LONG', message: string) {
    super(message);
  }
}

export type CellWriter = (col: BoundColumn, out: RowChunk, pos: number, start: number, end: number) => void;

const EMPTY_I32 = new Int32Array(0);
const EMPTY_F64 = new Float64Array(0);
const EMPTY_U8 = new Uint8Array(0);

/** Binds a batch's column view to its planned column. Assumes a little-endian host (checked in prepare). */
export function bindColumn(column: DtaColumn, view: ColumnView, v: number): BoundColumn {
  const values = view.values;
  let words: Int32Array = EMPTY_I32;
  if (values instanceof BigInt64Array) words = new Int32Array(values.buffer, values.byteOffset, values.length * 2);
  else if (values instanceof Int32Array) words = values;
  const bytes = values instanceof Uint8Array ? values : EMPTY_U8;
  return {
    column, validity: view.validity, bitOffset: view.bitOffset, words, v, unrepresentable: 0,
    doubles: values instanceof Float64Array ? values : EMPTY_F64,
    bytes, byteView: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    offsets: view.offsets ?? EMPTY_I32,
  };
}

const isNull = (col: BoundColumn, r: number): boolean => {
  const bit = col.bitOffset + r;
  return ((col.validity as Uint8Array)[bit >> 3] >> (bit & 7) & 1) === 0;
};

function outOfRange(col: BoundColumn, r: number, type: string, min: number, max: number): CellError {
  const value = (BigInt(col.words[2 * r + 1]) << 32n) | BigInt(col.words[2 * r] >>> 0);
  return new CellError(r, 'VALUE_OUT_OF_RANGE', `${value} does not fit the Stata ${type} (${min}..${max}) chosen from the `
    + 'column statistics: the statistics given with the table do not match the data');
}

/*
 * Integers stored as byte/int/long: the int64 must fit the type's valid range (a sub-range of
 * int32), so hi must be lo's sign extension. Three copies of one loop rather than one shared
 * closure, so each stays monomorphic.
 */
const writeIntegerByte: CellWriter = (col, out, pos, start, end) => {
  const { words } = col;
  const { bytes, stride } = out;
  for (let r = start; r < end; r++, pos += stride) {
    if (col.validity !== null && isNull(col, r)) {
      bytes[pos] = BYTE_MISSING;
      continue;
    }
    const lo = words[2 * r];
    if (words[2 * r + 1] !== lo >> 31 || lo < BYTE_MIN || lo > BYTE_MAX) throw outOfRange(col, r, 'byte', BYTE_MIN, BYTE_MAX);
    bytes[pos] = lo;
  }
};

const writeIntegerInt: CellWriter = (col, out, pos, start, end) => {
  const { words } = col;
  const { view, stride } = out;
  for (let r = start; r < end; r++, pos += stride) {
    if (col.validity !== null && isNull(col, r)) {
      view.setInt16(pos, INT_MISSING, true);
      continue;
    }
    const lo = words[2 * r];
    if (words[2 * r + 1] !== lo >> 31 || lo < INT_MIN || lo > INT_MAX) throw outOfRange(col, r, 'int', INT_MIN, INT_MAX);
    view.setInt16(pos, lo, true);
  }
};

const writeIntegerLong: CellWriter = (col, out, pos, start, end) => {
  const { words } = col;
  const { view, stride } = out;
  for (let r = start; r < end; r++, pos += stride) {
    if (col.validity !== null && isNull(col, r)) {
      view.setInt32(pos, LONG_MISSING, true);
      continue;
    }
    const lo = words[2 * r];
    if (words[2 * r + 1] !== lo >> 31 || lo < LONG_MIN || lo > LONG_MAX) throw outOfRange(col, r, 'long', LONG_MIN, LONG_MAX);
    view.setInt32(pos, lo, true);
  }
};

/** Facts A8: `.` as a double. */
function writeMissingDouble(view: DataView, pos: number): void {
  view.setUint32(pos, 0, true);
  view.setUint32(pos + 4, DOUBLE_MISSING_HIGH, true);
}

const writeIntegerDouble: CellWriter = (col, out, pos, start, end) => {
  const { words } = col;
  const { view, stride } = out;
  for (let r = start; r < end; r++, pos += stride) {
    if (col.validity !== null && isNull(col, r)) writeMissingDouble(view, pos);
    // hi·2^32 is exact and the sum rounds once: the nearest double, as Number(bigint) gives.
    else view.setFloat64(pos, words[2 * r + 1] * 4294967296 + (words[2 * r] >>> 0), true);
  }
};

const writeFloat: CellWriter = (col, out, pos, start, end) => {
  const { doubles } = col;
  const { view, stride } = out;
  for (let r = start; r < end; r++, pos += stride) {
    const x = doubles[r];
    if (col.validity !== null && isNull(col, r)) writeMissingDouble(view, pos);
    else if (x <= DOUBLE_MAX && x >= -DOUBLE_MAX) view.setFloat64(pos, x, true);
    else {
      // Facts A8: NaN is `.` (a missing value); ±Infinity and |x| > 8.988e307 cannot be held.
      writeMissingDouble(view, pos);
      if (x === x) col.unrepresentable++;
    }
  }
};

const writeBoolean: CellWriter = (col, out, pos, start, end) => {
  const bits = col.bytes;
  const at = col.bitOffset;
  const { bytes, stride } = out;
  for (let r = start; r < end; r++, pos += stride) {
    if (col.validity !== null && isNull(col, r)) bytes[pos] = BYTE_MISSING;
    else bytes[pos] = (bits[(at + r) >> 3] >> ((at + r) & 7)) & 1;
  }
};

/** Facts A9: %td = days since 1960-01-01 as a long. */
const writeDate: CellWriter = (col, out, pos, start, end) => {
  const days = col.words;
  const { view, stride } = out;
  for (let r = start; r < end; r++, pos += stride) {
    if (col.validity !== null && isNull(col, r)) {
      view.setInt32(pos, LONG_MISSING, true);
      continue;
    }
    const td = days[r] + TD_UNIX_EPOCH;
    if (td <= LONG_MAX) view.setInt32(pos, td, true);
    else {
      view.setInt32(pos, LONG_MISSING, true);
      col.unrepresentable++;
    }
  }
};

/**
 * Milliseconds of an int64 microsecond count (lo, hi), rounded to the nearest, ties to the
 * later instant, without BigInt: µs = hi·4294967·1000 + (hi·296 + lo) since 2^32 = 4294967·1000 + 296.
 */
function millisOfMicros(lo: number, hi: number): number {
  const rest = hi * 296 + (lo >>> 0); // |rest| < 2^41: exact
  return hi * 4294967 + Math.floor((rest + 500) / 1000);
}

/** Facts A9: %tc = ms since 1960-01-01 as a double; microseconds are rounded (DESIGN.md). */
const writeDateTime: CellWriter = (col, out, pos, start, end) => {
  const { words } = col;
  const { view, stride } = out;
  for (let r = start; r < end; r++, pos += stride) {
    if (col.validity !== null && isNull(col, r)) writeMissingDouble(view, pos);
    else view.setFloat64(pos, millisOfMicros(words[2 * r], words[2 * r + 1]) + TC_UNIX_EPOCH_MS, true);
  }
};

/**
 * Facts A9: a time of day is a %tc on 01jan1960, in [0, 86,400,000). Rounding would carry
 * 23:59:59.9995 and later into the next day, so those stay at 23:59:59.999.
 */
const writeTime: CellWriter = (col, out, pos, start, end) => {
  const { words } = col;
  const { view, stride } = out;
  for (let r = start; r < end; r++, pos += stride) {
    if (col.validity !== null && isNull(col, r)) writeMissingDouble(view, pos);
    else {
      const ms = millisOfMicros(words[2 * r], words[2 * r + 1]);
      view.setFloat64(pos, ms === MS_PER_DAY ? MS_PER_DAY - 1 : ms, true);
    }
  }
};

/**
 * Facts A5: str# holds the UTF-8 bytes, NUL-padded; null is "". The padding is written here, a
 * word at a time, so a chunk need not be zero-filled first (filling a worker's output, shared
 * memory, took ~8 % of the kernel's time).
 */
const writeStr: CellWriter = (col, out, pos, start, end) => {
  const { offsets, bytes: src, byteView: words } = col;
  const width = col.column.width;
  const { bytes, view, stride } = out;
  for (let r = start; r < end; r++, pos += stride) {
    let k = 0;
    if (col.validity === null || !isNull(col, r)) {
      const s = offsets[r];
      const len = offsets[r + 1] - s;
      if (len > width) {
        throw new CellError(r, 'STRING_TOO_LONG', `a value of ${len} bytes does not fit the str${width} chosen from the column `
          + 'statistics: the statistics given with the table do not match the data');
      }
      // Short strings copy faster a word at a time than through a subarray; no byte past len is written.
      if (len <= 64) {
        for (; k + 4 <= len; k += 4) view.setUint32(pos + k, words.getUint32(s + k, true), true);
        for (; k < len; k++) bytes[pos + k] = src[s + k];
      } else {
        bytes.set(src.subarray(s, s + len), pos);
        k = len;
      }
    }
    for (; k + 4 <= width; k += 4) view.setUint32(pos + k, 0, true);
    for (; k < width; k++) bytes[pos + k] = 0;
  }
};

/**
 * Facts A5: a strL cell is its (v,o) reference; 118: u16 v + 6-byte o, 119: 3-byte v +
 * 5-byte o (little-endian, so the u64 v + o·2^16 or v + o·2^24). "" and null are (0,0),
 * which the zeroed chunk already holds.
 */
const writeStrlReference: CellWriter = (col, out, pos, start, end) => {
  const { offsets } = col;
  const { view, stride, obsBase, strlVBytes } = out;
  for (let r = start; r < end; r++, pos += stride) {
    if ((col.validity !== null && isNull(col, r)) || offsets[r + 1] === offsets[r]) continue;
    const o = obsBase + r;
    const oLow = o % 4294967296;
    const oHigh = (o - oLow) / 4294967296;
    if (strlVBytes === 2) {
      view.setUint16(pos, col.v, true);
      view.setUint32(pos + 2, oLow, true);
      view.setUint16(pos + 6, oHigh, true);
    } else {
      view.setUint16(pos, col.v & 0xffff, true);
      view.setUint8(pos + 2, col.v >>> 16);
      view.setUint32(pos + 3, oLow, true);
      view.setUint8(pos + 7, oHigh);
    }
  }
};

/** The writer of each kind: the per-column function table, chosen from once per export. */
export const CELL_WRITERS: Readonly<Record<CellKind, CellWriter>> = {
  integerByte: writeIntegerByte,
  integerInt: writeIntegerInt,
  integerLong: writeIntegerLong,
  integerDouble: writeIntegerDouble,
  float: writeFloat,
  boolean: writeBoolean,
  date: writeDate,
  dateTime: writeDateTime,
  time: writeTime,
  str: writeStr,
  strL: writeStrlReference,
};
