import type { RecordBatch, Schema } from 'apache-arrow';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ExportError, toExportError } from '../errors.js';
import type { FormatEncoder, PreparedEncoder, Rename } from '../formats/protocol.js';
import { SplittingSink, type FinishedPart, type PositionedBatch } from '../sinks/splitting.js';
import { partNames, type FileTarget } from '../sinks/target.js';
import type { BatchSource } from '../sources/types.js';
import { tableFromSchema } from '../table/arrow-types.js';
import { bindSchema, type Normalize } from '../table/normalize.js';
import type { Table } from '../table/types.js';
import { safeFileName, validateTable } from '../table/validate.js';
import type { Progress } from './progress.js';

export interface PipelineRequest<Options> {
  source: BatchSource;
  /** The table definition; derived from the source's Arrow schema when absent. */
  table?: Table;
  /** Name of a derived table. */
  tableName: string;
  encoder: FormatEncoder<Options>;
  options: Options;
  gzip: boolean;
  target: FileTarget;
  maxFileSize?: number;
  maxRowsPerFile?: number;
  signal: AbortSignal;
  progress: Progress;
  /** Called once the table is known and the encoder has accepted it, before the first byte. */
  onPrepared?: (table: Table, prepared: PreparedEncoder) => void;
}

export interface ExportedFile {
  name: string;
  /** Local path, or null when the file went to a caller-supplied stream. */
  path: string | null;
  size: number;
  rows: number;
  md5: string;
}

export interface PipelineResult {
  table: Table;
  files: ExportedFile[];
  rows: number;
  renames: readonly Rename[];
  warnings: string[];
}

/**
 * Runs one export: source → normalize/validate → encoder → splitting sink → target, with
 * backpressure end to end (Node stream pipeline) and the signal honoured at every batch.
 * On any failure the target is told to remove what was written, and the error is rethrown
 * as an ExportError naming format, column and row where known.
 */
export async function runPipeline<Options>(req: PipelineRequest<Options>): Promise<PipelineResult> {
  const format = req.encoder.format;
  const opened = await req.source.open().catch((err: unknown) => {
    throw toExportError(err, 'SOURCE_FAILED', 'the source could not be opened').withFormat(format);
  });
  try {
    const iterator = opened.batches[Symbol.asyncIterator]();
    let first: RecordBatch | null = null;
    let schema: Schema | null = opened.schema;
    if (!req.table && !schema) {
      const head = await iterator.next();
      if (head.done) throw new ExportError('SCHEMA_MISMATCH', 'no table definition was given and the source has no batch to derive one from', { format });
      first = head.value;
      schema = first.schema;
    }
    const table: Table = req.table ? { ...req.table } : tableFromSchema(schema as Schema, req.tableName, opened.numRows);
    if (table.numRows === undefined && opened.numRows !== null) table.numRows = opened.numRows;
    validateTable(table, format);
    const prepared = req.encoder.prepare(table, req.options);
    req.onPrepared?.(table, prepared);

    req.progress.setTotalRows(table.numRows);
    req.progress.setInput(() => opened.bytesRead(), opened.totalBytes);
    const extension = req.encoder.extension(req.options);
    const sink = new SplittingSink(prepared, req.target, {
      extension,
      gzip: req.gzip,
      patchable: req.encoder.capabilities.patchesHeader,
      maxFileSize: req.maxFileSize ?? req.encoder.capabilities.defaultMaxFileSize,
      maxRowsPerFile: req.maxRowsPerFile,
    }, req.progress);
    const batches = positionBatches(replay(first, iterator), table, format);
    await pipeline(Readable.from(batches, { objectMode: true, highWaterMark: 1 }), sink, { signal: req.signal });

    const rows = sink.parts.reduce((n, p) => n + p.rows, 0);
    const names = partNames(safeFileName(table.name), extension, sink.parts.length);
    const paths = await req.target.commit(names);
    const files = sink.parts.map((p: FinishedPart, i) => ({ name: names[i], path: paths[i], size: p.size, rows: p.rows, md5: p.md5 }));
    return { table, files, rows, renames: prepared.renames, warnings: [...prepared.warnings, ...sink.warnings] };
  } catch (err) {
    const error = req.signal.aborted ? cancelled(req.signal, format) : toExportError(err, 'INTERNAL', 'unexpected error').withFormat(format);
    await req.target.abort(error).catch(() => undefined);
    throw error;
  } finally {
    await opened.close().catch(() => undefined);
  }
}

function cancelled(signal: AbortSignal, format: string): ExportError {
  const reason = signal.reason instanceof Error && signal.reason.name !== 'AbortError' ? `: ${signal.reason.message}` : '';
  return new ExportError('CANCELLED', `the export was cancelled${reason}`, { format });
}

async function* replay(first: RecordBatch | null, rest: AsyncIterator<RecordBatch>): AsyncGenerator<RecordBatch> {
  if (first) yield first;
  for (;;) {
    const next = await rest.next();
    if (next.done) return;
    yield next.value;
  }
}

/** Checks each batch against the table and brings it to canonical types; failures name the row. */
async function* positionBatches(batches: AsyncIterable<RecordBatch>, table: Table, format: string): AsyncGenerator<PositionedBatch> {
  let schema: Schema | null = null;
  let normalize: Normalize | null = null;
  let row = 0;
  const iterator = batches[Symbol.asyncIterator]();
  for (;;) {
    let next: IteratorResult<RecordBatch>;
    try {
      next = await iterator.next();
    } catch (err) {
      if (err instanceof ExportError) throw err;
      const text = err instanceof Error ? err.message : String(err);
      throw new ExportError('SOURCE_FAILED', `the source failed after ${row} rows: ${text}`, { format }, { cause: err });
    }
    if (next.done) return;
    const batch = next.value;
    try {
      if (batch.schema !== schema || !normalize) {
        normalize = bindSchema(table, batch.schema, row);
        schema = batch.schema;
      }
      yield { batch: normalize(batch, row), firstRow: row };
    } catch (err) {
      throw err instanceof ExportError ? err.withFormat(format) : err;
    }
    row += batch.numRows;
  }
}
