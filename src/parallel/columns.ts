import type { ColumnView } from '../table/columns.js';

/** Where one column's arrays lie in a packed chunk's buffer. */
export interface PackedColumn {
  type: ColumnView['type'];
  length: number;
  nullCount: number;
  bitOffset: number;
  values: PackedArray;
  validity: PackedArray | null;
  offsets: PackedArray | null;
}

interface PackedArray {
  kind: 'i64' | 'f64' | 'i32' | 'u8';
  byteOffset: number;
  /** Elements. */
  length: number;
}

const BYTES = { i64: 8, f64: 8, i32: 4, u8: 1 } as const;

function kindOf(values: ColumnView['values']): PackedArray['kind'] {
  if (values instanceof BigInt64Array) return 'i64';
  if (values instanceof Float64Array) return 'f64';
  if (values instanceof Int32Array) return 'i32';
  return 'u8';
}

const align8 = (n: number): number => (n + 7) & ~7;

/**
 * Rows start..end-1 of a batch's columns, copied into one buffer of shared memory that a
 * worker reads (sent, not copied) and the export uses again for a later chunk. The ColumnView layout is kept:
 * string offsets start at 0, bitmaps keep the sub-byte bit offset.
 */
export function packColumns(cols: readonly ColumnView[], start: number, end: number, alloc: (bytes: number) => SharedArrayBuffer): { buffer: SharedArrayBuffer; columns: PackedColumn[] } {
  const plans = cols.map((col) => planColumn(col, start, end));
  let size = 0;
  for (const p of plans) for (const a of [p.values, p.validity, p.offsets]) if (a) { a.byteOffset = size; size = align8(size + a.length * BYTES[a.kind]); }
  const buffer = alloc(size);
  const u8 = new Uint8Array(buffer);
  cols.forEach((col, i) => {
    const p = plans[i];
    const firstBit = col.bitOffset + start;
    const byteStart = firstBit >> 3;
    if (p.validity && col.validity) u8.set(col.validity.subarray(byteStart, byteStart + p.validity.length), p.validity.byteOffset);
    if (col.offsets && p.offsets) {
      const from = col.offsets[start];
      const offsets = new Int32Array(buffer, p.offsets.byteOffset, p.offsets.length);
      offsets.set(col.offsets.subarray(start, end + 1));
      for (let k = 0; k < offsets.length; k++) offsets[k] -= from;
      u8.set((col.values as Uint8Array).subarray(from, col.offsets[end]), p.values.byteOffset);
    } else if (col.type === 'boolean') {
      u8.set((col.values as Uint8Array).subarray(byteStart, byteStart + p.values.length), p.values.byteOffset);
    } else {
      const v = col.values;
      u8.set(new Uint8Array(v.buffer, v.byteOffset + start * v.BYTES_PER_ELEMENT, (end - start) * v.BYTES_PER_ELEMENT), p.values.byteOffset);
    }
    // The batch's count, as a hint: kernels read the bitmap, and counting each chunk's nulls
    // was a per-row loop on the main thread for nothing.
    p.nullCount = col.validity ? col.nullCount : 0;
  });
  return { buffer, columns: plans };
}

function planColumn(col: ColumnView, start: number, end: number): PackedColumn {
  const firstBit = col.bitOffset + start;
  const bitBytes = ((col.bitOffset + end + 7) >> 3) - (firstBit >> 3);
  const length = end - start;
  let values: PackedArray;
  let offsets: PackedArray | null = null;
  if (col.offsets) {
    values = { kind: 'u8', byteOffset: 0, length: col.offsets[end] - col.offsets[start] };
    offsets = { kind: 'i32', byteOffset: 0, length: length + 1 };
  } else if (col.type === 'boolean') {
    values = { kind: 'u8', byteOffset: 0, length: bitBytes };
  } else {
    values = { kind: kindOf(col.values), byteOffset: 0, length };
  }
  const validity: PackedArray | null = col.validity ? { kind: 'u8', byteOffset: 0, length: bitBytes } : null;
  return { type: col.type, length, nullCount: 0, bitOffset: firstBit & 7, values, validity, offsets };
}

function view(buffer: ArrayBufferLike, a: PackedArray): ColumnView['values'] {
  switch (a.kind) {
    case 'i64': return new BigInt64Array(buffer, a.byteOffset, a.length);
    case 'f64': return new Float64Array(buffer, a.byteOffset, a.length);
    case 'i32': return new Int32Array(buffer, a.byteOffset, a.length);
    case 'u8': return new Uint8Array(buffer, a.byteOffset, a.length);
  }
}

/** The columns of a packed chunk, as views of its buffer. */
export function unpackColumns(buffer: ArrayBufferLike, columns: readonly PackedColumn[]): ColumnView[] {
  return columns.map((c) => ({
    type: c.type,
    length: c.length,
    nullCount: c.nullCount,
    bitOffset: c.bitOffset,
    values: view(buffer, c.values),
    validity: c.validity ? view(buffer, c.validity) as Uint8Array : null,
    offsets: c.offsets ? view(buffer, c.offsets) as Int32Array : null,
  }));
}

/** A chunk holds about this many bytes of input (a few MB of output): ~5–10 ms of encoding. */
export const CHUNK_INPUT_BYTES = 2 << 20;
const MAX_CHUNK_ROWS = 65_536;

/**
 * Rows per chunk of a batch: `fixed` when the format sets it (a parquet row group), else about
 * CHUNK_INPUT_BYTES of input; a multiple of `multiple` (sav's case blocks). Chunks of a few MB
 * also keep each one in the CPU's cache from the thread that encodes it to the MD5 and the file
 * write (6.5 MB chunks made the write alone cost ~0.5 s more CPU per 5M csv rows).
 */
export function rowsPerChunk(cols: readonly ColumnView[], rows: number, multiple: number, fixed: number | undefined): number {
  if (fixed !== undefined) return Math.max(1, fixed);
  const perRow = rows > 0 ? Math.max(1, columnBytes(cols, 0, rows) / rows) : 1;
  const want = Math.min(MAX_CHUNK_ROWS, Math.max(1, Math.floor(CHUNK_INPUT_BYTES / perRow)));
  return Math.max(multiple, want - (want % multiple));
}

/** Bytes the columns' rows start..end-1 take in memory: how large a chunk of them is. */
export function columnBytes(cols: readonly ColumnView[], start: number, end: number): number {
  let bytes = 0;
  for (const col of cols) {
    if (col.offsets) bytes += col.offsets[end] - col.offsets[start] + 4 * (end - start);
    else if (col.type === 'boolean') bytes += (end - start) / 8;
    else bytes += col.values.BYTES_PER_ELEMENT * (end - start);
    if (col.validity) bytes += (end - start) / 8;
  }
  return bytes;
}

/** Below this, an output is a plain buffer (copied across threads): a spare is kept for the large ones. */
const SMALL_OUTPUT = 64 << 10;

/**
 * A worker's output buffers for a task: small ones plain, large ones from the export's spare
 * shared buffers (the smallest that fits) or new shared memory. `spares` loses what is used.
 */
export function outputAllocator(spares: SharedArrayBuffer[]): (bytes: number) => Uint8Array {
  return (bytes) => {
    if (bytes < SMALL_OUTPUT) return new Uint8Array(bytes);
    let at = -1;
    for (let i = 0; i < spares.length; i++) {
      if (spares[i].byteLength >= bytes && (at < 0 || spares[i].byteLength < spares[at].byteLength)) at = i;
    }
    return new Uint8Array(at >= 0 ? spares.splice(at, 1)[0] : newShared(bytes), 0, bytes);
  };
}

/** Shared memory for a chunk, with room for a somewhat larger one: pages are mapped as they are first written. */
export function newShared(bytes: number): SharedArrayBuffer {
  return new SharedArrayBuffer(Math.ceil(bytes * 1.25) + 64);
}

/** Views of rows start..end-1 of canonical columns, sharing their buffers. */
export function sliceViews(cols: readonly ColumnView[], start: number, end: number): ColumnView[] {
  return cols.map((col) => {
    const bitOffset = col.bitOffset + start;
    let values = col.values;
    if (!col.offsets && col.type !== 'boolean') values = col.values.subarray(start, end);
    const offsets = col.offsets ? col.offsets.subarray(start, end + 1) : null;
    // nullCount is only a hint here (the kernels read the bitmap): keep "may have nulls".
    return { ...col, length: end - start, bitOffset, values, offsets };
  });
}
