import { schemaOfTable } from '../../table/arrow-types.js';
import type { Table } from '../../table/types.js';
import { parquetFormat } from './format.js';
import type { ByteSink, EncoderContext, FileEncoder, FormatEncoder, PreparedEncoder } from '../protocol.js';
import { kernelSupports } from './codecs.js';
import { ParquetFileEncoder, type ParquetPlan } from './file-encoder.js';
import { RowGroupRunner } from './group-runner.js';
import { MAX_ROW_GROUP_BYTES } from './writer-config.js';
import { KernelParquetFileEncoder, type KernelParquetPlan } from './kernel-encoder.js';
import type { ParquetKernelSpec } from './kernel.js';
import { ParallelParquetFileEncoder } from './parallel-encoder.js';
import { encodeBatchIPC, makeEmptyBatch } from './ipc-batches.js';
import { schemaMessageOf } from './ipc-writer.js';
import { resolveParquetOptions, type ParquetOptions, type ResolvedParquetOptions } from './options.js';

export type { ParquetCompression, ParquetOptions } from './options.js';

/**
 * Which writer an export uses: the hand-written one (kernel.ts) or parquet-wasm. The
 * environment variable TABULAR_EXPORT_PARQUET_WRITER=wasm forces parquet-wasm (benchmarks);
 * by default the hand-written writer runs wherever it supports the codec (snappy with the
 * native `snappy` module loading, gzip, none), with any number of workers (with one, it
 * measured ~35 % less CPU than parquet-wasm's worker and as fast), parquet-wasm otherwise (zstd).
 */
function usesKernel(options: ResolvedParquetOptions): boolean {
  if (process.env.TABULAR_EXPORT_PARQUET_WRITER === 'wasm') return false;
  return kernelSupports(options.compression);
}

/**
 * Apache Parquet. With EncoderContext.workers > 1 and a codec it supports, the hand-written
 * writer: row groups encoded by the parquet kernel of the parallel machinery (kernel.ts,
 * group-runner.ts, kernel-encoder.ts), on this thread for the first rows and in the pool after. Otherwise parquet-wasm (arrow-rs
 * compiled to wasm) in a worker thread, streamed row group by row group, or with workers > 1
 * (zstd) several parquet-wasm workers whose row groups are stitched (parallel-encoder.ts).
 * Every part is a complete file with the same schema; the splitting sink rolls to the next
 * part between batches, and bytes appear as row groups complete.
 */
export const parquetEncoder: FormatEncoder<ParquetOptions> = {
  ...parquetFormat,
  prepare(table: Table, options?: ParquetOptions, context?: EncoderContext): PreparedEncoder {
    const resolved = resolveParquetOptions(options);
    // Column names need no checks: Parquet takes any UTF-8 name, and the pipeline has refused
    // empty and duplicate ones already; they are kept exactly (DESIGN.md).
    const schema = schemaOfTable(table);
    const schemaIPC = encodeBatchIPC(makeEmptyBatch(schema), schema);
    const threads = context?.workers ?? 1;
    if (usesKernel(resolved) && resolved.compression !== 'zstd') {
      const types = table.variables.map((v) => v.type);
      const names = table.variables.map((v) => v.name);
      const spec: ParquetKernelSpec = { names, types, compression: resolved.compression };
      const plan: KernelParquetPlan = {
        rowGroupSize: resolved.rowGroupSize,
        footer: { names, types, compression: resolved.compression, arrowSchemaMessage: schemaMessageOf(schemaIPC) },
        // One runner per export; with one thread its groups are encoded here (no pool).
        runner: new RowGroupRunner(spec, types, Math.max(1, threads)),
        signal: context?.signal,
      };
      return {
        renames: [],
        warnings: [],
        // A range of the source per row group, read by a pool thread (parallel/ranges.ts).
        readsRanges: plan.runner.readsRanges,
        rangeRows: resolved.rowGroupSize,
        rangeBytes: MAX_ROW_GROUP_BYTES,
        beginFile: async (sink: ByteSink): Promise<FileEncoder> => new KernelParquetFileEncoder(plan, sink),
      };
    }
    const plan: ParquetPlan = {
      table,
      options: resolved,
      schema,
      schemaIPC,
      dictionaryColumns: null,
      encodingChoice: null,
      schemaMessage: null,
      spareIPCBuffers: [],
    };
    return {
      renames: [],
      warnings: [],
      beginFile: async (sink: ByteSink): Promise<FileEncoder> => (threads > 1
        ? new ParallelParquetFileEncoder(plan, sink, threads)
        : new ParquetFileEncoder(plan, sink)),
    };
  },
};
