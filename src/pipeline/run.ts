import type { RecordBatch, Schema } from 'apache-arrow';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ExportError, toExportError } from '../errors.js';
import type { FormatEncoder, PreparedEncoder, Rename } from '../formats/protocol.js';
import { SplittingSink, type FinishedPart } from '../sinks/splitting.js';
import { checkPartCount } from '../sinks/limits.js';
import { isSystemError, targetFailed } from '../sinks/target-error.js';
import { partNames, type FileTarget } from '../sinks/target.js';
import type { Spool } from '../sources/spool.js';
import type { BatchSource, OpenedSource } from '../sources/types.js';
import { tableFromSchema } from '../table/arrow-types.js';
import { needsFirstPass } from '../table/statistics.js';
import type { Table } from '../table/types.js';
import { safeFileName, validateTable } from '../table/validate.js';
import { positionBatches, replay } from './batches.js';
import { measureRanges, runFirstPass } from './first-pass.js';
import { inlineRows } from '../parallel/chunks.js';
import { planRanges } from '../parallel/ranges.js';
import { warmPool } from '../parallel/pool.js';
import { warmHashThread } from '../parallel/md5.js';
import type { SourceRanges } from '../sources/ranges.js';
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
  /** The most parts allowed: MAX_PARTS unless a test lowers it (SplitOptions.maxParts). */
  maxParts?: number;
  signal: AbortSignal;
  progress: Progress;
  /** Where a one-shot source is spooled when the format needs a first pass. */
  tempDir: string;
  /** Threads that encode the export (1: the calling thread only). Default 1. */
  workers?: number;
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
  const caps = req.encoder.capabilities;
  let opened = await openSource(req.source, format, req.signal);
  let spool: Spool | null = null;
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
    let table: Table = req.table ? { ...req.table } : tableFromSchema(schema as Schema, req.tableName, opened.numRows);
    if (table.numRows === undefined && opened.numRows !== null) table.numRows = opened.numRows;
    validateTable(table, format);
    checkPartCount(table.numRows, req.maxRowsPerFile, req.maxParts);
    let batches: AsyncIterable<RecordBatch> = replay(first, iterator);
    const workers = req.workers ?? 1;
    const ranges = rangesFor(opened, table, workers);
    if (ranges) {
      // A large export on several threads: start them, and the hashing thread, while this one prepares.
      warmPool(workers);
      warmHashThread();
    }
    if (needsFirstPass(table, caps.needsRowCount, caps.needsStatistics) && ranges) {
      table = await measureRanges(table, ranges, workers, req.signal, format);
    } else if (needsFirstPass(table, caps.needsRowCount, caps.needsStatistics)) {
      const pass = await runFirstPass(table, batches, req.source, req.tempDir, req.signal, format);
      ({ table, spool } = pass);
      await opened.close();
      opened = await openSource(pass.source, format, req.signal);
      batches = opened.batches;
    }
    const prepared = req.encoder.prepare(table, req.options, { tempDir: req.tempDir, workers, signal: req.signal });
    req.onPrepared?.(table, prepared);

    req.progress.setTotalRows(table.numRows);
    req.progress.setInput(() => opened.bytesRead(), opened.totalBytes);
    const extension = req.encoder.extension(req.options);
    const base = safeFileName(table.name);
    const sink = new SplittingSink(prepared, req.target, {
      base,
      extension,
      gzip: req.gzip,
      patchable: prepared.patchesHeader ?? caps.patchesHeader,
      maxFileSize: req.maxFileSize ?? caps.defaultMaxFileSize,
      maxRowsPerFile: req.maxRowsPerFile,
      maxParts: req.maxParts,
      hashOffThread: workers > 1,
    }, req.progress);
    // Worker threads read the source themselves where they can: never with a split by rows, and
    // with one by size only where a file ends between row groups anyway (parquet's ranges).
    const maxFileSize = req.maxFileSize ?? caps.defaultMaxFileSize;
    const byRanges = ranges && prepared.readsRanges && req.maxRowsPerFile === undefined
      && (maxFileSize === undefined || prepared.rangeRows !== undefined);
    // A range is never cut, so with a size limit none holds more of the source than the limit
    // (a row group's output is below its Arrow size): a part then ends between ranges.
    const rangeBytes = Math.min(prepared.rangeBytes ?? Infinity, maxFileSize ?? Infinity);
    const positioned = byRanges ? planRanges(ranges, table, prepared.rangeRows, rangeBytes) : positionBatches(batches, table, format);
    await pipeline(Readable.from(positioned, { objectMode: true, highWaterMark: 1 }), sink, { signal: req.signal });

    const rows = sink.parts.reduce((n, p) => n + p.rows, 0);
    if (caps.needsRowCount && table.numRows !== rows) {
      throw new ExportError('SCHEMA_MISMATCH', `the table declares ${table.numRows} rows but the source gave ${rows}`, { format });
    }
    const names = partNames(base, extension, sink.parts.length);
    const paths = await req.target.commit(names, base, extension);
    const files = sink.parts.map((p: FinishedPart, i) => ({ name: names[i], path: paths[i], size: p.size, rows: p.rows, md5: p.md5 }));
    return { table, files, rows, renames: prepared.renames, warnings: [...prepared.warnings, ...sink.warnings, ...replacedWarning(req.target.replaced)] };
  } catch (err) {
    const error = req.signal.aborted ? cancelled(req.signal, format) : failure(err).withFormat(format);
    await req.target.abort(error).catch(() => undefined);
    throw error;
  } finally {
    await opened.close().catch(() => undefined);
    await spool?.remove().catch(() => undefined);
  }
}

/**
 * The source's ranges when worker threads should read it themselves (ranges.ts): a source that
 * offers them, an export with workers > 1, and more rows than the calling thread encodes alone
 * while the threads start (INLINE_ROWS); a small export is done before they would be.
 */
function rangesFor(opened: OpenedSource, table: Table, workers: number): SourceRanges | null {
  const ranges = opened.ranges ?? null;
  // Ranges stand for the opened source's own batches: a wrapper that replaced them is read in order.
  if (ranges !== null && ranges.batches !== opened.batches) return null;
  // TABULAR_EXPORT_RANGES=0 reads every source on the calling thread (to compare the two in bench/).
  if (ranges === null || workers <= 1 || ranges.blocks.length === 0 || process.env.TABULAR_EXPORT_RANGES === '0') return null;
  return (table.numRows ?? 0) >= inlineRows() ? ranges : null;
}

/** Says which files of an earlier export of the same name the new files replaced. */
function replacedWarning(replaced: readonly string[] | undefined): string[] {
  if (!replaced || replaced.length === 0) return [];
  const shown = replaced.slice(0, 5).join(', ') + (replaced.length > 5 ? `, … (${replaced.length} in all)` : '');
  return [`replaced the files of an earlier export of the same name in the output directory: ${shown}`];
}

/**
 * Opens the source, or gives up at once on a cancel: opening can wait without end (a FIFO no
 * one writes to, a stalled stdin), and a cancel must end the export all the same. A source
 * that opens after that is closed then.
 */
async function openSource(source: BatchSource, format: string, signal: AbortSignal): Promise<OpenedSource> {
  if (signal.aborted) throw cancelled(signal, format);
  const opening = source.open();
  let onAbort = (): void => undefined;
  const stop = new Promise<never>((_, reject) => {
    onAbort = () => reject(cancelled(signal, format));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([opening, stop]);
  } catch (err) {
    if (signal.aborted) {
      opening.then((late) => late.close(), () => undefined).catch(() => undefined);
      throw cancelled(signal, format);
    }
    throw toExportError(err, 'SOURCE_FAILED', 'the source could not be opened').withFormat(format);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/**
 * Targets and encoders name the file in their failures; a system error that still arrives bare
 * is the disk's, not a bug, so it is TARGET_FAILED in the system's words (without its path).
 */
function failure(err: unknown): ExportError {
  return isSystemError(err) ? targetFailed('writing the export', err) : toExportError(err, 'INTERNAL', 'unexpected error');
}

function cancelled(signal: AbortSignal, format: string): ExportError {
  const reason = signal.reason instanceof Error && signal.reason.name !== 'AbortError' ? `: ${signal.reason.message}` : '';
  return new ExportError('CANCELLED', `the export was cancelled${reason}`, { format });
}
