import type { RecordBatch, Schema } from 'apache-arrow';
import type { ChunkDispatcher } from '../../parallel/chunks.js';
import { ChunkedFileEncoder, type ChunkedFileHooks } from '../../parallel/file-encoder.js';
import type { ChunkResult } from '../../parallel/kernel.js';
import type { VariableType } from '../../table/types.js';
import type { ByteSink, FileEncoder, Patch } from '../protocol.js';
import { fileFooter, fileHead, type FooterPlan, type PlacedRowGroup } from './footer.js';
import type { RowGroupInfo } from './kernel.js';
import { concatBatches } from './row-group-batch.js';
import { MAX_ROW_GROUP_BYTES } from './writer-config.js';

/** What every file of an export written by the hand-written writer shares. */
export interface KernelParquetPlan {
  schema: Schema;
  types: readonly VariableType[];
  rowGroupSize: number;
  footer: FooterPlan;
}

/**
 * One Parquet file from the hand-written writer (kernel.ts): batches are gathered into row
 * groups of rowGroupSize rows (fewer at 64 MiB), each group is one chunk of the export's
 * ChunkDispatcher — encoded on this thread or in the pool, consumed in order — and placed
 * here, where its offsets become absolute; the footer is written at the end.
 */
export class KernelParquetFileEncoder implements FileEncoder {
  private readonly chunks: ChunkedFileEncoder;
  private pieces: RecordBatch[] = [];
  private pieceRows = 0;
  private pieceBytes = 0;
  private groupFirstRow = 0;

  constructor(private readonly plan: KernelParquetPlan, dispatcher: ChunkDispatcher, sink: ByteSink) {
    this.chunks = new ChunkedFileEncoder(dispatcher, sink, new RowGroupWriter(plan.footer, sink));
  }

  async writeBatch(batch: RecordBatch, firstRow: number): Promise<void> {
    const groupRows = this.plan.rowGroupSize;
    for (let at = 0; at < batch.numRows;) {
      const take = Math.min(groupRows - this.pieceRows, batch.numRows - at);
      const piece = at === 0 && take === batch.numRows ? batch : batch.slice(at, at + take);
      if (this.pieceRows === 0) this.groupFirstRow = firstRow + at;
      this.pieces.push(piece);
      this.pieceRows += take;
      this.pieceBytes += estimateBytes(piece);
      at += take;
      if (this.pieceRows >= groupRows || this.pieceBytes >= MAX_ROW_GROUP_BYTES) await this.flushGroup();
    }
  }

  private async flushGroup(): Promise<void> {
    if (this.pieceRows === 0) return;
    const group = concatBatches(this.plan.schema, this.plan.types, this.pieces);
    const firstRow = this.groupFirstRow;
    this.pieces = [];
    this.pieceRows = 0;
    this.pieceBytes = 0;
    await this.chunks.writeBatch(group, firstRow);
  }

  /** The group being gathered and the groups being encoded. */
  bufferedRows(): number {
    return this.pieceRows + this.chunks.bufferedRows();
  }

  async endFile(): Promise<Patch[]> {
    await this.flushGroup();
    return this.chunks.endFile();
  }

  async abort(reason: Error): Promise<void> {
    this.pieces = [];
    this.pieceRows = 0;
    await this.chunks.abort(reason);
  }
}

/** The hooks that place each encoded row group in the file and end it with the footer. */
class RowGroupWriter implements ChunkedFileHooks {
  private position = 0;
  private readonly groups: PlacedRowGroup[] = [];

  constructor(private readonly footer: FooterPlan, private readonly sink: ByteSink) {}

  private async begin(): Promise<void> {
    if (this.position > 0) return;
    const head = fileHead();
    await this.sink.write(head);
    this.position = head.length;
  }

  async consume(result: ChunkResult): Promise<void> {
    await this.begin();
    const info = result.info as RowGroupInfo;
    this.groups.push({ rows: info.rows, position: this.position, columns: info.columns });
    for (const bytes of result.bytes) {
      await this.sink.write(bytes);
      this.position += bytes.length;
    }
  }

  async end(): Promise<Patch[]> {
    await this.begin();
    await this.sink.write(fileFooter(this.footer, this.groups));
    return [];
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
