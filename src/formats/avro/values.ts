import type { ColumnView } from '../../table/columns.js';
import type { VariableType } from '../../table/types.js';
import { LITTLE_ENDIAN, MAX_INT_BYTES, MAX_LONG_BYTES, writeInt, writeLongBigInt, writeLongHalves, writeVarUint32 } from './varint.js';

/**
 * One column's cells in Avro binary (spec 1.11, "Binary Encoding"): every field is the union
 * ["null", T], so a cell is its branch index as a zig-zag long (0 null, 1 → byte 2) followed,
 * for a value, by T's encoding. A writer is bound per column and batch, capturing the typed
 * arrays, so the row loop makes one call per cell with no dispatch on the type; each type has
 * a variant without the validity test for columns of a batch that hold no null.
 */
export type CellWriter = (out: Uint8Array, view: DataView, pos: number, row: number) => number;

/** Binds one column of one batch to its writer; chosen once per file from the column's type. */
export type BindCell = (col: ColumnView) => CellWriter;

export interface ColumnPlan {
  bind: BindCell;
  /** Most bytes a cell takes, beyond a string's own bytes. */
  maxBytes: number;
  /** Strings: the value bytes (offsets[end] - offsets[start]) come on top of maxBytes. */
  isText: boolean;
}

/** A value Avro cannot hold as the design says; the row loop adds the column and row. */
export class AvroValueError extends Error {}

const NULL_BRANCH = 0;
const VALUE_BRANCH = 2;
const MICROS_PER_DAY = 86_400_000_000;
const TWO_POW_32 = 4294967296;

/** The writer of each platform type, chosen once per file. */
export function planColumn(type: VariableType): ColumnPlan {
  switch (type) {
    case 'integer':
    case 'dateTime': return { bind: bindLong, maxBytes: 1 + MAX_LONG_BYTES, isText: false };
    case 'time': return { bind: bindTime, maxBytes: 1 + MAX_LONG_BYTES, isText: false };
    case 'float': return { bind: bindDouble, maxBytes: 1 + 8, isText: false };
    case 'boolean': return { bind: bindBoolean, maxBytes: 1 + 1, isText: false };
    case 'date': return { bind: bindDate, maxBytes: 1 + MAX_INT_BYTES, isText: false };
    case 'string':
    case 'geography': return { bind: bindString, maxBytes: 1 + MAX_INT_BYTES, isText: true };
  }
}

/** Both 32-bit halves of every int64, low half first (Arrow buffers are little-endian). */
function halvesOf(values: BigInt64Array): Int32Array {
  return new Int32Array(values.buffer, values.byteOffset, values.length * 2);
}

function bindLong(col: ColumnView): CellWriter {
  const values = col.values as BigInt64Array;
  const bits = col.validity;
  const offset = col.bitOffset;
  if (!LITTLE_ENDIAN) {
    // The halves trick assumes little-endian words; elsewhere read the BigInt (rare hosts).
    return (out, _view, pos, row) => {
      const bit = offset + row;
      if (bits !== null && ((bits[bit >> 3] >> (bit & 7)) & 1) === 0) {
        out[pos] = NULL_BRANCH;
        return pos + 1;
      }
      out[pos] = VALUE_BRANCH;
      return writeLongBigInt(out, pos + 1, values[row]);
    };
  }
  const words = halvesOf(values);
  if (bits === null) {
    return (out, _view, pos, row) => {
      out[pos] = VALUE_BRANCH;
      return writeLongHalves(out, pos + 1, words[2 * row], words[2 * row + 1]);
    };
  }
  return (out, _view, pos, row) => {
    const bit = offset + row;
    if (((bits[bit >> 3] >> (bit & 7)) & 1) === 0) {
      out[pos] = NULL_BRANCH;
      return pos + 1;
    }
    out[pos] = VALUE_BRANCH;
    return writeLongHalves(out, pos + 1, words[2 * row], words[2 * row + 1]);
  };
}

/** time-micros counts microseconds after midnight: anything outside one day has no meaning. */
function bindTime(col: ColumnView): CellWriter {
  const write = bindLong(col);
  const values = col.values as BigInt64Array;
  const words = LITTLE_ENDIAN ? halvesOf(values) : null;
  const bits = col.validity;
  const offset = col.bitOffset;
  return (out, view, pos, row) => {
    const bit = offset + row;
    if (bits === null || ((bits[bit >> 3] >> (bit & 7)) & 1) === 1) {
      const micros = words === null ? Number(values[row]) : words[2 * row + 1] * TWO_POW_32 + (words[2 * row] >>> 0);
      if (!(micros >= 0 && micros < MICROS_PER_DAY)) {
        throw new AvroValueError(`time ${values[row]} µs is outside 00:00:00..23:59:59.999999, the range of Avro time-micros`);
      }
    }
    return write(out, view, pos, row);
  };
}

function bindDouble(col: ColumnView): CellWriter {
  const values = col.values as Float64Array;
  const bits = col.validity;
  const offset = col.bitOffset;
  if (bits === null) {
    return (out, view, pos, row) => {
      out[pos] = VALUE_BRANCH;
      view.setFloat64(pos + 1, values[row], true);
      return pos + 9;
    };
  }
  return (out, view, pos, row) => {
    const bit = offset + row;
    if (((bits[bit >> 3] >> (bit & 7)) & 1) === 0) {
      out[pos] = NULL_BRANCH;
      return pos + 1;
    }
    out[pos] = VALUE_BRANCH;
    view.setFloat64(pos + 1, values[row], true);
    return pos + 9;
  };
}

function bindBoolean(col: ColumnView): CellWriter {
  const values = col.values as Uint8Array;
  const bits = col.validity;
  const offset = col.bitOffset;
  return (out, _view, pos, row) => {
    const bit = offset + row;
    if (bits !== null && ((bits[bit >> 3] >> (bit & 7)) & 1) === 0) {
      out[pos] = NULL_BRANCH;
      return pos + 1;
    }
    out[pos] = VALUE_BRANCH;
    out[pos + 1] = (values[bit >> 3] >> (bit & 7)) & 1;
    return pos + 2;
  };
}

function bindDate(col: ColumnView): CellWriter {
  const values = col.values as Int32Array;
  const bits = col.validity;
  const offset = col.bitOffset;
  return (out, _view, pos, row) => {
    const bit = offset + row;
    if (bits !== null && ((bits[bit >> 3] >> (bit & 7)) & 1) === 0) {
      out[pos] = NULL_BRANCH;
      return pos + 1;
    }
    out[pos] = VALUE_BRANCH;
    return writeInt(out, pos + 1, values[row]);
  };
}

/** Below this many bytes a loop beats `set(subarray())`, which allocates a view per cell. */
const SHORT_STRING = 24;

function bindString(col: ColumnView): CellWriter {
  const bytes = col.values as Uint8Array;
  const offsets = col.offsets as Int32Array;
  const bits = col.validity;
  const offset = col.bitOffset;
  return (out, _view, pos, row) => {
    const bit = offset + row;
    if (bits !== null && ((bits[bit >> 3] >> (bit & 7)) & 1) === 0) {
      out[pos] = NULL_BRANCH;
      return pos + 1;
    }
    const start = offsets[row];
    const end = offsets[row + 1];
    const length = end - start;
    out[pos] = VALUE_BRANCH;
    pos = writeVarUint32(out, pos + 1, length * 2); // zig-zag of a length >= 0
    if (length < SHORT_STRING) {
      for (let i = start; i < end; i++) out[pos++] = bytes[i];
      return pos;
    }
    out.set(bytes.subarray(start, end), pos);
    return pos + length;
  };
}
