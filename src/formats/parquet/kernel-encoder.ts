import type { RecordBatch } from 'apache-arrow';
import { ExportError } from '../../errors.js';
import type { ChunkResult } from '../../parallel/kernel.js';
import type { RangeItem } from '../../parallel/ranges.js';
import type { ByteSink, FileEncoder, Patch } from '../protocol.js';
import { encodeRowGroup, fileFooter, fileHead, type EncodedRowGroup, type FooterPlan } from './footer.js';
import type { RowGroupRunner } from './group-runner.js';
import type { RowGroupInfo } from './kernel.js';
import { MAX_ROW_GROUP_BYTES } from './writer-config.js';

/** What every file of an export written by the hand-written writer shares. */
export interface KernelParquetPlan {
  rowGroupSize: number;
  footer: FooterPlan;
  runner: RowGroupRunner;
  signal?: AbortSignal;
}

interface Pending {
  result: Promise<ChunkResult>;
  rows: number;
}

/**
 * One Parquet file from the hand-written writer (kernel.ts): batches are gathered into row
 * groups of rowGroupSize rows (fewer at 64 MiB); each group is encoded by the export's
 * RowGroupRunner (here or in the pool), at most runner.inFlight at once, and the groups are
 * written strictly in order — the writer's backpressure reaches the source through that —
 * where their offsets become absolute; the footer is written at the end.
 */
export class KernelParquetFileEncoder implements FileEncoder {
  private pieces: RecordBatch[] = [];
  private pieceRows = 0;
  private pieceBytes = 0;
  private groupFirstRow = 0;
  private readonly queue: Pending[] = [];
  private queuedRows = 0;
  private readonly controller = new AbortController();
  private failure: Error | null = null;
  private position = 0;
  private readonly groups: EncodedRowGroup[] = [];

  constructor(private readonly plan: KernelParquetPlan, private readonly sink: ByteSink) {}

  async writeBatch(batch: RecordBatch, firstRow: number): Promise<void> {
    this.checkUsable();
    const groupRows = this.plan.rowGroupSize;
    for (let at = 0; at < batch.numRows;) {
      const take = Math.min(groupRows - this.pieceRows, batch.numRows - at);
      const piece = at === 0 && take === batch.numRows ? batch : batch.slice(at, at + take);
      if (this.pieceRows === 0) this.groupFirstRow = firstRow + at;
      this.pieces.push(piece);
      this.pieceRows += take;
      this.pieceBytes += estimateBytes(piece);
      at += take;
      if (this.pieceRows >= groupRows || this.pieceBytes >= MAX_ROW_GROUP_BYTES) await this.submitGroup();
    }
  }

  /** A range of the source that a pool thread reads and encodes as one row group (parallel/ranges.ts). */
  async writeRange(item: RangeItem): Promise<void> {
    this.checkUsable();
    while (this.queue.length >= this.plan.runner.inFlight) await this.writeOldest();
    this.checkUsable();
    const result = this.plan.runner.encodeRange(item, this.controller.signal);
    result.catch(() => undefined); // observed in order by writeOldest
    this.queue.push({ result, rows: item.rows });
    this.queuedRows += item.rows;
  }

  /** Sends the gathered group to be encoded, once fewer than inFlight groups are out. */
  private async submitGroup(): Promise<void> {
    if (this.pieceRows === 0) return;
    const runner = this.plan.runner;
    while (this.queue.length >= runner.inFlight) await this.writeOldest();
    this.checkUsable();
    const inline = runner.nextRunsInline();
    const result = runner.encode(this.pieces, this.pieceRows, this.groupFirstRow, this.controller.signal);
    result.catch(() => undefined); // observed in order by writeOldest
    this.queue.push({ result, rows: this.pieceRows });
    this.queuedRows += this.pieceRows;
    this.pieces = [];
    this.pieceRows = 0;
    this.pieceBytes = 0;
    // A group encoded here is encoded before the next is packed: its packing buffer serves the next.
    if (inline) await result.catch(() => undefined);
  }

  /** The group being gathered and the groups being encoded. */
  bufferedRows(): number {
    return this.pieceRows + this.queuedRows;
  }

  /**
   * Writes out every group sent to be encoded (not the one being gathered). Not the protocol's
   * drain(): an encoder that holds rows by design (a row group) has none, so the splitting
   * sink sizes a part by the rows' Arrow size until its first group is out.
   */
  private async writeQueued(): Promise<void> {
    while (this.queue.length > 0) await this.writeOldest();
  }

  async endFile(): Promise<Patch[]> {
    this.checkUsable();
    await this.submitGroup();
    await this.writeQueued();
    await this.begin();
    await this.write(fileFooter(this.plan.footer, this.groups));
    return [];
  }

  /** Drops the groups in flight (their threads finish them; the results are ignored). */
  abort(reason: Error): void {
    this.failure ??= reason;
    this.controller.abort(reason);
    this.queue.length = 0;
    this.queuedRows = 0;
    this.pieces = [];
    this.pieceRows = 0;
  }

  private async writeOldest(): Promise<void> {
    const head = this.queue[0];
    let result: ChunkResult;
    try {
      result = await head.result;
    } catch (err) {
      this.abort(err instanceof Error ? err : new Error(String(err)));
      throw err;
    }
    this.checkUsable();
    this.queue.shift();
    this.queuedRows -= head.rows;
    await this.begin();
    const info = result.info as RowGroupInfo;
    this.groups.push(encodeRowGroup(this.plan.footer, { rows: info.rows, position: this.position, columns: info.columns }, this.groups.length));
    for (const bytes of result.bytes) await this.write(bytes);
  }

  private async begin(): Promise<void> {
    if (this.position === 0) await this.write(fileHead());
  }

  private async write(bytes: Uint8Array): Promise<void> {
    try {
      await this.sink.write(bytes);
    } catch (err) {
      this.abort(err instanceof Error ? err : new Error(String(err)));
      throw err;
    }
    this.position += bytes.length;
  }

  private checkUsable(): void {
    if (this.failure) throw this.failure;
    const signal = this.plan.signal;
    if (signal?.aborted) {
      const reason: unknown = signal.reason;
      throw reason instanceof Error ? reason : new ExportError('CANCELLED', 'the export was cancelled', { format: 'parquet' });
    }
  }
}

/** The Arrow bytes of a batch's rows (what the 64 MiB group limit counts), bitmaps left out. */
function estimateBytes(batch: RecordBatch): number {
  let bytes = 0;
  for (const data of batch.data.children) {
    const { valueOffsets: offsets, values, length } = data;
    if (offsets) bytes += offsets[length] - offsets[0] + 4 * length;
    else if (values) bytes += Math.ceil((values as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT * length);
  }
  return bytes;
}
