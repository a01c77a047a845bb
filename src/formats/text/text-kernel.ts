import type { ColumnView } from '../../table/columns.js';
import { instantiateKernel, WASM_PAGE, type WasmMemory } from '../wasm-kernel.js';
import { KERNEL_WASM } from './wasm/kernel-wasm.js';

// The csv/jsonl row loop's WebAssembly kernel (./wasm/assembly/kernel.ts) and its memory, one
// per thread. The memory holds, from the kernel's own tables on: the layout last used (header,
// column descriptors, constant byte runs), the batch last loaded (its columns copied in), and
// the output of one call, copied out after it. A thread's exports take turns (a server runs
// several on the main thread), so what is loaded is checked at every call, and loaded again when
// another layout or batch came in between. The memory only grows; growing detaches the old
// views, so `u8` is taken again after every grow.

/** How a cell is written (the kernel's K_* numbers). */
export const CellKind = {
  integer: 0,
  float: 1,
  boolean: 2,
  date: 3,
  dateTime: 4,
  time: 5,
  csvString: 6,
  jsonString: 7,
} as const;
export type CellKind = (typeof CellKind)[keyof typeof CellKind];

/** A layout as the kernel reads it (written by ./rows.ts's callers, held as plain data). */
export interface KernelLayout {
  columns: readonly { kind: CellKind; prefix: Uint8Array; nullText: Uint8Array }[];
  rowEnd: Uint8Array;
  nonFinite: { nan: Uint8Array; infinity: Uint8Array; negativeInfinity: Uint8Array };
  quoteTemporal: boolean;
  jsonFloats: boolean;
  /** csv's delimiter byte (0 for jsonl). */
  delimiter: number;
}

interface KernelExports {
  heapBase(): number;
  csvField(out: number, src: number, len: number, delimiter: number): number;
  jsonString(out: number, src: number, len: number): number;
  encodeRows(lay: number, start: number, end: number, out: number): number;
  errorRow(): number;
  errorColumn(): number;
}

/** Header and descriptor sizes, and the flags (the kernel's H_*, D_* and flag constants). */
const HEADER_BYTES = 64;
const DESCRIPTOR_BYTES = 48;
const QUOTE_TEMPORAL = 1;
const JSON_FLOATS = 2;
/** Bytes the kernel may read or write past the end of a region (one 8-byte word). */
const SLACK = 8;

/** Where a value the kernel has no text for was found: its row in the batch, and its column. */
export interface CellStop {
  row: number;
  column: number;
}

export class TextKernel {
  private readonly x: KernelExports;
  private readonly memory: WasmMemory;
  private u8: Uint8Array;
  /** The start of the JS side's regions. */
  private readonly base: number;
  private layout: KernelLayout | null = null;
  private layoutAt = 0;
  private layoutEnd = 0;
  private loaded: readonly ColumnView[] | null = null;
  private dataEnd = 0;

  constructor() {
    const floatText = (x: number, json: number, out: number): number => {
      // Only for doubles the kernel's fast path leaves (17 digits, exponent form): ASCII text.
      const text = json !== 0 && Math.abs(x) >= 1e16 ? x.toExponential() : String(x);
      const u8 = this.u8;
      for (let i = 0; i < text.length; i++) u8[out + i] = text.charCodeAt(i);
      return out + text.length;
    };
    ({ exports: this.x, memory: this.memory } = instantiateKernel<KernelExports>(KERNEL_WASM, 4, { floatText }));
    this.u8 = new Uint8Array(this.memory.buffer);
    this.base = align(this.x.heapBase());
  }

  /** Bytes of memory the kernel holds now. */
  get size(): number {
    return this.memory.buffer.byteLength;
  }

  private ensure(end: number): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    this.memory.grow(Math.ceil((end - have) / WASM_PAGE));
    this.u8 = new Uint8Array(this.memory.buffer);
  }

  /** Writes the layout's header, descriptors and constants (columns' addresses come with each batch). */
  private setLayout(layout: KernelLayout): void {
    const n = layout.columns.length;
    let end = this.base + HEADER_BYTES + DESCRIPTOR_BYTES * n;
    const runs = [layout.rowEnd, layout.nonFinite.nan, layout.nonFinite.infinity, layout.nonFinite.negativeInfinity];
    for (const c of layout.columns) runs.push(c.prefix, c.nullText);
    for (const run of runs) end = align(end + run.length + SLACK);
    this.ensure(end);
    const at = this.base;
    const view = new DataView(this.memory.buffer);
    let pos = at + HEADER_BYTES + DESCRIPTOR_BYTES * n;
    const put = (slot: number, run: Uint8Array): void => {
      this.u8.set(run, pos);
      view.setUint32(slot, pos, true);
      view.setInt32(slot + 4, run.length, true);
      pos = align(pos + run.length + SLACK);
    };
    view.setInt32(at, n, true);
    put(at + 4, layout.rowEnd);
    put(at + 12, layout.nonFinite.nan);
    put(at + 20, layout.nonFinite.infinity);
    put(at + 28, layout.nonFinite.negativeInfinity);
    view.setInt32(at + 36, (layout.quoteTemporal ? QUOTE_TEMPORAL : 0) | (layout.jsonFloats ? JSON_FLOATS : 0), true);
    view.setInt32(at + 40, layout.delimiter, true);
    layout.columns.forEach((c, i) => {
      const d = at + HEADER_BYTES + DESCRIPTOR_BYTES * i;
      view.setInt32(d, c.kind, true);
      put(d + 24, c.prefix);
      put(d + 32, c.nullText);
    });
    this.layout = layout;
    this.layoutAt = at;
    this.layoutEnd = pos;
    this.loaded = null;
  }

  /** Copies a batch's columns in, after the layout, and points the descriptors at them. */
  private load(cols: readonly ColumnView[]): void {
    let need = this.layoutEnd;
    for (const col of cols) need += columnBytes(col);
    this.ensure(need);
    const u8 = this.u8;
    const view = new DataView(this.memory.buffer);
    let pos = this.layoutEnd;
    const copy = (bytes: Uint8Array): number => {
      const at = pos;
      u8.set(bytes, at);
      pos = align(at + bytes.length + SLACK);
      return at;
    };
    /** A bitmap's bytes from the one holding bit `bitOffset` (whose bit within it stays the offset). */
    const bitmap = (bits: Uint8Array, col: ColumnView): number => copy(bits.subarray(col.bitOffset >> 3, (col.bitOffset + col.length + 7) >> 3));
    cols.forEach((col, i) => {
      const d = this.layoutAt + HEADER_BYTES + DESCRIPTOR_BYTES * i;
      view.setUint32(d + 4, col.validity === null ? 0 : bitmap(col.validity, col), true);
      view.setInt32(d + 8, col.bitOffset & 7, true);
      const values = col.values;
      if (col.offsets !== null) {
        const offsets = col.offsets;
        const first = offsets[0];
        view.setUint32(d + 16, copy(new Uint8Array(offsets.buffer, offsets.byteOffset, 4 * (col.length + 1))), true);
        // offsets stay as they are: the kernel adds them to base, the copy's address less offsets[0]
        view.setUint32(d + 20, (copy((values as Uint8Array).subarray(first, offsets[col.length])) - first) >>> 0, true);
      } else if (col.type === 'boolean') {
        view.setUint32(d + 12, bitmap(values as Uint8Array, col), true);
      } else {
        view.setUint32(d + 12, copy(new Uint8Array(values.buffer, values.byteOffset, values.BYTES_PER_ELEMENT * col.length)), true);
      }
    });
    this.dataEnd = pos;
    this.loaded = cols;
  }

  /**
   * Writes rows start..end-1 of `cols` (a batch) under `layout` into `target` at `pos`, which has
   * room for `bytes`, the most they can take; returns the end, or a CellStop where a value has no text.
   */
  encode(layout: KernelLayout, cols: readonly ColumnView[], start: number, end: number, bytes: number, target: Uint8Array, pos: number): number | CellStop {
    if (this.layout !== layout) this.setLayout(layout);
    if (this.loaded !== cols) this.load(cols);
    const outAt = this.dataEnd;
    this.ensure(outAt + bytes + SLACK);
    const stop = this.x.encodeRows(this.layoutAt, start, end, outAt);
    if (stop === 0) return { row: this.x.errorRow(), column: this.x.errorColumn() };
    target.set(this.u8.subarray(outAt, stop), pos);
    return pos + (stop - outAt);
  }

  /** One string's text as a csv field (delimiter given) or a JSON string (delimiter null): header names and jsonl keys. */
  field(bytes: Uint8Array, delimiter: number | null): Uint8Array {
    // After the layout: what was loaded there is overwritten, so it is loaded again when next used.
    const src = this.layoutEnd > 0 ? this.layoutEnd : this.base;
    const out = align(src + bytes.length + SLACK);
    this.ensure(out + 6 * bytes.length + 2 + SLACK);
    this.loaded = null;
    this.u8.set(bytes, src);
    const end = delimiter === null ? this.x.jsonString(out, src, bytes.length) : this.x.csvField(out, src, bytes.length, delimiter);
    return this.u8.slice(out, end);
  }
}

function align(n: number): number {
  return (n + 15) & ~15;
}

/** Bytes of a column's parts as load() copies them, each padded as copy() pads it. */
function columnBytes(col: ColumnView): number {
  const padded = (n: number): number => align(n + SLACK);
  const bitmapBytes = ((col.bitOffset & 7) + col.length + 7) >> 3;
  let n = col.validity === null ? 0 : padded(bitmapBytes);
  if (col.offsets !== null) n += padded(4 * (col.length + 1)) + padded(col.offsets[col.length] - col.offsets[0]);
  else if (col.type === 'boolean') n += padded(bitmapBytes);
  else n += padded(col.values.BYTES_PER_ELEMENT * col.length);
  return n;
}

/**
 * A kernel grown past this (a batch of very wide text, say) is let go at the next call rather
 * than kept for the thread's life: WebAssembly memory never shrinks, and a server's threads
 * outlive the export.
 */
const KEEP_BYTES = 64 << 20;

let kernel: TextKernel | null = null;

/** This thread's kernel, made on first use, and anew after an oversized one. */
export function threadTextKernel(): TextKernel {
  if (kernel === null || kernel.size > KEEP_BYTES) kernel = new TextKernel();
  return kernel;
}
