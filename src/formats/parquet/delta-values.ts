import type { ColumnView } from '../../table/columns.js';
import { maxDeltaBytes, writeDeltaBinaryPacked, zigzagVarint, zigzagVarint64 } from './delta.js';
import { compact8, minMaxInt64, type MinMax } from './plain.js';

// Page values in the delta encodings (apache/parquet-format Encodings.md): DELTA_BINARY_PACKED
// 64-bit integers, and DELTA_LENGTH_BYTE_ARRAY strings (the lengths delta-packed, then every
// value's bytes back to back: one copy per run of non-null rows instead of one per value).

let deltas = new Float64Array(1 << 16);
let lengths = new Int32Array(1 << 16);

function deltaScratch(n: number): Float64Array {
  if (deltas.length < n) deltas = new Float64Array(n);
  return deltas;
}

/** Most bytes the DELTA_BINARY_PACKED values of `rows` rows take. */
export function maxDeltaInt64Bytes(rows: number): number {
  return maxDeltaBytes(rows);
}

const LIMIT = 2 ** 31;

/**
 * 64-bit integers of rows start..end-1 as DELTA_BINARY_PACKED at out[pos], when every step
 * between consecutive values is within ±2^31 (row numbers, sorted keys); returns the position
 * after them, or -1 (nothing written that counts) when a step is larger or there are under 2
 * values, for PLAIN to take the page.
 */
export function writeDeltaInt64(col: ColumnView, start: number, end: number, out: Uint8Array, pos: number, mm: MinMax): number {
  const { words, from, count } = compact8(col, start, end);
  if (count < 2) return -1;
  const d = deltaScratch(count);
  let prevLo = words[from] >>> 0;
  let prevHi = words[from + 1];
  for (let k = 1; k < count; k++) {
    const lo = words[from + 2 * k] >>> 0;
    const hi = words[from + 2 * k + 1];
    const step = (hi - prevHi) * 4294967296 + (lo - prevLo);
    if (step >= LIMIT || step < -LIMIT) return -1;
    d[k - 1] = step;
    prevLo = lo;
    prevHi = hi;
  }
  minMaxInt64(words, from, count, mm);
  return writeDeltaBinaryPacked(count, zigzagVarint64(words[from], words[from + 1]), d, out, pos);
}

/** Most bytes writeDeltaLengthByteArray takes for rows start..end-1. */
export function maxDeltaLengthBytes(col: ColumnView, start: number, end: number): number {
  const offsets = col.offsets as Int32Array;
  return maxDeltaBytes(end - start) + offsets[end] - offsets[start];
}

/** UTF-8 strings of rows start..end-1 as DELTA_LENGTH_BYTE_ARRAY at out[pos]; returns the position after them. */
export function writeDeltaLengthByteArray(col: ColumnView, start: number, end: number, out: Uint8Array, pos: number): number {
  const bytes = col.values as Uint8Array;
  const offsets = col.offsets as Int32Array;
  const validity = col.validity;
  if (lengths.length < end - start) lengths = new Int32Array(end - start);
  let count = 0;
  for (let i = start; i < end; i++) {
    if (validity !== null) {
      const bit = col.bitOffset + i;
      if (((validity[bit >> 3] >> (bit & 7)) & 1) === 0) continue;
    }
    lengths[count++] = offsets[i + 1] - offsets[i];
  }
  const d = deltaScratch(count);
  for (let k = 1; k < count; k++) d[k - 1] = lengths[k] - lengths[k - 1];
  pos = writeDeltaBinaryPacked(count, zigzagVarint(count > 0 ? lengths[0] : 0), d, out, pos);
  if (validity === null) {
    out.set(bytes.subarray(offsets[start], offsets[end]), pos);
    return pos + offsets[end] - offsets[start];
  }
  // Runs of non-null rows, each one copy (a null's slot may hold bytes: they are left out).
  for (let i = start; i < end;) {
    const bit = col.bitOffset + i;
    if (((validity[bit >> 3] >> (bit & 7)) & 1) === 0) { i++; continue; }
    let j = i + 1;
    while (j < end && ((validity[(col.bitOffset + j) >> 3] >> ((col.bitOffset + j) & 7)) & 1) === 1) j++;
    const length = offsets[j] - offsets[i];
    out.set(bytes.subarray(offsets[i], offsets[j]), pos);
    pos += length;
    i = j;
  }
  return pos;
}
