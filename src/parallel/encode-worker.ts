/**
 * The worker threads' entry (dist/encode-worker.js, run by piscina): encodes one chunk of rows
 * with a format's kernel, reading and writing shared memory (chunks.ts). Errors come back as
 * values, so an ExportError keeps its code, column and row across the thread boundary.
 */
import { newShared, unpackColumns, type PackedColumn } from './columns.js';
import { errorShape, KernelCache } from './kernel.js';
import type { EncodeAnswer, EncodeTask } from './pool.js';

const cache = new KernelCache();

export default async function encodeChunk(task: EncodeTask): Promise<EncodeAnswer> {
  try {
    const encode = await cache.get(task.kernel, task.key, task.spec);
    let spare = task.output;
    // The chunk's bytes go into shared memory, so the answer carries them without a copy.
    const alloc = (bytes: number): Uint8Array => {
      const given = new Uint8Array(spare !== null && spare.byteLength >= bytes ? spare : newShared(bytes), 0, bytes);
      spare = null;
      return given;
    };
    const result = encode(unpackColumns(task.buffer as SharedArrayBuffer, task.columns as PackedColumn[]), task.rows, task.firstRow, alloc);
    return { result };
  } catch (err) {
    return { error: errorShape(err) };
  }
}
