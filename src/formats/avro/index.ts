import { randomBytes } from 'node:crypto';
import type { Table } from '../../table/types.js';
import { avroFormat } from './format.js';
import type { ByteSink, EncoderContext, FileEncoder, FormatEncoder, PreparedEncoder } from '../protocol.js';
import { chooseCodec } from './codecs.js';
import { AvroFileEncoder, writeHeader, type AvroFilePlan } from './container.js';
import { resolveAvroOptions, SYNC_BYTES, type AvroOptions } from './options.js';
import { buildAvroSchema } from './schema.js';
import { planColumn } from './values.js';

export type { AvroCodec, AvroOptions } from './options.js';


/**
 * Avro object container files (spec 1.11), one record per row, blocks built column-wise from
 * the Arrow typed arrays (never through row objects); split into standalone files by the sink.
 */
export const avroEncoder: FormatEncoder<AvroOptions> = {
  ...avroFormat,
  prepare(table: Table, options: AvroOptions = {}, context: EncoderContext = {}): PreparedEncoder {
    const resolved = resolveAvroOptions(options);
    const { json, renames } = buildAvroSchema(table, resolved.namespace);
    const plan: AvroFilePlan = {
      schemaJson: json,
      codec: chooseCodec(resolved, context.workers ?? 1),
      columns: table.variables.map((v) => planColumn(v.type)),
      names: table.variables.map((v) => v.name),
      types: table.variables.map((v) => v.type),
      blockRows: resolved.blockRows,
      blockBytes: resolved.blockBytes,
    };
    return {
      renames,
      warnings: [],
      async beginFile(sink: ByteSink): Promise<FileEncoder> {
        // A random marker per file, so a reader resynchronizing after damage cannot mistake data for it.
        const sync = resolved.syncMarker ?? new Uint8Array(randomBytes(SYNC_BYTES));
        await sink.write(writeHeader(plan.schemaJson, plan.codec.name, sync));
        return new AvroFileEncoder(plan, sink, sync);
      },
    };
  },
};
