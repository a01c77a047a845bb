import type { ColumnView } from '../../table/columns.js';

// PLAIN values (apache/parquet-format Encodings.md) of the non-null rows of a canonical column,
// with the column chunk's min and max found in the same pass. Nulls have no slot in PLAIN
// data: a column with nulls is compacted as it is copied.

/**
 * The running min and max of a column chunk's values, in the form Statistics stores them
 * (PLAIN bytes of the value), and whether any non-NaN value was seen.
 */
export interface MinMax {
  /** 'i64' min/max as [lo, hi] 32-bit halves; 'f64', 'i32', 'bool' as numbers. */
  seen: boolean;
  minLo: number;
  minHi: number;
  maxLo: number;
  maxHi: number;
}

export function emptyMinMax(): MinMax {
  return { seen: false, minLo: 0, minHi: 0, maxLo: 0, maxHi: 0 };
}

function isValidAt(validity: Uint8Array, bit: number): boolean {
  return ((validity[bit >> 3] >> (bit & 7)) & 1) === 1;
}

/** Aligned scratch for the non-null values of a column with nulls, before they are copied out. */
let scratch = new Int32Array(1 << 16);

/**
 * The 8-byte values of rows start..end-1 as 32-bit halves, nulls left out: a view of the column
 * itself when it has no nulls, else compacted into the scratch. Copied as halves: never
 * through a BigInt (slow) or a double (a NaN pattern could change).
 */
export function compact8(col: ColumnView, start: number, end: number): { words: Int32Array; from: number; count: number } {
  const src = col.values as BigInt64Array | Float64Array;
  const words = new Int32Array(src.buffer, src.byteOffset, src.length * 2);
  const validity = col.validity;
  if (validity === null) return { words, from: 2 * start, count: end - start };
  if (scratch.length < 2 * (end - start)) scratch = new Int32Array(2 * (end - start));
  const dst = scratch;
  const offset = col.bitOffset;
  let k = 0;
  for (let i = start; i < end;) {
    const bit = offset + i;
    if ((bit & 7) === 0 && i + 8 <= end && validity[bit >> 3] === 0xff) {
      // 8 rows, all valid (most of a column with few nulls): no check per row.
      for (let w = 2 * i; w < 2 * i + 16; w++) dst[k++] = words[w];
      i += 8;
      continue;
    }
    if (isValidAt(validity, bit)) {
      dst[k++] = words[2 * i];
      dst[k++] = words[2 * i + 1];
    }
    i++;
  }
  return { words: dst, from: 0, count: k >> 1 };
}

function copyWords(words: Int32Array, from: number, count: number, out: Uint8Array, pos: number): number {
  out.set(new Uint8Array(words.buffer, words.byteOffset + 4 * from, 8 * count), pos);
  return pos + 8 * count;
}

/** 64-bit integers (int64, timestamps, times) of rows start..end-1, 8 bytes little-endian each, at out[pos]; returns the position after them. */
export function writePlainInt64(col: ColumnView, start: number, end: number, out: Uint8Array, pos: number, mm: MinMax): number {
  const { words, from, count } = compact8(col, start, end);
  minMaxInt64(words, from, count, mm);
  return copyWords(words, from, count, out, pos);
}

/** Adds `count` 64-bit values (32-bit halves from words[from]) to the min and max. */
export function minMaxInt64(words: Int32Array, from: number, count: number, mm: MinMax): void {
  let minLo = mm.minLo; let minHi = mm.minHi; let maxLo = mm.maxLo; let maxHi = mm.maxHi; let seen = mm.seen;
  const stop = from + 2 * count;
  for (let w = from; w < stop; w += 2) {
    const lo = words[w];
    const hi = words[w + 1];
    if (!seen) {
      minLo = maxLo = lo; minHi = maxHi = hi; seen = true;
    } else {
      if (hi < minHi || (hi === minHi && (lo >>> 0) < (minLo >>> 0))) { minHi = hi; minLo = lo; }
      if (hi > maxHi || (hi === maxHi && (lo >>> 0) > (maxLo >>> 0))) { maxHi = hi; maxLo = lo; }
    }
  }
  mm.minLo = minLo; mm.minHi = minHi; mm.maxLo = maxLo; mm.maxHi = maxHi; mm.seen = seen;
}

/** Doubles of rows start..end-1, bit for bit; min and max leave NaN out (parquet-format: NaN is not ordered). */
export function writePlainDouble(col: ColumnView, start: number, end: number, out: Uint8Array, pos: number, mm: MinMax): number {
  const { words, from, count } = compact8(col, start, end);
  const values = new Float64Array(words.buffer, words.byteOffset + 4 * from, count);
  let min = mm.minLo; let max = mm.maxLo; let seen = mm.seen;
  for (let i = 0; i < count; i++) {
    const x = values[i];
    if (x !== x) continue;
    if (!seen) { min = max = x; seen = true; } else if (x < min) min = x; else if (x > max) max = x;
  }
  mm.minLo = min; mm.maxLo = max; mm.seen = seen;
  return copyWords(words, from, count, out, pos);
}

/** 32-bit integers (dates: days since 1970) of rows start..end-1. */
export function writePlainInt32(col: ColumnView, start: number, end: number, out: Uint8Array, pos: number, mm: MinMax): number {
  const src = col.values as Int32Array;
  const validity = col.validity;
  let min = mm.minLo; let max = mm.maxLo; let seen = mm.seen;
  if (validity === null) {
    // No nulls: the values' bytes as they are (little-endian, as copyWords takes them), one copy.
    for (let i = start; i < end; i++) {
      const x = src[i];
      if (!seen) { min = max = x; seen = true; } else if (x < min) min = x; else if (x > max) max = x;
    }
    mm.minLo = min; mm.maxLo = max; mm.seen = seen;
    out.set(new Uint8Array(src.buffer, src.byteOffset + 4 * start, 4 * (end - start)), pos);
    return pos + 4 * (end - start);
  }
  const view = new DataView(out.buffer, out.byteOffset, out.length);
  let k = 0;
  for (let i = start; i < end; i++) {
    if (validity !== null && !isValidAt(validity, col.bitOffset + i)) continue;
    const x = src[i];
    view.setInt32(pos + 4 * k, x, true);
    k++;
    if (!seen) { min = max = x; seen = true; } else if (x < min) min = x; else if (x > max) max = x;
  }
  mm.minLo = min; mm.maxLo = max; mm.seen = seen;
  return pos + 4 * k;
}

/** Booleans of rows start..end-1, one bit each, least significant first (the last byte zero-padded). */
export function writePlainBoolean(col: ColumnView, start: number, end: number, out: Uint8Array, pos: number, mm: MinMax): number {
  const bits = col.values as Uint8Array;
  const validity = col.validity;
  let k = 0;
  let acc = 0;
  let anyTrue = mm.seen && mm.maxLo === 1;
  let anyFalse = mm.seen && mm.minLo === 0;
  for (let i = start; i < end;) {
    const bit = col.bitOffset + i;
    if ((bit & 7) === 0 && i + 8 <= end && (validity === null || validity[bit >> 3] === 0xff)) {
      // 8 rows, all valid: their byte of values joins the acc's pending (k & 7) bits, completing one output byte.
      const byte = bits[bit >> 3];
      if (byte !== 0) anyTrue = true;
      if (byte !== 0xff) anyFalse = true;
      acc |= byte << (k & 7);
      out[pos++] = acc & 0xff;
      acc >>>= 8;
      k += 8;
      i += 8;
      continue;
    }
    i++;
    if (validity !== null && !isValidAt(validity, bit)) continue;
    if (isValidAt(bits, bit)) { acc |= 1 << (k & 7); anyTrue = true; } else anyFalse = true;
    k++;
    if ((k & 7) === 0) { out[pos++] = acc; acc = 0; }
  }
  if ((k & 7) !== 0) out[pos++] = acc;
  if (anyTrue || anyFalse) {
    mm.seen = true;
    mm.minLo = anyFalse ? 0 : 1;
    mm.maxLo = anyTrue ? 1 : 0;
  }
  return pos;
}

/** The PLAIN bytes of a min or max, as Statistics min_value/max_value hold them. */
export function statisticBytes(kind: 'i64' | 'f64' | 'i32' | 'bool', mm: MinMax, which: 'min' | 'max'): Uint8Array {
  const lo = which === 'min' ? mm.minLo : mm.maxLo;
  switch (kind) {
    case 'i64': {
      const out = new Uint8Array(8);
      const view = new DataView(out.buffer);
      view.setInt32(0, lo, true);
      view.setInt32(4, which === 'min' ? mm.minHi : mm.maxHi, true);
      return out;
    }
    case 'f64': {
      const out = new Uint8Array(8);
      // parquet-format: a zero min is written as -0 and a zero max as +0, so either zero prunes right.
      new DataView(out.buffer).setFloat64(0, lo === 0 ? (which === 'min' ? -0 : 0) : lo, true);
      return out;
    }
    case 'i32': {
      const out = new Uint8Array(4);
      new DataView(out.buffer).setInt32(0, lo, true);
      return out;
    }
    case 'bool':
      return new Uint8Array([lo]);
  }
}
