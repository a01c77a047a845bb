/**
 * PLAIN values of the hand-written Parquet writer (src/formats/parquet/plain.ts) against a
 * row-by-row reference: columns with and without nulls, starting at every bit offset, pages
 * starting and ending inside a byte of the bitmaps — the paths that take 8 valid rows at a
 * byte boundary at once must give the same bytes and the same min and max as row by row.
 */
import { describe, expect, it } from 'vitest';
import type { ColumnView } from '../../src/table/columns.js';
import type { VariableType } from '../../src/table/types.js';
import { seededRandom } from '../helpers/random.js';
import { compact8, emptyMinMax, writePlainBoolean, writePlainDouble, writePlainInt32 } from '../../src/formats/parquet/plain.js';


const valid = (col: ColumnView, i: number): boolean => {
  if (col.validity === null) return true;
  const bit = col.bitOffset + i;
  return ((col.validity[bit >> 3] >> (bit & 7)) & 1) === 1;
};

/** A column of `length` rows at bit `offset` of its buffers (as a slice of a larger batch), nulls at `nullRate` (0: no bitmap). */
function column(type: VariableType, length: number, offset: number, nullRate: number, rand: () => number): ColumnView {
  const total = offset + length;
  const bytes = Math.ceil(total / 8) + 8;
  let validity: Uint8Array | null = null;
  if (nullRate > 0) {
    validity = new Uint8Array(bytes);
    for (let b = 0; b < total; b++) if (rand() >= nullRate) validity[b >> 3] |= 1 << (b & 7);
  }
  let values: ColumnView['values'];
  if (type === 'boolean') {
    values = new Uint8Array(bytes).map(() => Math.floor(rand() * 256));
  } else if (type === 'date') {
    values = new Int32Array(total).map(() => Math.floor((rand() - 0.5) * 2 ** 32));
    return { type, length, nullCount: 0, validity, bitOffset: 0, values: values.subarray(offset), offsets: null };
  } else {
    values = new Float64Array(total).map(() => (rand() - 0.5) * 1e6);
    return { type, length, nullCount: 0, validity, bitOffset: 0, values: values.subarray(offset), offsets: null };
  }
  return { type, length, nullCount: 0, validity, bitOffset: offset, values, offsets: null };
}

// Cases: every bit offset 0..15, lengths around byte and 8-row multiples, page ranges inside.
function* cases(type: VariableType): Generator<{ col: ColumnView; start: number; end: number; label: string }> {
  const rand = seededRandom(7);
  for (const nullRate of [0, 0.02, 0.5, 1]) {
    for (let offset = 0; offset < 16; offset++) {
      for (const length of [0, 1, 7, 8, 9, 63, 64, 65, 200]) {
        const col = column(type, length, offset, nullRate, rand);
        for (const [start, end] of [[0, length], [Math.min(3, length), length], [0, Math.max(0, length - 5)], [Math.min(8, length), Math.min(length, 130)]]) {
          if (start <= end) yield { col, start, end, label: `${type} nulls ${nullRate} offset ${offset} rows ${length} [${start}, ${end})` };
        }
      }
    }
  }
}

describe('parquet PLAIN values: whole bytes of valid rows at once, the same as row by row', () => {
  it('booleans: bits and min/max', () => {
    for (const { col, start, end, label } of cases('boolean')) {
      const out = new Uint8Array(64);
      const mm = emptyMinMax();
      const at = writePlainBoolean(col, start, end, out, 3, mm);
      const expected: number[] = [];
      let k = 0;
      let trues = 0;
      let falses = 0;
      for (let i = start; i < end; i++) {
        if (!valid(col, i)) continue;
        const bit = col.bitOffset + i;
        const v = ((col.values as Uint8Array)[bit >> 3] >> (bit & 7)) & 1;
        if (k % 8 === 0) expected.push(0);
        expected[expected.length - 1] |= v << (k % 8);
        if (v) trues++; else falses++;
        k++;
      }
      expect([...out.subarray(3, at)], label).toEqual(expected);
      expect(mm.seen, label).toBe(trues + falses > 0);
      if (mm.seen) expect([mm.minLo, mm.maxLo], label).toEqual([falses > 0 ? 0 : 1, trues > 0 ? 1 : 0]);
    }
  });

  it('64-bit values: the non-null rows compacted, doubles bit for bit', () => {
    for (const { col, start, end, label } of cases('float')) {
      const { words, from, count } = compact8(col, start, end);
      const expected: number[] = [];
      for (let i = start; i < end; i++) if (valid(col, i)) expected.push((col.values as Float64Array)[i]);
      expect([...new Float64Array(words.slice(from, from + 2 * count).buffer)], label).toEqual(expected);
      const out = new Uint8Array(8 * 200 + 8);
      const mm = emptyMinMax();
      const at = writePlainDouble(col, start, end, out, 8, mm);
      expect([...new Float64Array(out.slice(8, at).buffer)], label).toEqual(expected);
      if (expected.length > 0) expect([mm.minLo, mm.maxLo], label).toEqual([Math.min(...expected), Math.max(...expected)]);
    }
  });

  it('32-bit values (dates): little-endian, min and max', () => {
    for (const { col, start, end, label } of cases('date')) {
      const out = new Uint8Array(4 * 200 + 5);
      const mm = emptyMinMax();
      const at = writePlainInt32(col, start, end, out, 5, mm);
      const expected: number[] = [];
      for (let i = start; i < end; i++) if (valid(col, i)) expected.push((col.values as Int32Array)[i]);
      const view = new DataView(out.buffer, 5, at - 5);
      expect(Array.from({ length: (at - 5) / 4 }, (_, j) => view.getInt32(4 * j, true)), label).toEqual(expected);
      expect(mm.seen, label).toBe(expected.length > 0);
      if (expected.length > 0) expect([mm.minLo, mm.maxLo], label).toEqual([Math.min(...expected), Math.max(...expected)]);
    }
  });
});
