import type { ColumnView } from '../../../table/columns.js';
import { KERNEL_WASM } from './kernel-wasm.js';

// The WebAssembly kernel (./assembly/kernel.ts) and its memory, one per thread: a column is
// copied in, its pages are written there, compressed from there and copied out
// (column-chunk.ts). The memory only grows (to the largest column chunk a thread has written,
// with its scratch): growing detaches the old views, so `u8` is taken again after every grow
// and no view is kept across one.

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
}

const WASM_PAGE = 65536;
/** The running min/max of a column chunk (24 bytes: seen, min, max; see the kernel). */
export const MIN_MAX = 16;
/** Scratch for one DELTA_BINARY_PACKED miniblock (32 u32). */
export const MINIBLOCK = 64;
/** Where a column's regions start (below: the fixed slots above; 0 stands for "none"). */
const FIRST = 256;

/** Most entries a dictionary reaches before it gives up (1 MiB of PLAIN values: 4 bytes + text, or 8 bytes, each). */
const MAX_STRING_ENTRIES = (1 << 20) / 4 + 1;
const MAX_INT64_ENTRIES = (1 << 20) / 8 + 1;

/** What is used of the WebAssembly global (its types are the DOM library's, which this project does not load). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Memory: new (descriptor: { initial: number; maximum: number }) => WasmMemory;
  Instance: new (module: object, imports: object) => { exports: unknown };
}
const { WebAssembly: wasm } = globalThis as unknown as { WebAssembly: WasmApi };

let compiled: object | null = null;

/** A column copied into the kernel's memory: addresses of its parts (0: absent). */
export interface WasmColumn {
  n: number;
  /** Validity bitmap (0: no nulls) and the bit of row 0 in it and in a boolean column's values. */
  valid: number;
  bitOff: number;
  /** Fixed-width values from row 0, or a boolean column's bitmap. */
  vals: number;
  /** Strings: offsets (n + 1 i32), and the address that offsets are added to (may wrap below 0). */
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
    compiled ??= new wasm.Module(Buffer.from(KERNEL_WASM, 'base64'));
    this.memory = new wasm.Memory({ initial: 16, maximum: 65536 });
    this.x = new wasm.Instance(compiled, { env: { memory: this.memory } }).exports as unknown as KernelExports;
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

  private copy(bytes: Uint8Array, pad = 0): number {
    const at = this.alloc(bytes.length + pad);
    this.u8.set(bytes, at);
    if (pad > 0) this.u8.fill(0, at + bytes.length, at + bytes.length + pad);
    return at;
  }

  /** Copies a column in (its rows 0..length-1 only) and lays out the scratch its kind needs. */
  load(col: ColumnView, kind: 'i64' | 'f64' | 'i32' | 'bool' | 'bytes'): { col: WasmColumn; scratch: ColumnScratch } {
    this.reset();
    const n = col.length;
    const bitOff = col.bitOffset & 7;
    const firstByte = col.bitOffset >> 3;
    const bitmapBytes = (bitOff + n + 7) >> 3;
    const bitmap = (bits: Uint8Array): number => this.copy(bits.subarray(firstByte, firstByte + bitmapBytes), 8);
    const valid = col.validity === null ? 0 : bitmap(col.validity);
    const values = col.values;
    const w: WasmColumn = { n, valid, bitOff, vals: 0, offs: 0, base: 0 };
    const scratch: ColumnScratch = { compact: 0, deltas: 0, lengths: 0, indices: 0, starts: 0, entryLengths: 0, hashes: 0, slots: 0 };
    switch (kind) {
      case 'bool':
        w.vals = bitmap(values as Uint8Array);
        break;
      case 'i32':
        w.vals = this.copy(new Uint8Array(values.buffer, values.byteOffset, 4 * n));
        break;
      case 'i64':
      case 'f64': {
        w.vals = this.copy(new Uint8Array(values.buffer, values.byteOffset, 8 * n));
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
        const offsets = col.offsets as Int32Array;
        w.offs = this.copy(new Uint8Array(offsets.buffer, offsets.byteOffset, 4 * (n + 1)));
        const from = offsets[0];
        const data = values as Uint8Array;
        w.base = this.copy(data.subarray(from, offsets[n]), 8) - from;
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

  /** The min/max the kernel kept for the column (MIN_MAX): seen, and its 8-byte min and max slots. */
  minMax(): { seen: boolean; view: DataView } {
    const view = new DataView(this.memory.buffer, MIN_MAX, 24);
    return { seen: view.getInt32(0, true) !== 0, view };
  }
}

/** Slots of a dictionary's open-addressing table: twice the entries, a power of two, at least 2048 (the kernel's start). */
function slotBytes(entries: number): number {
  let slots = 2048;
  while (slots < 2 * entries) slots *= 2;
  return 4 * slots;
}

let arena: Arena | null = null;

/** This thread's arena, made on first use. */
export function threadArena(): Arena {
  arena ??= new Arena();
  return arena;
}
