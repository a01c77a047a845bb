import { existsSync } from 'node:fs';
import { sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Piscina } from 'piscina';
import { lazyRequire } from '../lazy-require.js';
import { ExportError } from '../errors.js';
import type { ColumnView } from '../table/columns.js';
import type { PackedColumn } from './columns.js';
import { errorFromShape, KernelCache, type Alloc, type ChunkResult, type ErrorShape, type KernelName } from './kernel.js';
import type { RangeSpec } from './range-read.js';
import type { VariableStatistics } from '../table/types.js';

export interface EncodeTask {
  /** The format's kernel; null for a range's first-pass measure, which encodes nothing. */
  kernel: KernelName | null;
  /** Names the export's compiled kernel in each thread's cache. */
  key: string;
  spec: unknown;
  rows: number;
  firstRow: number;
  /** The rows: views of the batch (this thread), or packed into `buffer` (a worker). */
  columns: ColumnView[] | PackedColumn[];
  buffer: SharedArrayBuffer | null;
  /** A spare output buffer for the chunk's bytes (used when large enough). */
  output: SharedArrayBuffer | null;
  /**
   * Instead of `columns`: batches the worker reads from the source itself (ranges.ts), cut
   * into chunks as the calling thread would cut them (rowsPerChunk), each encoded; with
   * `whole`, the range is one chunk (a parquet row group), its batches packed together.
   */
  range?: { spec: RangeSpec; chunkRows: number | undefined; rowMultiple: number; spares: SharedArrayBuffer[]; whole?: boolean };
  /** With `range`: only measure the rows for a first pass (statistics), encode nothing. */
  measure?: boolean;
  /** Only load what range tasks use (warmPool), encode nothing. */
  warm?: boolean;
}

export interface EncodeAnswered {
  result: ChunkResult;
}

/** A chunk's result and where its rows are (one of a range's chunks). */
export interface ChunkPiece {
  result: ChunkResult;
  firstRow: number;
  rows: number;
}

/** A range's chunks, in order. */
export interface RangeAnswered {
  pieces: ChunkPiece[];
  /** The spare buffers the range did not need, back to the export. */
  unused: SharedArrayBuffer[];
}

/** A range's first-pass measure: its rows and per-column statistics (StatisticsCollector). */
export interface MeasureAnswered {
  rows: number;
  stats: VariableStatistics[];
}

export type EncodeAnswer = EncodeAnswered | RangeAnswered | MeasureAnswered | { warmed: true } | { error: ErrorShape };

/** Idle worker threads end after this long; they never keep the process alive meanwhile. */
const IDLE_TIMEOUT_MS = 30_000;

/**
 * dist/encode-worker.js, found from this module: beside it in the library's builds
 * (dist/index.js, dist/index.cjs), one folder up from the command (dist/cli/main.js), or the
 * built file when this runs from the sources (the tests: `npm test` builds first).
 */
function workerFile(): string {
  const base = (import.meta as { url?: string }).url ?? pathToFileURL(__filename).href;
  // Only the package's own files: the sources' candidate only when this is the source file.
  const fromSources = fileURLToPath(base).endsWith(`${sep}src${sep}parallel${sep}pool.ts`);
  const relative = fromSources ? ['../../dist/encode-worker.js'] : ['./encode-worker.js', '../encode-worker.js'];
  const candidates = relative.map((rel) => fileURLToPath(new URL(rel, base)));
  const found = candidates.find((path) => existsSync(path));
  if (!found) throw new ExportError('INTERNAL', `the encoding worker's file is missing (looked for ${candidates.join(', ')}); build the package, or use workers: 1`);
  return found;
}

/** piscina is loaded with the first pool: an export that stays on one thread does not pay for it. */
const piscina = lazyRequire<typeof import('piscina')>('piscina');
const pools = new Map<number, Piscina>();
/** Range tasks started by this process (diagnostics: the tests see that a source was read by ranges). */
let rangeTasks = 0;

/** The process's pool of `threads` worker threads, started on first use and shared by every export. */
function sharedPool(threads: number): Piscina {
  let pool = pools.get(threads);
  if (!pool) {
    pool = new (piscina().Piscina)({ filename: workerFile(), minThreads: 0, maxThreads: threads, idleTimeout: IDLE_TIMEOUT_MS, concurrentTasksPerWorker: 1 });
    pools.set(threads, pool);
  }
  return pool;
}

/** Encodes on the calling thread with the same kernel a worker would use. */
export class InlineRunner {
  private readonly cache = new KernelCache(1);

  async run(task: EncodeTask, alloc: Alloc): Promise<EncodeAnswered> {
    const encode = await this.cache.get(task.kernel as KernelName, task.key, task.spec);
    return { result: encode(task.columns as ColumnView[], task.rows, task.firstRow, alloc) };
  }
}

/** Encodes in the process's pool of `threads` worker threads. */
export class PoolRunner {
  constructor(private readonly threads: number, private readonly format: string) {}

  async run(task: EncodeTask, signal: AbortSignal): Promise<EncodeAnswered> {
    return await this.answer(task, signal) as EncodeAnswered;
  }

  /** Runs any task (a chunk, a range, a measure); the answer, or the error it carried thrown. */
  async answer(task: EncodeTask, signal: AbortSignal): Promise<Exclude<EncodeAnswer, { error: ErrorShape }>> {
    let answer: EncodeAnswer;
    if (task.range) rangeTasks += 1;
    try {
      // Shared memory goes by reference; nothing is transferred or copied but the small task.
      // No signal for piscina: aborting a running task would end its thread (and the next
      // export would wait for a new one); a chunk takes milliseconds, and an export that
      // stopped drops the answers of the few still in flight (chunks.ts).
      answer = await sharedPool(this.threads).run(task) as EncodeAnswer;
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      // The thread died (out of memory, a crash): piscina replaces it for the next tasks.
      const why = err instanceof Error ? err.message : String(err);
      throw new ExportError('INTERNAL', `an encoding worker thread failed: ${why}`, { format: this.format }, { cause: err });
    }
    if ('error' in answer) throw errorFromShape(answer.error);
    return answer;
  }
}

/** The encoding threads running now, for diagnostics (and the tests, which end one to see an export fail cleanly). */
export function encodingThreads(): { threadId: number; terminate(): Promise<number> }[] {
  return [...pools.values()].flatMap((p) => p.threads);
}

/**
 * Starts the pool's threads and has them load what reading ranges takes (apache-arrow, the IPC
 * checks) while the calling thread still prepares the export: a thread's start is ~50 ms of
 * CPU, which otherwise delays the first range (issue #12). Nothing waits on the answers.
 */
export function warmPool(threads: number): void {
  const pool = sharedPool(threads);
  const idle = Math.max(0, threads - pool.threads.length);
  for (let i = 0; i < idle; i++) {
    pool.run({ warm: true } satisfies Partial<EncodeTask>).catch(() => undefined);
  }
}

/** Tasks waiting and tasks completed by every pool of the process, and range tasks started (diagnostics). */
export function encodingActivity(): { queued: number; completed: number; ranges: number } {
  let queued = 0;
  let completed = 0;
  for (const p of pools.values()) { queued += p.queueSize; completed += p.completed; }
  return { queued, completed, ranges: rangeTasks };
}

/** Ends the process's worker threads (tests; a process that wants to exit at once). */
export async function closeWorkerPools(): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  await Promise.all(all.map((p) => p.destroy()));
}
