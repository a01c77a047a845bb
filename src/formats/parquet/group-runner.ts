import { randomUUID } from 'node:crypto';
import type { RecordBatch } from 'apache-arrow';
import { unpackColumns } from '../../parallel/columns.js';
import { inlineRows } from '../../parallel/chunks.js';
import type { ChunkResult } from '../../parallel/kernel.js';
import { InlineRunner, PoolRunner, type EncodeTask } from '../../parallel/pool.js';
import { SpareBuffers } from '../../parallel/spares.js';
import type { RangeItem } from '../../parallel/ranges.js';
import type { VariableType } from '../../table/types.js';
import type { ParquetKernelSpec } from './kernel.js';
import { packGroup } from '../../parallel/pack-group.js';

/**
 * Where an export's row groups are encoded: with the parquet kernel on the calling thread (one
 * worker, the export's first INLINE_ROWS rows, or when the pool is full) or in the process's
 * encoding pool of workers − 1 threads — the
 * pool, worker entry, packed-column layout and buffer recycling of src/parallel, fed a row
 * group gathered from several batches in one copy (pack-group.ts). The bytes do not depend on
 * where a group ran.
 */
export class RowGroupRunner {
  private readonly key = randomUUID();
  private readonly inline = new InlineRunner();
  private readonly pool: PoolRunner | null;
  private rowsSeen = 0;
  private readonly inlineRows = inlineRows();
  /** The export's shared memory, used again and again (parallel/spares.ts). */
  private readonly spares = new SpareBuffers(() => this.inFlight + 4);
  /** The calling thread's packing buffer, reused (its group is encoded before the next is packed). */
  private inlineInput: ArrayBuffer | null = null;
  readonly inFlight: number;
  /** Threads of the pool this export uses, and its groups there not answered yet. */
  private readonly poolThreads: number;
  private poolBusy = 0;
  /** All `workers` threads, for ranges the threads read themselves. */
  private readonly rangePool: PoolRunner | null;

  constructor(private readonly spec: ParquetKernelSpec, private readonly types: readonly VariableType[], workers: number) {
    // `workers` encoding threads in all: the calling thread and workers − 1 in the pool. The
    // calling thread encodes a group itself only when the pool has one running and one waiting
    // on each of its threads, so the share it takes follows what its own reading and writing
    // leave it. Against `workers` pool threads beside it, on 2 cores: ~0.15 s less CPU per 5M
    // rows (one isolate fewer to collect and compile for; half the groups not copied into
    // shared memory) and ~70 MB less peak RSS.
    this.poolThreads = workers - 1;
    this.pool = this.poolThreads > 0 ? new PoolRunner(this.poolThreads, 'parquet') : null;
    this.rangePool = workers > 1 ? new PoolRunner(workers, 'parquet') : null;
    // A group per thread and one waiting: a group is ~10 MB of input and ~5 MB of output, and
    // 2 per thread (parallel/chunks.ts's count for chunks of ~2 MiB) took the 10M-row stream
    // export to ~400 MB peak RSS; this was as fast here.
    this.inFlight = workers > 1 ? workers + 1 : 1;
  }

  /** Ranges of a source the pool's threads read themselves, one row group each (workers > 1). */
  get readsRanges(): boolean {
    return this.rangePool !== null;
  }

  /**
   * Encodes a range of the source as one row group, read by a pool thread itself
   * (parallel/ranges.ts): every one of the export's `workers` threads encodes, since the calling
   * thread neither reads nor packs.
   */
  async encodeRange(item: RangeItem, signal: AbortSignal): Promise<ChunkResult> {
    const task: EncodeTask = {
      kernel: 'parquet', key: this.key, spec: this.spec, rows: item.rows, firstRow: item.firstRow, columns: [], buffer: null, output: null,
      range: { spec: item.spec, chunkRows: undefined, rowMultiple: 1, spares: [], whole: true },
    };
    return (await this.spares.runRange(this.rangePool as PoolRunner, task, 1, signal))[0].result;
  }

  /** Whether the next group is encoded on the calling thread (its result must be taken before another is packed). */
  nextRunsInline(): boolean {
    return this.pool === null || this.rowsSeen < this.inlineRows || this.poolBusy > this.poolThreads;
  }

  /** Encodes the row group made of `pieces` (rows firstRow.. of the table). */
  async encode(pieces: readonly RecordBatch[], rows: number, firstRow: number, signal: AbortSignal): Promise<ChunkResult> {
    const usePool = !this.nextRunsInline();
    this.rowsSeen += rows;
    const task: EncodeTask = { kernel: 'parquet', key: this.key, spec: this.spec, rows, firstRow, columns: [], buffer: null, output: null };
    if (!usePool) {
      const packed = packGroup(pieces, this.types, (bytes) => {
        if (this.inlineInput === null || this.inlineInput.byteLength < bytes) this.inlineInput = new ArrayBuffer(Math.ceil(bytes * 1.25) + 64);
        return this.inlineInput;
      });
      task.columns = unpackColumns(packed.buffer, packed.columns);
      const alloc = (bytes: number): Uint8Array => new Uint8Array(this.spares.takeOutput(bytes), 0, bytes);
      return this.spares.own((await this.inline.run(task, alloc)).result);
    }
    const packed = packGroup(pieces, this.types, (bytes) => this.spares.takeInput(bytes));
    const input = packed.buffer as SharedArrayBuffer;
    task.columns = packed.columns;
    task.buffer = input;
    task.output = this.spares.takeOutputs(1)[0] ?? null;
    this.poolBusy++;
    try {
      return this.spares.own((await (this.pool as PoolRunner).run(task, signal)).result);
    } finally {
      this.poolBusy--;
      this.spares.returnInput(input);
    }
  }
}
