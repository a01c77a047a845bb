import { ExportError, type ExportErrorCode } from '../errors.js';
import type { ColumnView } from '../table/columns.js';

/**
 * The part of a format's encoding that depends only on the rows it is given (and the prepared
 * export): csv and jsonl lines, dta data rows, sav case slots. Run on the calling thread or in
 * a worker, it gives the same bytes; the calling thread writes the chunks in order.
 */
export interface ChunkKernel<Spec = unknown, Info = unknown> {
  /** The per-export state built from a spec that a worker thread can be sent (structured clone). */
  compile(spec: Spec): EncodeChunk<Info>;
}

/**
 * Encodes a chunk of rows; `firstRow` is its first row in the whole table (for errors).
 * `alloc` gives an output buffer of `bytes` bytes, not zero-filled (a spare one when it can).
 */
export type EncodeChunk<Info = unknown> = ((cols: readonly ColumnView[], rows: number, firstRow: number, alloc: Alloc) => ChunkResult<Info>) & {
  /**
   * The same for a chunk given as several batches' columns, in order (a parquet row group read
   * as a range): a kernel that copies its input anyway joins them as it does (parquet: into its
   * WebAssembly memory), instead of their being packed together first.
   */
  parts?: EncodeParts<Info>;
};

export type EncodeParts<Info = unknown> = (parts: readonly (readonly ColumnView[])[], rows: number, firstRow: number, alloc: Alloc) => ChunkResult<Info>;

export type Alloc = (bytes: number) => Uint8Array;

export interface ChunkResult<Info = unknown> {
  /**
   * The chunk's bytes, or its output of another kind (sav: opcodes and slots), in buffers the
   * kernel made for this chunk and never touches again (they go to other threads by transfer).
   */
  bytes: Uint8Array[];
  /** Whatever else the format needs back (counts of values it could not hold exactly, …). */
  info?: Info;
}

export type KernelName = 'csv' | 'jsonl' | 'dta' | 'sav' | 'parquet';

/** A kernel's module, loaded on first use (in the worker as on the main thread). */
export async function loadKernel(name: KernelName): Promise<ChunkKernel> {
  switch (name) {
    case 'csv': return (await import('../formats/csv/kernel.js')).csvKernel as ChunkKernel;
    case 'jsonl': return (await import('../formats/jsonl/kernel.js')).jsonlKernel as ChunkKernel;
    case 'dta': return (await import('../formats/dta/kernel.js')).dtaKernel as ChunkKernel;
    case 'sav': return (await import('../formats/sav/kernel.js')).savKernel as ChunkKernel;
    case 'parquet': return (await import('../formats/parquet/kernel.js')).parquetKernel as ChunkKernel;
  }
}

/** An error as it crosses a thread: ExportErrors keep their code and place. */
export interface ErrorShape {
  code: ExportErrorCode;
  detail: string;
  format?: string;
  column?: string;
  row?: number;
}

export function errorShape(err: unknown): ErrorShape {
  // By name, not instanceof: a thread may hold two copies of the class (a loader that gives one
  // file two module URLs, as tsx does in the tests' worker threads), and the code must survive.
  if (err instanceof Error && err.name === 'ExportError') {
    const e = err as ExportError;
    return { code: e.code, detail: e.detail, format: e.format, column: e.column, row: e.row };
  }
  return { code: 'INTERNAL', detail: err instanceof Error ? err.message : String(err) };
}

export function errorFromShape(shape: ErrorShape): ExportError {
  return new ExportError(shape.code, shape.detail, { format: shape.format, column: shape.column, row: shape.row });
}

/**
 * Compiled kernels by spec key, kept for the few exports a thread serves at once: compiling
 * is cheap next to a chunk, but not free (column plans, label tables).
 */
export class KernelCache {
  private readonly compiled = new Map<string, EncodeChunk>();

  constructor(private readonly size = 8) {}

  async get(name: KernelName, key: string, spec: unknown): Promise<EncodeChunk> {
    const found = this.compiled.get(key);
    if (found) return found;
    const encode = (await loadKernel(name)).compile(spec);
    if (this.compiled.size >= this.size) this.compiled.delete(this.compiled.keys().next().value as string);
    this.compiled.set(key, encode);
    return encode;
  }
}
