import type { RecordBatch } from 'apache-arrow';
import { Writable } from 'node:stream';
import type { FileEncoder, PreparedEncoder } from '../formats/protocol.js';
import type { Progress } from '../pipeline/progress.js';
import type { PartOutput } from './part-output.js';
import type { FileTarget } from './target.js';

export interface SplitOptions {
  extension: string;
  gzip: boolean;
  patchable: boolean;
  /** Roll to a new file at the next batch boundary once a file holds this many bytes. */
  maxFileSize?: number;
  /** Hard cap on rows per file: batches are sliced to honour it exactly. */
  maxRowsPerFile?: number;
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

interface OpenPart {
  index: number;
  rows: number;
  output: PartOutput;
  encoder: FileEncoder;
}

/**
 * Owns file splitting, so encoders never know about it: every part is begun and ended by the
 * encoder as a complete, standalone file. There is always at least one part (an empty table
 * still yields a file with its header).
 */
export class SplittingSink extends Writable {
  readonly parts: FinishedPart[] = [];
  readonly warnings: string[] = [];
  private current: OpenPart | null = null;

  constructor(
    private readonly prepared: PreparedEncoder,
    private readonly target: FileTarget,
    private readonly options: SplitOptions,
    private readonly progress: Progress,
  ) {
    super({ objectMode: true, highWaterMark: 1 });
  }

  override _write(item: PositionedBatch, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.writeBatch(item.batch, item.firstRow).then(() => cb(), cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.finish().then(() => cb(), cb);
  }

  /** A failure or cancel anywhere in the pipeline: the open part's encoder gives its file up. */
  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    const part = this.current;
    this.current = null;
    if (!part) {
      cb(err);
      return;
    }
    const reason = err ?? new Error('the export stopped before the file was complete');
    part.output.destroy(reason);
    // The pipeline settles once this sink has closed, so what the encoder frees is freed by then.
    Promise.resolve()
      .then(() => part.encoder.abort?.(reason))
      .catch(() => undefined)
      .then(() => cb(err));
  }

  private async writeBatch(batch: RecordBatch, firstRow: number): Promise<void> {
    const { maxRowsPerFile } = this.options;
    let offset = 0;
    do {
      const part = await this.partFor();
      const room = maxRowsPerFile ? maxRowsPerFile - part.rows : Infinity;
      const take = Math.min(room, batch.numRows - offset);
      const slice = offset === 0 && take === batch.numRows ? batch : batch.slice(offset, offset + take);
      await part.encoder.writeBatch(slice, firstRow + offset);
      part.rows += take;
      offset += take;
      this.progress.addRows(take);
    } while (offset < batch.numRows);
  }

  /** The part to write into: the open one, unless it is full, in which case the next. */
  private async partFor(): Promise<OpenPart> {
    const part = this.current;
    if (part && !this.isFull(part)) return part;
    if (part) await this.endPart(part);
    return this.beginPart(this.parts.length);
  }

  private isFull(part: OpenPart): boolean {
    if (part.rows === 0) return false;
    const { maxFileSize, maxRowsPerFile } = this.options;
    if (maxRowsPerFile !== undefined && part.rows >= maxRowsPerFile) return true;
    return maxFileSize !== undefined && part.output.fileBytes >= maxFileSize;
  }

  private async beginPart(index: number): Promise<OpenPart> {
    const { extension, gzip, patchable } = this.options;
    const output = await this.target.openPart({ index, extension, gzip, patchable });
    this.progress.trackOpenFile(() => output.fileBytes);
    const encoder = await this.prepared.beginFile(output);
    this.current = { index, rows: 0, output, encoder };
    return this.current;
  }

  private async endPart(part: OpenPart): Promise<void> {
    const patches = await part.encoder.endFile();
    if (part.encoder.warnings) this.warnings.push(...part.encoder.warnings);
    const { size, md5 } = await part.output.close(patches);
    this.parts.push({ index: part.index, rows: part.rows, size, md5 });
    this.progress.fileFinished(size);
    this.current = null;
  }

  private async finish(): Promise<void> {
    const part = this.current ?? (this.parts.length === 0 ? await this.beginPart(0) : null);
    if (part) await this.endPart(part);
  }
}
