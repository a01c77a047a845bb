import { makeData, RecordBatch, Struct, type Data, type Schema } from 'apache-arrow';
import { viewColumn, type ColumnView } from '../../table/columns.js';
import type { VariableType } from '../../table/types.js';

// A row group's rows as one canonical batch, when they came in several batches (the source's
// batch size rarely divides the row-group size): the kernel encodes a chunk of one batch.
// Copies with typed-array set() where it can; bitmaps bit by bit only when misaligned.

/** Copies `count` bits from src at srcBit to dst at dstBit (LSB-first bitmaps); src null = all ones. */
function copyBits(src: Uint8Array | null, srcBit: number, dst: Uint8Array, dstBit: number, count: number): void {
  if (src !== null && (srcBit & 7) === 0 && (dstBit & 7) === 0) {
    const whole = count >> 3;
    dst.set(src.subarray(srcBit >> 3, (srcBit >> 3) + whole), dstBit >> 3);
    for (let k = whole << 3; k < count; k++) setBit(dst, dstBit + k, (src[(srcBit + k) >> 3] >> ((srcBit + k) & 7)) & 1);
    return;
  }
  for (let k = 0; k < count; k++) {
    const bit = src === null ? 1 : (src[(srcBit + k) >> 3] >> ((srcBit + k) & 7)) & 1;
    setBit(dst, dstBit + k, bit);
  }
}

function setBit(dst: Uint8Array, bit: number, on: number): void {
  if (on) dst[bit >> 3] |= 1 << (bit & 7);
  else dst[bit >> 3] &= ~(1 << (bit & 7));
}

function concatColumn(views: ColumnView[], data: Data, rows: number): Data {
  const type = data.type;
  let nullCount = 0;
  for (const v of views) nullCount += v.validity ? v.nullCount : 0;
  let nullBitmap: Uint8Array | undefined;
  if (views.some((v) => v.validity !== null)) {
    nullBitmap = new Uint8Array(Math.ceil(rows / 8));
    let at = 0;
    for (const v of views) {
      copyBits(v.validity, v.bitOffset, nullBitmap, at, v.length);
      at += v.length;
    }
  }
  const first = views[0];
  if (first.offsets) {
    let bytes = 0;
    for (const v of views) bytes += (v.offsets as Int32Array)[v.length] - (v.offsets as Int32Array)[0];
    const values = new Uint8Array(bytes);
    const valueOffsets = new Int32Array(rows + 1);
    let row = 0;
    let base = 0;
    for (const v of views) {
      const offsets = v.offsets as Int32Array;
      const from = offsets[0];
      values.set((v.values as Uint8Array).subarray(from, offsets[v.length]), base);
      const shift = base - from;
      for (let i = 0; i < v.length; i++) valueOffsets[row + i] = offsets[i] + shift;
      row += v.length;
      base += offsets[v.length] - from;
    }
    valueOffsets[rows] = base;
    return makeData({ type, length: rows, nullCount, nullBitmap, valueOffsets, data: values } as never);
  }
  if (first.type === 'boolean') {
    const values = new Uint8Array(Math.ceil(rows / 8));
    let at = 0;
    for (const v of views) {
      copyBits(v.values as Uint8Array, v.bitOffset, values, at, v.length);
      at += v.length;
    }
    return makeData({ type, length: rows, nullCount, nullBitmap, data: values } as never);
  }
  const Ctor = first.values.constructor as { new(n: number): BigInt64Array | Float64Array | Int32Array };
  const values = new Ctor(rows);
  let at = 0;
  for (const v of views) {
    (values as Int32Array).set((v.values as Int32Array).subarray(0, v.length), at);
    at += v.length;
  }
  return makeData({ type, length: rows, nullCount, nullBitmap, data: values } as never);
}

/** The pieces' rows, in order, as one batch of `schema` (the one piece itself when alone). */
export function concatBatches(schema: Schema, types: readonly VariableType[], pieces: readonly RecordBatch[]): RecordBatch {
  if (pieces.length === 1) return pieces[0];
  let rows = 0;
  for (const p of pieces) rows += p.numRows;
  const children = types.map((type, c) => concatColumn(pieces.map((p) => viewColumn(p.data.children[c], type)), pieces[0].data.children[c], rows));
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: rows, nullCount: 0, children }));
}
