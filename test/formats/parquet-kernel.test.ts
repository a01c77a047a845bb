/**
 * The hand-written Parquet writer's WebAssembly kernel (src/formats/parquet/wasm/) against
 * row-by-row references written here: PLAIN values of columns with and without nulls, starting
 * at every bit offset, pages starting and ending inside a byte of the bitmaps (the paths that
 * take 8 valid rows at a byte boundary at once must give the same bytes and the same min and
 * max as row by row); DELTA_BINARY_PACKED of 64-bit integers decoded back, with steps at ±2^31
 * and steps that only wrapping arithmetic would bring within it.
 */
import { describe, expect, it } from 'vitest';
import type { ColumnView } from '../../src/table/columns.js';
import type { VariableType } from '../../src/table/types.js';
import { seededRandom } from '../helpers/random.js';
import { MIN_MAX, MINIBLOCK, threadArena, type ColumnScratch, type KernelExports, type WasmColumn } from '../../src/formats/parquet/wasm/arena.js';


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
    // A fifth all true and a fifth all false: whole bytes of one value are what the min/max of the fast path must see.
    const mode = rand();
    values = new Uint8Array(bytes).map(() => (mode < 0.2 ? 0xff : mode < 0.4 ? 0 : Math.floor(rand() * 256)));
  } else if (type === 'date') {
    values = new Int32Array(total).map(() => Math.floor((rand() - 0.5) * 2 ** 32));
    return { type, length, nullCount: 0, validity, bitOffset: 0, values: values.subarray(offset), offsets: null };
  } else if (type === 'integer') {
    values = BigInt64Array.from({ length: total }, () => BigInt.asIntN(64, (BigInt(Math.floor(rand() * 2 ** 32)) << 32n) | BigInt(Math.floor(rand() * 2 ** 32))));
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

const arena = threadArena();
type Kind = 'i64' | 'f64' | 'i32' | 'bool' | 'bytes';

/** Copies the column into the kernel's memory, runs `write` on it (its page at `out`) and returns the bytes written and the min/max kept. */
function inKernel(col: ColumnView, kind: Kind, write: (x: KernelExports, w: WasmColumn, s: ColumnScratch, out: number) => number) {
  const { col: w, scratch: s } = arena.load([col], kind);
  const out = arena.page(16 * col.length + 256);
  const end = write(arena.x, w, s, out);
  const { seen, view } = arena.minMax();
  return { written: end === 0 ? null : arena.u8.slice(out, end), seen, view };
}

describe('parquet PLAIN values: whole bytes of valid rows at once, the same as row by row', () => {
  it('booleans: bits and min/max', () => {
    for (const { col, start, end, label } of cases('boolean')) {
      const { written, seen, view } = inKernel(col, 'bool', (x, w, _s, out) => x.plainBoolean(w.vals, w.valid, w.bitOff, start, end, out, MIN_MAX));
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
      expect([...(written as Uint8Array)], label).toEqual(expected);
      expect(seen, label).toBe(trues + falses > 0);
      if (seen) expect([view.getInt32(8, true), view.getInt32(16, true)], label).toEqual([falses > 0 ? 0 : 1, trues > 0 ? 1 : 0]);
    }
  });

  it('doubles: the non-null rows compacted, bit for bit, min and max', () => {
    for (const { col, start, end, label } of cases('float')) {
      const { written, seen, view } = inKernel(col, 'f64', (x, w, s, out) => x.plainDouble(w.vals, w.valid, w.bitOff, start, end, out, MIN_MAX, s.compact));
      const expected: number[] = [];
      for (let i = start; i < end; i++) if (valid(col, i)) expected.push((col.values as Float64Array)[i]);
      expect([...new Float64Array((written as Uint8Array).buffer)], label).toEqual(expected);
      expect(seen, label).toBe(expected.length > 0);
      if (expected.length > 0) expect([view.getFloat64(8, true), view.getFloat64(16, true)], label).toEqual([Math.min(...expected), Math.max(...expected)]);
    }
  });

  it('64-bit integers: the non-null rows compacted, signed min and max', () => {
    for (const { col, start, end, label } of cases('integer')) {
      const { written, seen, view } = inKernel(col, 'i64', (x, w, s, out) => x.plainInt64(w.vals, w.valid, w.bitOff, start, end, out, MIN_MAX, s.compact));
      const expected: bigint[] = [];
      for (let i = start; i < end; i++) if (valid(col, i)) expected.push((col.values as BigInt64Array)[i]);
      expect([...new BigInt64Array((written as Uint8Array).buffer)], label).toEqual(expected);
      expect(seen, label).toBe(expected.length > 0);
      if (expected.length > 0) {
        const sorted = [...expected].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
        expect([view.getBigInt64(8, true), view.getBigInt64(16, true)], label).toEqual([sorted[0], sorted[sorted.length - 1]]);
      }
    }
  });

  it('32-bit values (dates): little-endian, min and max', () => {
    for (const { col, start, end, label } of cases('date')) {
      const { written, seen, view } = inKernel(col, 'i32', (x, w, _s, out) => x.plainInt32(w.vals, w.valid, w.bitOff, start, end, out, MIN_MAX));
      const expected: number[] = [];
      for (let i = start; i < end; i++) if (valid(col, i)) expected.push((col.values as Int32Array)[i]);
      expect([...new Int32Array((written as Uint8Array).buffer)], label).toEqual(expected);
      expect(seen, label).toBe(expected.length > 0);
      if (expected.length > 0) expect([view.getInt32(8, true), view.getInt32(16, true)], label).toEqual([Math.min(...expected), Math.max(...expected)]);
    }
  });
});

/** A reader of DELTA_BINARY_PACKED (apache/parquet-format Encodings.md), written from the spec for this test. */
function decodeDelta(bytes: Uint8Array): bigint[] {
  let pos = 0;
  const uvarint = (): bigint => {
    let n = 0n;
    let shift = 0n;
    for (;;) {
      const b = bytes[pos++];
      n |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return n;
      shift += 7n;
    }
  };
  const unzigzag = (z: bigint): bigint => ((z & 1n) === 0n ? z >> 1n : -((z + 1n) >> 1n));
  const blockSize = Number(uvarint());
  const miniblocks = Number(uvarint());
  const count = Number(uvarint());
  const values = [BigInt.asIntN(64, unzigzag(uvarint()))];
  const perMini = blockSize / miniblocks;
  while (values.length < count) {
    const minDelta = unzigzag(uvarint());
    const widths = [...bytes.subarray(pos, pos + miniblocks)];
    pos += miniblocks;
    for (const width of widths) {
      if (values.length >= count) break;
      let bitPos = 0;
      for (let i = 0; i < perMini; i++) {
        let v = 0n;
        for (let b = 0; b < width; b++, bitPos++) v |= BigInt((bytes[pos + (bitPos >> 3)] >> (bitPos & 7)) & 1) << BigInt(b);
        if (values.length < count) values.push(BigInt.asIntN(64, values[values.length - 1] + minDelta + v));
      }
      pos += (perMini * width) / 8;
    }
  }
  expect(pos, 'every byte read').toBe(bytes.length);
  return values;
}

/** A 64-bit integer column of `values` (null: a null row) at bit `offset` of its bitmap. */
function int64Column(values: (bigint | null)[], offset: number): ColumnView {
  const n = values.length;
  const nulls = values.some((v) => v === null);
  const validity = nulls ? new Uint8Array(((offset + n + 7) >> 3) + 8) : null;
  if (validity) values.forEach((v, i) => { if (v !== null) validity[(offset + i) >> 3] |= 1 << ((offset + i) & 7); });
  return { type: 'integer', length: n, nullCount: 0, validity, bitOffset: offset, values: BigInt64Array.from(values, (v) => v ?? 0n), offsets: null };
}

describe('parquet DELTA_BINARY_PACKED 64-bit integers', () => {
  const MAX = 2n ** 63n - 1n;
  const MIN = -(2n ** 63n);
  const delta = (values: (bigint | null)[], offset = 0) => {
    const col = int64Column(values, offset);
    return inKernel(col, 'i64', (x, w, s, out) => x.deltaInt64(w.vals, w.valid, w.bitOff, 0, col.length, out, MIN_MAX, s.compact, s.deltas, MINIBLOCK));
  };

  it('steps of exactly 2^31 − 1 and −2^31 are delta-packed and read back; min and max are the values\'', () => {
    const values = [0n, 2n ** 31n - 1n, 0n, -(2n ** 31n), MAX - 5n, MAX, MAX - (2n ** 31n), MIN + 3n, MIN, MIN + 2n ** 31n - 1n];
    const edges = [values.slice(0, 4), values.slice(4, 7), values.slice(7)];
    for (const run of edges) {
      const { written, view } = delta(run);
      expect(written, String(run)).not.toBeNull();
      expect(decodeDelta(written as Uint8Array)).toEqual(run);
      const sorted = [...run].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      expect([view.getBigInt64(8, true), view.getBigInt64(16, true)]).toEqual([sorted[0], sorted[sorted.length - 1]]);
    }
  });

  it('a step beyond ±2^31, or one that only wraps into it (MAX to MIN), leaves the page to PLAIN; so do fewer than 2 values', () => {
    for (const run of [[0n, 2n ** 31n], [0n, -(2n ** 31n) - 1n], [MAX, MIN], [MIN, MAX], [MIN + 1n, MAX], [5n], [], [null, 7n, null]]) {
      const { written, seen } = delta(run);
      expect(written, String(run)).toBeNull();
      expect(seen, 'no min/max from a page it did not write').toBe(false);
    }
  });

  it('nulls left out, at every bit offset, over several blocks and miniblock widths', () => {
    const rand = seededRandom(11);
    for (let offset = 0; offset < 9; offset++) {
      let v = BigInt(Math.floor((rand() - 0.5) * 2 ** 52));
      const values = Array.from({ length: 700 }, (_, i) => {
        const scale = [0, 1, 2 ** 8, 2 ** 20, 2 ** 31 - 1][i % 5 === 0 ? Math.floor(rand() * 5) : 1];
        v += BigInt(Math.floor((rand() - 0.5) * 2 * scale));
        return rand() < 0.1 ? null : v;
      });
      const { written } = delta(values, offset);
      expect(decodeDelta(written as Uint8Array), `offset ${offset}`).toEqual(values.filter((x) => x !== null));
    }
  });
});

describe('a row group\'s batches joined as they are copied into the kernel (Arena.load)', () => {
  /** Rows start..start+n-1 of a batch with nulls at nullRate (0: no bitmap), at bit `offset`; int64 values and text. */
  function part(offset: number, n: number, start: number, nullRate: number, rand: () => number): { ints: ColumnView; text: ColumnView; bools: ColumnView } {
    const bytes = ((offset + n + 7) >> 3) + 8;
    const validity = nullRate > 0 ? new Uint8Array(bytes) : null;
    if (validity) for (let i = 0; i < n; i++) if (rand() >= nullRate) validity[(offset + i) >> 3] |= 1 << ((offset + i) & 7);
    const bits = new Uint8Array(bytes).map(() => Math.floor(rand() * 256));
    const strings = Array.from({ length: n }, (_, i) => `r${start + i}${'é'.repeat(i % 3)}`);
    const encoded = strings.map((t) => new TextEncoder().encode(t));
    const lead = 5; // the batch's text starts 5 bytes into its buffer, as in a slice
    const offsets = new Int32Array(n + 1);
    let at = lead;
    encoded.forEach((e, i) => { offsets[i] = at; at += e.length; });
    offsets[n] = at;
    const data = new Uint8Array(at);
    encoded.forEach((e, i) => data.set(e, offsets[i]));
    return {
      ints: { type: 'integer', length: n, nullCount: 0, validity, bitOffset: offset, values: BigInt64Array.from({ length: n }, (_, i) => BigInt(start + i)), offsets: null },
      text: { type: 'string', length: n, nullCount: 0, validity, bitOffset: offset, values: data, offsets },
      bools: { type: 'boolean', length: n, nullCount: 0, validity, bitOffset: offset, values: bits, offsets: null },
    };
  }
  const bit = (bytes: Uint8Array, i: number): number => (bytes[i >> 3] >> (i & 7)) & 1;

  it('bitmaps at any offsets (whole bytes where the offsets agree, bit by bit where not), values and rebased text offsets', () => {
    const rand = seededRandom(5);
    for (const layout of [[[0, 64], [0, 64]], [[3, 13], [0, 20], [7, 9]], [[5, 40], [5, 40]], [[0, 17], [0, 0], [2, 33]], [[6, 1]]]) {
      for (const nullRates of [[0, 0, 0], [0.3, 0, 0.5], [0, 0.2, 0]]) {
        let start = 0;
        const parts = layout.map(([offset, n], k) => { const p = part(offset, n, start, nullRates[k] ?? 0, rand); start += n; return p; });
        const label = `${JSON.stringify(layout)} nulls ${nullRates}`;
        const n = start;
        const expectValid = (w: WasmColumn): void => {
          let row = 0;
          for (const p of parts) {
            for (let i = 0; i < p.ints.length; i++, row++) {
              const want = p.ints.validity === null ? 1 : bit(p.ints.validity, p.ints.bitOffset + i);
              const got = w.valid === 0 ? 1 : bit(arena.u8.subarray(w.valid), w.bitOff + row);
              expect(got, `${label} validity row ${row}`).toBe(want);
            }
          }
        };
        const ints = arena.load(parts.map((p) => p.ints), 'i64').col;
        expect(ints.n).toBe(n);
        expectValid(ints);
        expect([...new BigInt64Array(arena.u8.slice(ints.vals, ints.vals + 8 * n).buffer)], label).toEqual(Array.from({ length: n }, (_, i) => BigInt(i)));
        const bools = arena.load(parts.map((p) => p.bools), 'bool').col;
        let row = 0;
        for (const p of parts) for (let i = 0; i < p.bools.length; i++, row++) {
          expect(bit(arena.u8.subarray(bools.vals), bools.bitOff + row), `${label} boolean row ${row}`).toBe(bit(p.bools.values as Uint8Array, p.bools.bitOffset + i));
        }
        const text = arena.load(parts.map((p) => p.text), 'bytes').col;
        expectValid(text);
        const offsets = arena.int32(text.offs, n + 1);
        expect(offsets[0]).toBe(0);
        const decoded = Array.from({ length: n }, (_, i) => new TextDecoder().decode(arena.u8.subarray(text.base + offsets[i], text.base + offsets[i + 1])));
        expect(decoded, label).toEqual(Array.from({ length: n }, (_, i) => `r${i}`).map((t, i) => t + 'é'.repeat((i - layoutStart(layout, i)) % 3)));
      }
    }
  });
});

/** The first row of the part of `layout` that row i falls in. */
function layoutStart(layout: number[][], i: number): number {
  let start = 0;
  for (const [, n] of layout) {
    if (i < start + n) return start;
    start += n;
  }
  return start;
}

describe('parquet string dictionary (words of 8 bytes, the last one masked)', () => {
  it('tells apart values equal in their first words, prefixes of one another and of the next value\'s bytes', () => {
    const words = ['', 'a', 'ab', 'abcdefg', 'abcdefgh', 'abcdefgi', 'abcdefghX', 'abcdefghY', 'abcdefghabcdefgh', 'abcdefghabcdefghZ', 'é漢', 'abcdefgh\u0000'];
    const rand = seededRandom(3);
    const values = Array.from({ length: 3000 }, () => words[Math.floor(rand() * words.length)]);
    const encoded = values.map((v) => new TextEncoder().encode(v));
    const offsets = new Int32Array(values.length + 1);
    encoded.forEach((e, i) => { offsets[i + 1] = offsets[i] + e.length; });
    const data = new Uint8Array(offsets[values.length]);
    encoded.forEach((e, i) => data.set(e, offsets[i]));
    const col: ColumnView = { type: 'string', length: values.length, nullCount: 0, validity: null, bitOffset: 0, values: data, offsets };
    const { col: w, scratch: s } = arena.load([col], 'bytes');
    const size = arena.x.stringDictionary(w.base, w.offs, w.valid, w.bitOff, w.n, s.indices, s.starts, s.entryLengths, s.hashes, s.slots);
    const firstSeen = [...new Set(values)];
    expect(size).toBe(firstSeen.length);
    const starts = arena.int32(s.starts, size);
    const lengths = arena.int32(s.entryLengths, size);
    const entries = Array.from({ length: size }, (_, e) => new TextDecoder().decode(arena.u8.subarray(w.base + starts[e], w.base + starts[e] + lengths[e])));
    expect(entries, 'entries in order of first appearance').toEqual(firstSeen);
    const indices = arena.int32(s.indices, values.length);
    expect(Array.from(indices, (e) => entries[e])).toEqual(values);
  });
});

describe('the thread\'s arena', () => {
  it('is kept from one row group to the next, and let go once a row group grew it past 64 MiB', () => {
    const first = threadArena();
    expect(threadArena()).toBe(first);
    const n = (64 << 20) / 8 + 1024; // doubles just past the limit
    const col: ColumnView = { type: 'float', length: n, nullCount: 0, validity: null, bitOffset: 0, values: new Float64Array(n), offsets: null };
    first.load([col], 'f64');
    expect(first.size).toBeGreaterThan(64 << 20);
    const next = threadArena();
    expect(next).not.toBe(first);
    expect(next.size).toBeLessThan(2 << 20);
    expect(threadArena()).toBe(next);
  });
});
