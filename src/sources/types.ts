import type { RecordBatch, Schema } from 'apache-arrow';
import type { SourceRanges } from './ranges.js';

/**
 * A source of Arrow record batches, opened once per pass. A re-readable source (a file, a
 * Buffer, an array) can be opened again for a second pass; a one-shot stream cannot, and the
 * pipeline spools it to a temporary Arrow IPC file when a format needs a first pass.
 */
export interface BatchSource {
  /** True when open() may be called more than once and yields the same batches each time. */
  readonly reopenable: boolean;
  /**
   * The table's name as the source knows it (a file's name without its extension, the name
   * of fromRows' table): the export's default name when the request gives none.
   */
  readonly name?: string;
  open(): Promise<OpenedSource>;
}

export interface OpenedSource {
  /** Known before the first batch for IPC and Parquet inputs; null for plain iterables. */
  readonly schema: Schema | null;
  /** Row count when the input declares it (Parquet footer, IPC file footer), else null. */
  readonly numRows: number | null;
  /** Size of the input in bytes when known, for progress when the row count is not. */
  readonly totalBytes: number | null;
  /** Input bytes consumed so far (0 when unknown). */
  bytesRead(): number;
  readonly batches: AsyncIterable<RecordBatch>;
  /** Releases file handles; safe to call twice and after a failure. */
  close(): Promise<void>;
  /**
   * Present when worker threads may read the batches themselves by ranges (a local Arrow IPC
   * file): an export with workers > 1 then leaves `batches` unread (src/parallel/ranges.ts).
   */
  readonly ranges?: SourceRanges | null;
}
