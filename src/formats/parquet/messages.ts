/**
 * What the main thread and the Parquet worker say to each other. Every message names the file
 * it is about (`file`), so one worker serves every Parquet file the process writes at once.
 * Messages on a port arrive in order, which the protocol relies on: a file's `chunk`s come
 * before the `taken` or `closed` that says they are complete.
 */

import type { ParquetCompression } from './options.js';

/** arrow-rs writer settings as plain data (wasm objects cannot cross threads). */
export interface WriterConfig {
  /** The codec, mapped to parquet-wasm's enum in the worker (the main thread never loads parquet-wasm). */
  compression: ParquetCompression;
  rowGroupSize: number;
  /** A row group also ends at this many bytes of data, whatever its rows. */
  maxRowGroupBytes: number;
  /** Columns written with dictionary encoding (the others PLAIN). */
  dictionaryColumns: string[];
  /** Columns without statistics (the others get column-chunk statistics). */
  noStatisticsColumns: string[];
  /** Encoding of columns without a dictionary, by parquet-wasm's Encoding name (absent: PLAIN). */
  encodings?: Record<string, ParquetEncodingName>;
}

/** The encodings the parallel path chooses from (names of parquet-wasm's Encoding enum). */
export type ParquetEncodingName = 'PLAIN' | 'DELTA_BINARY_PACKED' | 'DELTA_LENGTH_BYTE_ARRAY';

export type ToWorker =
  /** Starts a file: `schema` is the IPC stream of an empty batch of the export's schema. */
  | { kind: 'open'; file: number; schema: Uint8Array; config: WriterConfig }
  /** One batch as an Arrow IPC stream (its buffer transferred). */
  | { kind: 'batch'; file: number; seq: number; ipc: Uint8Array }
  /** No more batches: write the last row group and the footer. */
  | { kind: 'end'; file: number }
  /** Give up the file (after a failure elsewhere) and free what its writer holds. */
  | { kind: 'abort'; file: number };

export type FromWorker =
  /** Bytes of the file, in order (buffer transferred). */
  | { kind: 'chunk'; file: number; bytes: Uint8Array }
  /** Batch `seq` is written: every chunk it completed was sent before this. */
  | { kind: 'taken'; file: number; seq: number }
  /** The footer is written and sent: the file is complete. */
  | { kind: 'closed'; file: number }
  /** The writer refused the file or a batch; `seq` is the batch when one was the cause. */
  | { kind: 'failed'; file: number; seq: number | null; message: string };
