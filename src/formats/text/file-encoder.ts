import type { RecordBatch } from 'apache-arrow';
import type { ByteSink, FileEncoder, Patch } from '../protocol.js';
import { viewColumns } from '../../table/columns.js';
import type { VariableType } from '../../table/types.js';
import { ByteBuffer } from './bytes.js';
import { bindRows, encodeRows, measureRows, type TextLayout } from './rows.js';

/** Rows encoded between capacity checks: enough to amortize them, few enough to bound a chunk. */
const CHUNK_ROWS = 1024;
/** Bytes gathered before they go to the sink: fewer, larger writes cost less per byte. */
const FLUSH_BYTES = 1 << 20;
/**
 * Largest worst-case size of a chunk: rows of long strings (the bound counts each string byte
 * 2× for csv, 6× for jsonl) are taken fewer at a time, so the buffer does not grow with them.
 * Only a single row can exceed it, and only then does the buffer grow.
 */
const MAX_CHUNK_BYTES = 1 << 20;

/**
 * One csv or jsonl file: encodes each batch column-wise into an output buffer and hands the
 * sink what it holds every FLUSH_BYTES and at the end of every batch (so the splitting sink
 * sees the file's size at each batch boundary). Nothing is held back between batches.
 */
export class TextFileEncoder implements FileEncoder {
  private readonly out = new ByteBuffer(FLUSH_BYTES + MAX_CHUNK_BYTES);

  constructor(
    private readonly layout: TextLayout,
    private readonly types: readonly VariableType[],
    private readonly sink: ByteSink,
  ) {}

  async writeBatch(batch: RecordBatch, firstRow: number): Promise<void> {
    const rows = bindRows(this.layout, viewColumns(batch, this.types));
    const out = this.out;
    const count = batch.numRows;
    for (let start = 0, end = 0; start < count; start = end) {
      end = Math.min(count, start + CHUNK_ROWS);
      let size = measureRows(rows, start, end);
      while (size > MAX_CHUNK_BYTES && end - start > 1) {
        end = start + ((end - start) >> 1);
        size = measureRows(rows, start, end);
      }
      // Flush rather than grow: what is held stays below FLUSH_BYTES + MAX_CHUNK_BYTES.
      if (out.length > 0 && out.length + size > FLUSH_BYTES) await this.sink.write(out.take());
      out.reserve(size);
      out.length = encodeRows(rows, out.bytes, out.length, start, end, firstRow);
    }
    if (out.length > 0) await this.sink.write(out.take());
  }

  async endFile(): Promise<Patch[]> {
    return [];
  }
}
