import { schemaOfTable } from '../../table/arrow-types.js';
import type { Table } from '../../table/types.js';
import { parquetFormat } from './format.js';
import type { ByteSink, EncoderContext, FileEncoder, FormatEncoder, PreparedEncoder } from '../protocol.js';
import { ParquetFileEncoder, type ParquetPlan } from './file-encoder.js';
import { ParallelParquetFileEncoder } from './parallel-encoder.js';
import { encodeBatchIPC, makeEmptyBatch } from './ipc-batches.js';
import { resolveParquetOptions, type ParquetOptions } from './options.js';

export type { ParquetCompression, ParquetOptions } from './options.js';


/**
 * Apache Parquet through parquet-wasm (arrow-rs compiled to wasm) in a worker thread, streamed
 * row group by row group; with EncoderContext.workers > 1, row groups are encoded by that many
 * workers at once and stitched into one file (parallel-encoder.ts). Every part is a complete file with the same schema; the splitting
 * sink rolls to the next part between batches, and bytes appear as row groups complete.
 */
export const parquetEncoder: FormatEncoder<ParquetOptions> = {
  ...parquetFormat,
  prepare(table: Table, options?: ParquetOptions, context?: EncoderContext): PreparedEncoder {
    const resolved = resolveParquetOptions(options);
    // Column names need no checks: Parquet takes any UTF-8 name, and the pipeline has refused
    // empty and duplicate ones already; they are kept exactly (DESIGN.md).
    const schema = schemaOfTable(table);
    const plan: ParquetPlan = {
      table,
      options: resolved,
      schema,
      schemaIPC: encodeBatchIPC(makeEmptyBatch(schema), schema),
      dictionaryColumns: null,
      encodingChoice: null,
      schemaMessage: null,
      spareIPCBuffers: [],
    };
    const threads = context?.workers ?? 1;
    return {
      renames: [],
      warnings: [],
      beginFile: async (sink: ByteSink): Promise<FileEncoder> => (threads > 1
        ? new ParallelParquetFileEncoder(plan, sink, threads)
        : new ParquetFileEncoder(plan, sink)),
    };
  },
};
