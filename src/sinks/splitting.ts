import { Bool, type RecordBatch } from 'apache-arrow';
import type { RangeItem } from '../parallel/ranges.js';
import { Writable } from 'node:stream';
import type { FileEncoder, PreparedEncoder } from '../formats/protocol.js';
import type { Progress } from '../pipeline/progress.js';
import type { PartOutput } from './part-output.js';
import { MAX_PARTS, tooManyParts } from './limits.js';
import { inPart } from './target-error.js';
import { partName, type FileTarget } from './target.js';

export interface SplitOptions {
  /** The files' base name (safeFileName of the table's name): parts are named after it in errors. */
  base: string;
  extension: string;
  gzip: boolean;
  patchable: boolean;
  /**
   * Keep files below this many bytes where rows allow: batches are sliced where the bytes per
   * row seen so far say the file would pass it, and a file that reached it is ended.
   */
  maxFileSize?: number;
  /** Hard cap on rows per file: batches are sliced to honour it exactly. */
  maxRowsPerFile?: number;
  /** The most parts allowed (default MAX_PARTS; lower only in tests, where 100,001 parts take too long). */
  maxParts?: number;
  /** Take each part's MD5 on the hashing thread (the export has workers > 1). */
  hashOffThread?: boolean;
}

export interface FinishedPart {
  index: number;
  rows: number;
  size: number;
  md5: string;
}

/** A canonical batch and its first row's index in the whole table. */
export interface PositionedBatch {
  batch: RecordBatch;
  firstRow: number;
}

/**
 * What the sink writes: a batch, or a range of the source's batches that a worker thread reads
 * itself (ranges.ts; only when no split is asked, since a range is never cut).
 */
export type SinkItem = PositionedBatch | RangeItem;

interface OpenPart {
  index: number;
  rows: number;
  output: PartOutput;
  encoder: FileEncoder;
}

/** Rows of the export's first slice when splitting by size, to learn its bytes per row. */
const PROBE_ROWS = 64;
/**
 * Share of maxFileSize a slice is aimed at: rows differ in size, so a slice cut at the average
 * bytes per row can come out a little larger than aimed (about 0.3 % on the benchmark table at
 * 8 MB parts); aiming 1 % low keeps such parts under the limit.
 */
const AIM = 0.99;
/** Below this many rows, a slice cut by size is taken whole rather than halved again. */
const MIN_HALVED_SLICE = 16;

/**
 * Owns file splitting, so encoders never know about it: every part is begun and ended by the
 * encoder as a complete, standalone file. There is always at least one part (an empty table
 * still yields a file with its header).
 *
 * maxRowsPerFile is exact. maxFileSize is kept by prediction: from the bytes per row of what
 * has reached the files so far (rows an encoder still holds, bufferedRows, counted at that
 * rate), a batch is cut where the open file would pass 99 % of the limit, the cut approached
 * in halves, and the rest goes to the next file. Before any bytes are known, the export's
 * first rows go in a small probe slice, or, for encoders that hold rows back, the rows' Arrow
 * size stands in. A file can still pass the limit where its last rows are much wider than
 * those before them, by a parquet footer at very small limits, or by a single row larger than
 * the limit, which is written whole.
 */
export class SplittingSink extends Writable {
  readonly parts: FinishedPart[] = [];
  readonly warnings: string[] = [];
  private current: OpenPart | null = null;
  /** Rows and bytes of the finished parts, for the bytes-per-row estimate. */
  private rowsDone = 0;
  private bytesDone = 0;
  private probed = false;
  /** Rows and Arrow bytes of the batches seen (a stand-in size before any bytes are out). */
  private arrowRows = 0;
  private arrowBytes = 0;
  /** The slice being written is the probe: flush gzip after it, so the ratio is known. */
  private probing = false;
  /** Why the export stopped (a failure anywhere, or a cancel): no part is begun after it. */
  private stopped: Error | null = null;
  /** The write or final in flight, which _destroy waits for. */
  private busy: Promise<void> | null = null;

  constructor(
    private readonly prepared: PreparedEncoder,
    private readonly target: FileTarget,
    private readonly options: SplitOptions,
    private readonly progress: Progress,
  ) {
    super({ objectMode: true, highWaterMark: 1 });
  }

  override _write(item: SinkItem, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.settle('batch' in item ? this.writeBatch(item.batch, item.firstRow) : this.writeRange(item), cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.settle(this.finish(), cb);
  }

  private settle(work: Promise<void>, cb: (err?: Error | null) => void): void {
    this.busy = work.then(() => cb(), (err: Error) => cb(this.named(err)));
  }

  /**
   * A failure while a part was open or being opened, naming that part where it is the
   * destination's (an encoder's temporary files included) and does not yet.
   */
  private named(err: Error): Error {
    const index = this.current?.index ?? this.parts.length;
    return inPart(err, partName(this.options.base, this.options.extension, index));
  }

  /**
   * A failure or cancel anywhere in the pipeline: the open part's encoder gives its file up,
   * and no part is begun after it (issue #11: the loop went on opening parts after a cancel,
   * which the target never learnt of). The pipeline settles once this sink has closed, so it
   * waits for the write in flight to stop: by then nothing of this sink is open.
   */
  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    const reason = err ?? new Error('the export stopped before the file was complete');
    this.stopped ??= reason;
    const part = this.current;
    this.current = null;
    part?.output.destroy(reason);
    Promise.resolve()
      .then(() => part?.encoder.abort?.(reason))
      .catch(() => undefined)
      .then(() => this.busy)
      .then(() => cb(err));
  }

  /** Throws the reason the export stopped, if it did: checked before every step that opens or writes. */
  private checkRunning(): void {
    if (this.stopped) throw this.stopped;
  }

  private async writeBatch(batch: RecordBatch, firstRow: number): Promise<void> {
    const { maxRowsPerFile, maxFileSize } = this.options;
    if (maxFileSize !== undefined) {
      this.arrowRows += batch.numRows;
      this.arrowBytes += arrowByteSize(batch);
    }
    let offset = 0;
    do {
      this.checkRunning();
      const part = await this.partFor();
      let room = maxRowsPerFile ? maxRowsPerFile - part.rows : Infinity;
      const fit = this.rowsThatFit(part);
      if (fit === 0) {
        await this.endPart(part);
        continue;
      }
      // Where the size limit falls inside this batch, it is approached in halves, each measured
      // before the next is estimated, so rows wider than the average so far count in the end.
      const left = batch.numRows - offset;
      const approaching = fit < left;
      const firstSlice = part.rows === 0;
      room = Math.min(room, approaching && fit > MIN_HALVED_SLICE ? Math.ceil(fit / 2) : fit);
      const take = Math.min(room, left);
      const slice = offset === 0 && take === batch.numRows ? batch : batch.slice(offset, offset + take);
      await part.encoder.writeBatch(slice, firstRow + offset);
      // Compressed output lags its input inside zlib: after a part's first slice and near the
      // limit, have it caught up, so the next estimate starts from the file's true size.
      if (maxFileSize !== undefined && (this.probing || approaching || firstSlice)) {
        this.probing = false;
        await part.encoder.drain?.();
        await part.output.flush();
      }
      part.rows += take;
      offset += take;
      this.progress.addRows(take);
    } while (offset < batch.numRows);
  }

  /**
   * A range is never cut: with a size limit, it goes to the next part when the open one has
   * rows and the range's rows would not fit by the estimate (as a parquet row group would).
   */
  private async writeRange(item: RangeItem): Promise<void> {
    this.checkRunning();
    const { maxFileSize } = this.options;
    if (maxFileSize !== undefined) {
      this.arrowRows += item.rows;
      this.arrowBytes += rangeBytes(item);
    }
    let part = await this.partFor();
    if (maxFileSize !== undefined && part.rows > 0 && this.rowsThatFit(part) < item.rows) {
      await this.endPart(part);
      part = await this.partFor();
    }
    if (!part.encoder.writeRange || this.options.maxRowsPerFile !== undefined) {
      throw new Error('a range of batches reached a file that cannot take it whole (a split by rows was asked, or the encoder reads no ranges)');
    }
    await part.encoder.writeRange(item);
    part.rows += item.rows;
    this.progress.addRows(item.rows);
  }

  /** The part to write into: the open one, unless it is full, in which case the next. */
  private async partFor(): Promise<OpenPart> {
    const part = this.current;
    if (part && !this.isFull(part)) return part;
    if (part) await this.endPart(part);
    return this.beginPart(this.parts.length);
  }

  /**
   * How many more rows the open part takes before it would pass maxFileSize, by the bytes per
   * row seen so far: Infinity without a limit, 0 when it should end now (it has rows, and not
   * one more fits), else at least 1.
   */
  private rowsThatFit(part: OpenPart): number {
    const { maxFileSize } = this.options;
    if (maxFileSize === undefined) return Infinity;
    const buffered = part.encoder.bufferedRows?.() ?? 0;
    const rowsOut = this.rowsDone + part.rows - buffered;
    const bytesOut = this.bytesDone + part.output.expectedBytes;
    if (rowsOut <= 0 || bytesOut <= 0) {
      // Encoders that hold rows back (bufferedRows) show no bytes after a probe either, and a
      // slice would only change what they decide from their first batch (parquet's
      // dictionaries): until their first bytes, the rows' size in Arrow stands in, which
      // parquet and avro come out below, so such a first part can only end early.
      if (part.encoder.bufferedRows && !part.encoder.drain) return this.fitByArrowSize(part, maxFileSize);
      if (this.probed) return Infinity;
      this.probed = true;
      this.probing = true;
      return PROBE_ROWS;
    }
    // The export's average, or the open part's own if its rows are wider (rows that grow as the
    // table goes on, such as ids gaining digits, would otherwise be counted short).
    const partRowsOut = part.rows - buffered;
    const perRow = Math.max(bytesOut / rowsOut, partRowsOut > 0 ? part.output.expectedBytes / partRowsOut : 0);
    const projected = part.output.expectedBytes + buffered * perRow;
    return rowsOrEnd(Math.floor((maxFileSize * AIM - projected) / perRow), part);
  }

  private fitByArrowSize(part: OpenPart, maxFileSize: number): number {
    if (this.arrowRows === 0) return Infinity;
    const perRow = this.arrowBytes / this.arrowRows;
    return rowsOrEnd(Math.floor((maxFileSize * AIM - part.rows * perRow) / perRow), part);
  }

  private isFull(part: OpenPart): boolean {
    if (part.rows === 0) return false;
    const { maxFileSize, maxRowsPerFile } = this.options;
    if (maxRowsPerFile !== undefined && part.rows >= maxRowsPerFile) return true;
    return maxFileSize !== undefined && part.output.expectedBytes >= maxFileSize;
  }

  /**
   * Opens part `index` and begins its file. A part opened or begun while the export stopped is
   * given up here, as _destroy, which ran meanwhile, could not see it.
   */
  private async beginPart(index: number): Promise<OpenPart> {
    this.checkRunning();
    const limit = this.options.maxParts ?? MAX_PARTS;
    if (index >= limit) throw tooManyParts(`needs more: part ${index + 1} was about to be opened`, limit);
    const { base, extension, gzip, patchable, hashOffThread } = this.options;
    const output = await this.target.openPart({ index, extension, gzip, patchable, name: partName(base, extension, index), hashOffThread });
    let encoder: FileEncoder;
    try {
      this.checkRunning();
      encoder = await this.prepared.beginFile(output);
    } catch (err) {
      output.destroy(err instanceof Error ? err : new Error(String(err)));
      throw err;
    }
    if (this.stopped) {
      output.destroy(this.stopped);
      await Promise.resolve(encoder.abort?.(this.stopped)).catch(() => undefined);
      throw this.stopped;
    }
    this.progress.trackOpenFile(() => output.fileBytes);
    this.current = { index, rows: 0, output, encoder };
    return this.current;
  }

  private async endPart(part: OpenPart): Promise<void> {
    const patches = await part.encoder.endFile();
    if (part.encoder.warnings) this.warnings.push(...part.encoder.warnings);
    const { size, md5 } = await part.output.close(patches);
    this.parts.push({ index: part.index, rows: part.rows, size, md5 });
    this.rowsDone += part.rows;
    this.bytesDone += size;
    this.progress.fileFinished(size);
    this.current = null;
  }

  private async finish(): Promise<void> {
    this.checkRunning();
    const part = this.current ?? (this.parts.length === 0 ? await this.beginPart(0) : null);
    if (part) await this.endPart(part);
  }
}

/** A range's share of its batches' bodies: its stand-in for their Arrow bytes. */
function rangeBytes(item: RangeItem): number {
  const { blocks, skip, take } = item.spec;
  const rows = blocks.reduce((n, b) => n + b.rows, 0);
  const body = blocks.reduce((n, b) => n + b.bodyLength, 0);
  return rows > 0 ? body * ((take ?? rows - skip) / rows) : 0;
}

/** The bytes of a canonical batch's values in Arrow memory: offsets and text, 8 or 4 bytes a number, a bit a boolean. */
function arrowByteSize(batch: RecordBatch): number {
  let bytes = 0;
  for (const child of batch.data.children) {
    const n = child.length;
    const offsets = child.valueOffsets as Int32Array | undefined;
    if (offsets) bytes += offsets[child.offset + n] - offsets[child.offset] + 4 * n;
    else if (child.type instanceof Bool) bytes += n / 8;
    else bytes += ((child.values as { BYTES_PER_ELEMENT?: number } | undefined)?.BYTES_PER_ELEMENT ?? 0) * n;
  }
  return bytes;
}

/** Rows that still fit, or, when none does: 0 (end the part) if it has rows, else 1 (a part is never empty). */
function rowsOrEnd(fit: number, part: OpenPart): number {
  if (fit >= 1) return fit;
  return part.rows > 0 ? 0 : 1;
}
