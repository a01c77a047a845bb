import type * as ParquetWasm from 'parquet-wasm/node';
import type { Table } from '../../table/types.js';
import type { WriterConfig } from './messages.js';
import type { ResolvedParquetOptions } from './options.js';

/**
 * A row group also ends at 64 MiB of data (before compression), however few rows it has: the
 * worker holds the open group in memory, and wide rows (long text) would otherwise make
 * rowGroupSize rows many times larger than the benchmark's ~60 bytes a row.
 */
export const MAX_ROW_GROUP_BYTES = 64 * 1024 * 1024;

/**
 * The arrow-rs writer settings of an export, as plain data for the worker.
 *
 * Types need no settings: arrow-rs maps the canonical Arrow types to exactly the Parquet types
 * of DESIGN.md (int64 → INT64, float64 → DOUBLE, bool → BOOLEAN, date32 → INT32 DATE,
 * timestamp[us] → INT64 TIMESTAMP(MICROS, isAdjustedToUTC=false), time64[us] → INT64
 * TIME(MICROS), utf8 → BYTE_ARRAY STRING) and stores the Arrow schema, field metadata and all,
 * as ARROW:schema in the key-value metadata, from which pyarrow restores exact types and labels.
 *
 * Encodings are chosen for throughput, measured on the benchmark table:
 * - Dictionary encoding only for the columns chooseDictionaryColumns picks (repetitive ones);
 *   arrow-rs's default, a dictionary for every column, hashes every value of every column.
 * - Column-chunk statistics (min, max, null count: what readers skip row groups by) for numbers,
 *   booleans and dates; none for text, whose byte-wise min/max costs a large share of encoding
 *   the column and rarely prunes anything; no page-level index.
 */
export function planWriterConfig(table: Table, options: ResolvedParquetOptions, dictionaryColumns: readonly string[]): WriterConfig {
  return {
    compression: options.compression,
    rowGroupSize: options.rowGroupSize,
    maxRowGroupBytes: MAX_ROW_GROUP_BYTES,
    dictionaryColumns: [...dictionaryColumns],
    noStatisticsColumns: table.variables.filter((v) => v.type === 'string' || v.type === 'geography').map((v) => v.name),
  };
}

/**
 * The WriterProperties of one file, built in the worker from the plain config (parquet-wasm
 * consumes them, so each file needs its own). Runs in the worker from its source text: it
 * must not refer to anything outside itself but its parameters.
 */
export function buildWriterProperties(pw: typeof ParquetWasm, config: WriterConfig): ParquetWasm.WriterProperties {
  const codecs = { snappy: pw.Compression.SNAPPY, zstd: pw.Compression.ZSTD, gzip: pw.Compression.GZIP, none: pw.Compression.UNCOMPRESSED };
  let builder = new pw.WriterPropertiesBuilder()
    .setCompression(codecs[config.compression])
    .setMaxRowGroupSize(config.rowGroupSize)
    .setMaxRowGroupBytes(config.maxRowGroupBytes)
    .setDictionaryEnabled(false)
    .setStatisticsEnabled(pw.EnabledStatistics.Chunk);
  for (const column of config.dictionaryColumns) builder = builder.setColumnDictionaryEnabled(column, true);
  for (const column of config.noStatisticsColumns) builder = builder.setColumnStatisticsEnabled(column, pw.EnabledStatistics.None);
  for (const [column, encoding] of Object.entries(config.encodings ?? {})) builder = builder.setColumnEncoding(column, pw.Encoding[encoding]);
  return builder.build();
}
