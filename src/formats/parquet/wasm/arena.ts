import { copyBits } from '../../../parallel/pack-group.js';
import type { ColumnView } from '../../../table/columns.js';
import { instantiateKernel, WASM_PAGE, type WasmMemory } from '../../wasm-kernel.js';
import { KERNEL_WASM } from './kernel-wasm.js';

// The WebAssembly kernel (./assembly/kernel.ts) and its memory, one per thread: a column is
// copied in, its pages are written there, compressed from there and copied out
// (column-chunk.ts). The memory only grows (to the largest column chunk a thread has written,
// with its scratch; past KEEP_BYTES the arena is replaced at the next row group): growing
// detaches the old views, so `u8` is taken again after every grow and no view is kept across one.

/** The kernel's exports: addresses into its memory, counts and bit offsets (every one a number). */
export interface KernelExports {
  countValid(valid: number, bitOff: number, start: number, end: number): number;
  definitionLevels(valid: number, bitOff: number, start: number, rows: number, out: number): number;
  bitPackedRun(src: number, count: number, width: number, out: number): number;
  plainInt64(vals: number, valid: number, bitOff: number, start: number, end: number, out: number, mm: number, scratch: number): number;
  plainDouble(vals: number, valid: number, bitOff: number, start: number, end: number, out: number, mm: number, scratch: number): number;
  plainInt32(vals: number, valid: number, bitOff: number, start: number, end: number, out: number, mm: number): number;
  plainBoolean(vals: number, valid: number, bitOff: number, start: number, end: number, out: number, mm: number): number;
  deltaInt64(vals: number, valid: number, bitOff: number, start: number, end: number, out: number, mm: number, scratch: number, deltas: number, mini: number): number;
  deltaLengthByteArray(base: number, offs: number, valid: number, bitOff: number, start: number, end: number, out: number, lengths: number, deltas: number, mini: number): number;
  cutCharacter(base: number, offs: number, n: number): number;
  stringDictionary(base: number, offs: number, valid: number, bitOff: number, n: number, indices: number, starts: number, lengths: number, hashes: number, slots: number): number;
  stringDictionaryValues(base: number, starts: number, lengths: number, size: number, out: number): number;
  int64Dictionary(vals: number, valid: number, bitOff: number, n: number, indices: number, values: number, slots: number): number;
  int64DictionaryMinMax(values: number, size: number, mm: number): void;
  lastDictionaryCount(): number;
  lastDictionaryPlainBytes(): number;
  addToInt32(at: number, count: number, delta: number): void;
}

/** The running min/max of a column chunk (24 bytes: seen, min, max; see the kernel). */
export const MIN_MAX = 16;
/** Scratch for one DELTA_BINARY_PACKED miniblock (32 u32). */
export const MINIBLOCK = 64;
/** Where a column's regions start (below: the fixed slots above; 0 stands for "none"). */
const FIRST = 256;

/** Most entries a dictionary reaches before it gives up (1 MiB of PLAIN values: 4 bytes + text, or 8 bytes, each). */
const MAX_STRING_ENTRIES = (1 << 20) / 4 + 1;
const MAX_INT64_ENTRIES = (1 << 20) / 8 + 1;

/** A column copied into the kernel's memory: addresses of its parts (0: absent). */
export interface WasmColumn {
  n: number;
  /** Validity bitmap (0: no nulls) and the bit of row 0 in it and in a boolean column's values. */
  valid: number;
  bitOff: number;
  /** Fixed-width values from row 0, or a boolean column's bitmap. */
  vals: number;
  /** Strings: offsets (n + 1 i32, from 0), and the address of their bytes that offsets are added to. */
  offs: number;
  base: number;
}

/** Scratch regions of the column being written (0 where its kind needs none). */
export interface ColumnScratch {
  compact: number;
  deltas: number;
  lengths: number;
  indices: number;
  /** Dictionary entries: strings' starts, lengths, hashes; or 64-bit values (starts). */
  starts: number;
  entryLengths: number;
  hashes: number;
  slots: number;
}

export class Arena {
  readonly x: KernelExports;
  private readonly memory: WasmMemory;
  u8: Uint8Array;
  private top = FIRST;

  constructor() {
    ({ exports: this.x, memory: this.memory } = instantiateKernel<KernelExports>(KERNEL_WASM, 16));
    this.u8 = new Uint8Array(this.memory.buffer);
  }

  /** Forgets the last column's regions (its pages were copied out). */
  reset(): void {
    this.top = FIRST;
    this.u8.fill(0, MIN_MAX, MIN_MAX + 24);
  }

  /** `bytes` bytes of the memory, 8-aligned, for the current column. */
  alloc(bytes: number): number {
    const at = (this.top + 7) & ~7;
    this.top = at + bytes;
    this.ensure(this.top);
    return at;
  }

  /** Scratch for one page of at most `bytes` bytes after the column's regions (not kept: one page at a time). */
  page(bytes: number): number {
    const at = (this.top + 7) & ~7;
    this.ensure(at + bytes);
    return at;
  }

  private ensure(end: number): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    this.memory.grow(Math.ceil((end - have) / WASM_PAGE));
    this.u8 = new Uint8Array(this.memory.buffer);
  }

  /**
   * Copies a column in, given as one or more consecutive parts (a row group's batches, joined
   * here rather than packed together first: one copy of the rows), and lays out the scratch its
   * kind needs. Strings' offsets start at 0 from `base`; bitmaps keep the first part's bit offset
   * within its byte (then one part is copied a byte at a time).
   */
  load(parts: readonly ColumnView[], kind: 'i64' | 'f64' | 'i32' | 'bool' | 'bytes'): { col: WasmColumn; scratch: ColumnScratch } {
    this.reset();
    let n = 0;
    for (const part of parts) n += part.length;
    const bitOff = parts.length > 0 ? parts[0].bitOffset & 7 : 0;
    const bitmap = (of: (part: ColumnView) => Uint8Array | null): number => {
      const at = this.alloc(((bitOff + n + 7) >> 3) + 8);
      const bits = this.u8.subarray(at, at + ((bitOff + n + 7) >> 3) + 8);
      bits.fill(0);
      let row = 0;
      for (const part of parts) {
        copyBits(of(part), part.bitOffset, bits, bitOff + row, part.length);
        row += part.length;
      }
      return at;
    };
    const valid = parts.some((part) => part.validity !== null) ? bitmap((part) => part.validity) : 0;
    const w: WasmColumn = { n, valid, bitOff, vals: 0, offs: 0, base: 0 };
    const scratch: ColumnScratch = { compact: 0, deltas: 0, lengths: 0, indices: 0, starts: 0, entryLengths: 0, hashes: 0, slots: 0 };
    const fixed = (bytesPer: number): number => {
      const at = this.alloc(bytesPer * n);
      let to = at;
      for (const { values, length } of parts) {
        this.u8.set(new Uint8Array(values.buffer, values.byteOffset, bytesPer * length), to);
        to += bytesPer * length;
      }
      return at;
    };
    switch (kind) {
      case 'bool':
        w.vals = bitmap((part) => part.values as Uint8Array);
        break;
      case 'i32':
        w.vals = fixed(4);
        break;
      case 'i64':
      case 'f64': {
        w.vals = fixed(8);
        if (valid !== 0) scratch.compact = this.alloc(8 * n);
        if (kind === 'i64') {
          scratch.deltas = this.alloc(4 * n);
          scratch.indices = this.alloc(4 * n);
          const entries = Math.min(n, MAX_INT64_ENTRIES);
          scratch.starts = this.alloc(8 * entries);
          scratch.slots = this.alloc(slotBytes(entries));
        }
        break;
      }
      case 'bytes': {
        let bytes = 0;
        for (const part of parts) bytes += (part.offsets as Int32Array)[part.length] - (part.offsets as Int32Array)[0];
        w.offs = this.alloc(4 * (n + 1));
        w.base = this.alloc(bytes + 8);
        const offsets = this.int32(w.offs, n + 1);
        let row = 0;
        let base = 0;
        for (const part of parts) {
          const from = (part.offsets as Int32Array)[0];
          const end = (part.offsets as Int32Array)[part.length];
          this.u8.set((part.values as Uint8Array).subarray(from, end), w.base + base);
          offsets.set((part.offsets as Int32Array).subarray(0, part.length), row);
          // In the kernel: a loop here made V8 compile this function again and again (on-stack
          // replacement, then deoptimization on its other paths), ~20 ms of compiling each time.
          if (base !== from) this.x.addToInt32(w.offs + 4 * row, part.length, base - from);
          row += part.length;
          base += end - from;
        }
        offsets[n] = base;
        scratch.lengths = this.alloc(4 * n);
        scratch.deltas = this.alloc(4 * n);
        scratch.indices = this.alloc(4 * n);
        const entries = Math.min(n, MAX_STRING_ENTRIES);
        scratch.starts = this.alloc(4 * entries);
        scratch.entryLengths = this.alloc(4 * entries);
        scratch.hashes = this.alloc(4 * entries);
        scratch.slots = this.alloc(slotBytes(entries));
        break;
      }
    }
    return { col: w, scratch };
  }

  /** A view of `length` i32 at `at` (taken anew after any grow). */
  int32(at: number, length: number): Int32Array {
    return new Int32Array(this.u8.buffer, at, length);
  }

  /** The min/max the kernel kept for the column (MIN_MAX): seen, and its 8-byte min and max slots. */
  minMax(): { seen: boolean; view: DataView } {
    const view = new DataView(this.memory.buffer, MIN_MAX, 24);
    return { seen: view.getInt32(0, true) !== 0, view };
  }

  /** Bytes of memory the arena holds now. */
  get size(): number {
    return this.memory.buffer.byteLength;
  }
}

/** Slots of a dictionary's open-addressing table: twice the entries, a power of two, at least 2048 (the kernel's start). */
function slotBytes(entries: number): number {
  let slots = 2048;
  while (slots < 2 * entries) slots *= 2;
  return 4 * slots;
}

/**
 * An arena grown past this (row groups far larger than the default's ~10 MB a column: a large
 * rowGroupSize, wide text) is let go at the next row group rather than kept for the thread's
 * life: WebAssembly memory never shrinks, and a server's threads outlive the export.
 */
const KEEP_BYTES = 64 << 20;

let arena: Arena | null = null;

/** This thread's arena, made on first use, and anew after an oversized one (called between row groups). */
export function threadArena(): Arena {
  if (arena === null || arena.size > KEEP_BYTES) arena = new Arena();
  return arena;
}
