import type { RecordBatch } from 'apache-arrow';
import { randomUUID } from 'node:crypto';
import { viewColumns, type ColumnView } from '../table/columns.js';
import type { VariableType } from '../table/types.js';
import { CHUNK_INPUT_BYTES, packColumns, rowsPerChunk, sliceViews } from './columns.js';
import type { ChunkResult, KernelName } from './kernel.js';
import { InlineRunner, PoolRunner, type ChunkPiece, type EncodeTask } from './pool.js';
import { SpareBuffers } from './spares.js';
import type { RangeItem } from './ranges.js';

/**
 * An export encodes on the calling thread until it has passed this many rows: a small export
 * is done before worker threads would have started (~30–80 ms), a large one pays that once.
 * The environment variable TABULAR_EXPORT_INLINE_ROWS sets another number (the tests use 0,
 * so every export with workers > 1 goes through the pool).
 */
export const INLINE_ROWS = 100_000;

export function inlineRows(): number {
  const text = process.env.TABULAR_EXPORT_INLINE_ROWS;
  return text !== undefined && /^\d+$/.test(text) ? Number(text) : INLINE_ROWS;
}

/** Chunks in flight per thread: one being encoded, one waiting, so no thread idles. */
const IN_FLIGHT_PER_THREAD = 2;

/** What a format tells the dispatcher about its kernel, once prepared. */
export interface KernelPlan {
  kernel: KernelName;
  /** Sent to the threads, which compile it once per export (structured clone). */
  spec: unknown;
  types: readonly VariableType[];
  format: string;
  /** Chunks start at multiples of this many rows of a batch (sav: its case blocks). Default 1. */
  rowMultiple?: number;
  /**
   * Rows per chunk when the format fixes them (parquet: a row group per chunk); a batch's last
   * chunk may hold fewer. Default: about CHUNK_INPUT_BYTES of input.
   */
  chunkRows?: number;
}

/** The export's dispatcher when it may use worker threads (context.workers > 1); null for one thread. */
export function chunkDispatcher(plan: KernelPlan, context: { workers?: number; signal?: AbortSignal }): ChunkDispatcher | null {
  const workers = context.workers ?? 1;
  return workers > 1 ? new ChunkDispatcher(plan, workers, context.signal) : null;
}

/**
 * One export's chunk encoding (an export with workers > 1): where chunks run (the calling
 * thread for its first INLINE_ROWS rows, the pool after) and how large they are. Shared by
 * the export's files. The bytes do not depend on where a chunk ran.
 */
export class ChunkDispatcher {
  private readonly key = randomUUID();
  private readonly inline = new InlineRunner();
  private readonly pool: PoolRunner | null;
  private rowsSeen = 0;
  private readonly inlineRows = inlineRows();
  /** Shared memory the chunks go through, used again and again (spares.ts). */
  private readonly spares = new SpareBuffers(() => this.inFlight * this.chunksPerTask + 4);
  readonly inFlight: number;
  /**
   * Ranges in flight: one per thread and one waiting. A range makes several chunks (a batch of
   * 65,536 rows is about three), so 2 per thread held three times the rows of chunks in flight:
   * a 10M-row sav export from an IPC file peaked at 311–406 MB.
   */
  readonly rangesInFlight: number;
  /** The most chunks one task has made (a range makes several): how many spare outputs to keep. */
  private chunksPerTask = 1;

  constructor(readonly plan: KernelPlan, readonly workers: number, readonly signal?: AbortSignal) {
    this.pool = workers > 1 ? new PoolRunner(workers, plan.format) : null;
    this.inFlight = workers > 1 ? IN_FLIGHT_PER_THREAD * workers : 1;
    this.rangesInFlight = workers + 1;
  }

  /** Starts encoding rows start..end-1 of `cols`; the promise gives the chunk's result. */
  async submit(cols: readonly ColumnView[], start: number, end: number, firstRow: number, signal: AbortSignal): Promise<ChunkResult> {
    const usePool = this.pool !== null && this.rowsSeen >= this.inlineRows;
    this.rowsSeen += end - start;
    const { plan } = this;
    const task: EncodeTask = { kernel: plan.kernel, key: this.key, spec: plan.spec, rows: end - start, firstRow, columns: [], buffer: null, output: null };
    if (!usePool) {
      task.columns = start === 0 && end === cols[0]?.length ? [...cols] : sliceViews(cols, start, end);
      const alloc = (bytes: number): Uint8Array => new Uint8Array(this.spares.takeOutput(bytes), 0, bytes);
      return this.spares.own((await this.inline.run(task, alloc)).result);
    }
    const input = packColumns(cols, start, end, (bytes) => this.spares.takeInput(bytes));
    task.columns = input.columns;
    task.buffer = input.buffer;
    task.output = this.spares.takeOutputs(1)[0] ?? null;
    try {
      return this.spares.own((await (this.pool as PoolRunner).run(task, signal)).result);
    } finally {
      this.spares.returnInput(input.buffer);
    }
  }

  /**
   * Starts a range of the source's batches in a worker, which reads and encodes them itself
   * (ranges.ts); the promise gives their chunks in order.
   */
  async submitRange(item: RangeItem, signal: AbortSignal): Promise<ChunkPiece[]> {
    const { plan } = this;
    // A spare for each chunk the range will make (about one per CHUNK_INPUT_BYTES of a batch's
    // body): with one spare per range, its other chunks' outputs were new shared memory, which
    // V8 frees late (a 10M-row csv export peaked at 800 MB).
    const chunks = item.spec.blocks.reduce((n, b) => n + Math.max(1, Math.ceil(b.bodyLength / CHUNK_INPUT_BYTES)), 0);
    this.chunksPerTask = Math.max(this.chunksPerTask, chunks);
    const task: EncodeTask = {
      kernel: plan.kernel, key: this.key, spec: plan.spec, rows: item.rows, firstRow: item.firstRow, columns: [], buffer: null, output: null,
      range: { spec: item.spec, chunkRows: plan.chunkRows, rowMultiple: plan.rowMultiple ?? 1, spares: [] },
    };
    this.rowsSeen += item.rows;
    return this.spares.runRange(this.pool as PoolRunner, task, chunks, signal);
  }

  /** True when ranges can go to worker threads (workers > 1). */
  get readsRanges(): boolean {
    return this.pool !== null;
  }

  /** Rows per chunk for a batch (columns.ts rowsPerChunk); one chunk per batch on the calling thread alone. */
  chunkRows(cols: readonly ColumnView[], rows: number): number {
    if (this.pool === null) return Math.max(rows, 1);
    return rowsPerChunk(cols, rows, this.plan.rowMultiple ?? 1, this.plan.chunkRows);
  }

  /** Views of the batch's columns for rows start..end-1, without copying (the calling thread's chunks). */
  views(batch: RecordBatch): ColumnView[] {
    return viewColumns(batch, this.plan.types);
  }
}


/**
 * One file's chunks in order: submitted as batches come, at most `inFlight` at once (the
 * oldest is awaited and consumed before another is submitted: backpressure from the file to
 * the source), consumed strictly in submission order. Rows submitted and not yet consumed
 * are what the splitting sink sees as bufferedRows.
 */
export class OrderedChunks {
  private readonly queue: { pieces: Promise<ChunkPiece[]>; rows: number }[] = [];
  private readonly controller = new AbortController();
  private pendingRows = 0;
  private failed: unknown = null;

  constructor(
    private readonly dispatcher: ChunkDispatcher,
    private readonly consume: (result: ChunkResult, firstRow: number, rows: number) => Promise<void>,
  ) {
    this.outer = dispatcher.signal ?? null;
    if (this.outer?.aborted) this.controller.abort(this.outer.reason);
    else this.outer?.addEventListener('abort', this.onOuterAbort, { once: true });
  }

  private readonly outer: AbortSignal | null;
  private readonly onOuterAbort = (): void => this.controller.abort(this.outer?.reason);

  /** The file is done with (finished or given up): stop listening to the export's signal. */
  private release(): void {
    this.outer?.removeEventListener('abort', this.onOuterAbort);
  }

  get bufferedRows(): number {
    return this.pendingRows;
  }

  async add(batch: RecordBatch, firstRow: number): Promise<void> {
    const d = this.dispatcher;
    const cols = d.views(batch);
    const count = batch.numRows;
    const step = d.chunkRows(cols, count);
    for (let start = 0; start < count; start += step) {
      const end = Math.min(count, start + step);
      while (this.queue.length >= d.inFlight) await this.consumeOldest();
      this.throwIfStopped();
      const first = firstRow + start;
      const rows = end - start;
      this.enqueue(d.submit(cols, start, end, first, this.controller.signal).then((result) => [{ result, firstRow: first, rows }]), rows);
    }
    // The calling thread's chunks are consumed at once: nothing waits on another thread.
    while (this.queue.length > 0 && (this.queue.length >= d.inFlight || d.inFlight === 1)) await this.consumeOldest();
  }

  /** A range of the source's batches, read and encoded by a worker (ranges.ts). */
  async addRange(item: RangeItem): Promise<void> {
    const d = this.dispatcher;
    while (this.queue.length >= d.rangesInFlight) await this.consumeOldest();
    this.throwIfStopped();
    this.enqueue(d.submitRange(item, this.controller.signal), item.rows);
  }

  private enqueue(pieces: Promise<ChunkPiece[]>, rows: number): void {
    pieces.catch(() => undefined); // observed in order by consumeOldest
    this.queue.push({ pieces, rows });
    this.pendingRows += rows;
  }

  /** Consumes every chunk still in flight, in order. */
  async finish(): Promise<void> {
    while (this.queue.length > 0) await this.consumeOldest();
  }

  /** The file ended: nothing more comes. */
  async close(): Promise<void> {
    await this.finish();
    this.release();
  }

  /** Drops the chunks in flight: their threads stop (queued tasks are removed, running ones end). */
  abort(reason: Error): void {
    this.failed ??= reason;
    this.controller.abort(reason);
    this.release();
    this.queue.length = 0;
    this.pendingRows = 0;
  }

  private async consumeOldest(): Promise<void> {
    const head = this.queue[0];
    let pieces: ChunkPiece[];
    try {
      pieces = await head.pieces;
    } catch (err) {
      this.abort(err instanceof Error ? err : new Error(String(err)));
      throw err;
    }
    this.throwIfStopped();
    this.queue.shift();
    this.pendingRows -= head.rows;
    for (const piece of pieces) await this.consume(piece.result, piece.firstRow, piece.rows);
  }

  private throwIfStopped(): void {
    if (this.failed !== null) throw this.failed;
  }
}
