import { ExportError } from '../../errors.js';

export const PARQUET_COMPRESSIONS = ['snappy', 'zstd', 'gzip', 'none'] as const;
export type ParquetCompression = (typeof PARQUET_COMPRESSIONS)[number];

/** parquet options of an export request (all optional). */
export interface ParquetOptions {
  /** Codec of every column chunk (default 'snappy', what most Parquet writers default to). */
  compression?: ParquetCompression;
  /**
   * Rows per row group (default 131,072); a group also ends at 64 MiB of data. A row group is
   * held, encoded, in memory until it is complete, and its bytes appear only then: smaller
   * groups bound memory and let a split land closer to maxFileSize; larger ones compress and
   * scan a little better.
   */
  rowGroupSize?: number;
}

export interface ResolvedParquetOptions {
  compression: ParquetCompression;
  rowGroupSize: number;
}

/**
 * 128 Ki rows. Measured on the 9-column, 1,000,000-row benchmark table (~40 bytes a row after
 * snappy, so ~5 MB a group): throughput is the same within noise from 64 Ki to 1 Mi rows, but
 * peak memory above the table is ~135 MB up to 256 Ki rows and ~300 MB at 1 Mi (arrow-rs's
 * default), where the worker holds a 40 MB group and its copies. DuckDB writes 122,880 rows.
 */
export const DEFAULT_ROW_GROUP_SIZE = 131_072;
/** arrow-rs keeps row counts in usize (32 bits in wasm); far below that, a group is unwieldy. */
const MAX_ROW_GROUP_SIZE = 1 << 30;

const KNOWN_OPTIONS: readonly string[] = ['compression', 'rowGroupSize'];

/** Checks the options and fills in the defaults; an ExportError INVALID_OPTION names the bad one. */
export function resolveParquetOptions(options: ParquetOptions | undefined): ResolvedParquetOptions {
  if (options === undefined || options === null) return { compression: 'snappy', rowGroupSize: DEFAULT_ROW_GROUP_SIZE };
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw invalid(`parquet options must be an object, not ${JSON.stringify(options)}`);
  }
  // A misspelt option would otherwise be ignored silently and the file written with defaults.
  const unknown = Object.keys(options).find((key) => !KNOWN_OPTIONS.includes(key));
  if (unknown !== undefined) throw invalid(`unknown option "${unknown}"; parquet takes ${KNOWN_OPTIONS.join(' and ')}`);
  const { compression = 'snappy', rowGroupSize = DEFAULT_ROW_GROUP_SIZE } = options;
  if (!(PARQUET_COMPRESSIONS as readonly unknown[]).includes(compression)) {
    throw invalid(`compression must be one of ${PARQUET_COMPRESSIONS.map((c) => `"${c}"`).join(', ')}, not ${JSON.stringify(compression)}`);
  }
  if (!Number.isSafeInteger(rowGroupSize) || rowGroupSize < 1 || rowGroupSize > MAX_ROW_GROUP_SIZE) {
    throw invalid(`rowGroupSize must be a whole number of rows from 1 to ${MAX_ROW_GROUP_SIZE}, not ${JSON.stringify(rowGroupSize)}`);
  }
  return { compression, rowGroupSize };
}

function invalid(detail: string): ExportError {
  return new ExportError('INVALID_OPTION', detail, { format: 'parquet' });
}
