/**
 * The worker threads' entry (dist/encode-worker.js, run by piscina): encodes one chunk of rows
 * with a format's kernel, reading and writing shared memory (chunks.ts), or a range of the
 * source's batches it reads itself (range-task.ts). Errors come back as
 * values, so an ExportError keeps its code, column and row across the thread boundary.
 */
import { outputAllocator, unpackColumns, type PackedColumn } from './columns.js';
import { errorShape, KernelCache, type KernelName } from './kernel.js';
import type { EncodeAnswer, EncodeTask } from './pool.js';

const cache = new KernelCache();

export default async function encodeChunk(task: EncodeTask): Promise<EncodeAnswer> {
  try {
    // Ranges read the source here (apache-arrow and the IPC checks): loaded on the first one,
    // or ahead of it (pool.ts, warmPool).
    if (task.warm) {
      await import('./range-task.js');
      return { warmed: true };
    }
    if (task.range) {
      const ranges = await import('./range-task.js');
      return task.measure ? ranges.measureRange(task) : ranges.encodeRange(task, await cache.get(task.kernel as KernelName, task.key, task.spec));
    }
    const encode = await cache.get(task.kernel as KernelName, task.key, task.spec);
    // Large outputs go into shared memory (a spare one when it fits), so the answer carries them without a copy.
    const alloc = outputAllocator(task.output ? [task.output] : []);
    const result = encode(unpackColumns(task.buffer as SharedArrayBuffer, task.columns as PackedColumn[]), task.rows, task.firstRow, alloc);
    return { result };
  } catch (err) {
    return { error: errorShape(err) };
  }
}
