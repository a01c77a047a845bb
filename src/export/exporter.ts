import type { RecordBatch } from 'apache-arrow';
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { tmpdir } from 'node:os';
import { ExportError } from '../errors.js';
import type { FormatInfo } from '../formats/protocol.js';
import { formatInfo, loadEncoder, resolveFormat, type FormatOptions } from '../formats/registry.js';
import { Progress } from '../pipeline/progress.js';
import { runPipeline, type ExportedFile } from '../pipeline/run.js';
import { DirectoryTarget } from '../sinks/directory.js';
import { checkMaxFileSize } from '../sinks/limits.js';
import { StoreTarget } from '../sinks/store-target.js';
import { StreamTarget, type OpenWritable } from '../sinks/stream.js';
import type { FileTarget } from '../sinks/target.js';
import { toBatchSource } from '../sources/index.js';
import type { BatchSource } from '../sources/types.js';
import { openStore } from '../store/open.js';
import { isS3Url, parseS3Url } from '../store/s3-location.js';
import type { ObjectStore } from '../store/types.js';
import { tableBase, type Table, type TableBase } from '../table/types.js';
import { checkWorkers, defaultWorkers } from '../parallel/workers.js';
import { Export } from './export.js';

export type SourceInput = BatchSource | AsyncIterable<RecordBatch> | Iterable<RecordBatch>;

export interface ExportRequest extends FormatOptions {
  /** csv, jsonl (alias ndjson), parquet, avro, dta or sav. */
  format: string;
  /**
   * Where the files go: a directory (created if missing), or `s3://bucket/prefix` (S3-compatible
   * storage, connected through the standard AWS environment variables; see src/store), or an
   * ObjectStore (openStore with options, a store of your own). One of `out` and `target` is
   * required.
   */
  out?: string | ObjectStore;
  /** Or: opens a Writable for each part, e.g. an object-store upload. */
  target?: OpenWritable;
  /** The table definition; derived from the source's Arrow schema when absent. */
  table?: Table;
  /** Table name when the table is derived (default: the source's name, e.g. a file's name without its extension, else "table"). Names the files. */
  name?: string;
  /** The platform's base representation of the table, shown in the Export resource. */
  tableBase?: TableBase;
  /**
   * Roll to a new file once a file reaches this many bytes (splittable formats only); at least
   * MIN_MAX_FILE_SIZE, 1 MiB. An export has at most MAX_PARTS (100,000) files, else it fails
   * TOO_MANY_PARTS.
   */
  maxFileSize?: number;
  /** At most this many rows per file (splittable formats only); the MAX_PARTS cap holds here too. */
  maxRowsPerFile?: number;
  signal?: AbortSignal;
  id?: string;
  /** The export's creation time in ms since the epoch (default now), e.g. kept when an export is run again after a crash. */
  createdAt?: number;
  /**
   * percentCompleted to show from the start (default 0): what an earlier run of the same export
   * had shown when it was cut short, so progress never goes down for whoever polls it; the new
   * run's own progress shows once it passes this.
   */
  progressFloor?: number;
  /**
   * Threads that encode this export (1 to MAX_WORKERS, 64): 1 encodes on the calling thread
   * as a single-threaded program would; more encode batches in a pool of worker threads and write
   * them in order. The files are the same either way. Default: the Exporter's `workers`.
   */
  workers?: number;
}

export interface ExporterOptions {
  /** Exports running at once; the others wait `queued`. Default 2. */
  concurrency?: number;
  /** Where temporary files go (spools, patched parts for stream targets). Default os.tmpdir(). */
  tempDir?: string;
  /** Least time between two 'progress' events of one export, in ms. Default 100. */
  progressInterval?: number;
  /**
   * Threads each export encodes with, unless its request says otherwise. Default: the machine's
   * available parallelism, at most DEFAULT_WORKERS_CAP (16). Worker threads start on the first
   * export large enough to use them and are shared by every export of the process.
   */
  workers?: number;
}

interface Job {
  exp: Export;
  run: () => Promise<void>;
  controller: AbortController;
}

/**
 * Runs many exports with a concurrency limit, finds them by id and cancels them. Emits
 * 'status' (export, status) and 'progress' (export, snapshot) for every export it runs.
 */
export class Exporter extends EventEmitter {
  private readonly exports = new Map<string, Export>();
  private readonly jobs = new Map<string, Job>();
  private readonly queue: Job[] = [];
  private running = 0;
  readonly concurrency: number;
  readonly tempDir: string;
  private readonly progressInterval: number;
  readonly workers: number;

  constructor(options: ExporterOptions = {}) {
    super();
    this.concurrency = Math.max(1, options.concurrency ?? 2);
    this.workers = options.workers === undefined ? defaultWorkers() : checkWorkers(options.workers);
    this.tempDir = options.tempDir ?? tmpdir();
    this.progressInterval = options.progressInterval ?? 100;
  }

  /**
   * Creates an export, `queued`; it starts on the next microtask if a slot is free. Throws an
   * ExportError at once for an unknown format or bad option.
   */
  create(input: SourceInput, request: ExportRequest): Export {
    const format = resolveFormat(request.format);
    const info = formatInfo(format);
    const options = request[format as keyof FormatOptions];
    checkSizes(request, format);
    if (request.workers !== undefined) checkWorkers(request.workers, format);
    info.checkOptions(options);
    if (!request.out && !request.target) throw new ExportError('INVALID_OPTION', 'give `out` (a directory or s3:// location) or `target` (a Writable per part)', { format });
    if (typeof request.out === 'string' && isS3Url(request.out)) parseS3Url(request.out); // a bad location throws here, before any export exists
    const id = request.id ?? randomUUID();
    if (this.exports.has(id)) throw new ExportError('INVALID_OPTION', `an export with id ${id} exists already`, { format });
    checkResume(request, format);
    const source = toBatchSource(input);
    const name = request.table?.name ?? request.name ?? source.name ?? 'table';
    const base = request.tableBase ?? (request.table ? tableBase(request.table) : { kind: 'table' as const, name });
    const exp = new Export(id, format, base, request.createdAt);
    if (request.progressFloor) exp.resumeFrom(request.progressFloor);
    this.relayStatus(exp);
    const job = this.makeJob(exp, source, name, request, info, options);
    this.exports.set(id, exp);
    this.jobs.set(id, job);
    job.controller.signal.addEventListener('abort', () => this.dequeue(job), { once: true });
    if (job.controller.signal.aborted) this.dequeue(job);
    else {
      this.queue.push(job);
      // Started on the next microtask, not inside create: every export is created `queued`
      // (DESIGN.md), and listeners attached to it after create see its every change of status.
      queueMicrotask(() => this.pump());
    }
    return exp;
  }

  /** Re-emits the export's status changes as the Exporter's. (Its own scope: this listener lives as long as the Export.) */
  private relayStatus(exp: Export): void {
    exp.on('status', (status) => this.emit('status', exp, status));
  }

  /**
   * The job that runs one export. Everything it holds (source, table, target, progress) is
   * released when the export ends: a finished export keeps only its Export, so the Exporter of
   * a long-running service does not hold every source it was ever given. (Closures made in one
   * function share what they capture, hence this function of its own.)
   */
  private makeJob(exp: Export, source: BatchSource, name: string, request: ExportRequest, info: FormatInfo<unknown>, options: unknown): Job {
    const controller = new AbortController();
    const forwardAbort = (): void => controller.abort(request.signal?.reason);
    request.signal?.addEventListener('abort', forwardAbort, { once: true });
    const target: FileTarget = request.out ? this.targetAt(request.out, exp.id) : new StreamTarget(request.target as OpenWritable, this.tempDir);
    const progress = new Progress(this.progressInterval);
    progress.on('progress', (snap) => { exp.reportProgress(snap); this.emit('progress', exp, snap); });

    const run = async (): Promise<void> => {
      exp.markRunning();
      try {
        const encoder = await loadEncoder(info.format);
        const result = await runPipeline({
          source, table: request.table, tableName: name, encoder, options,
          gzip: info.compression?.(options) === 'gzip', target,
          maxFileSize: info.capabilities.splittable ? request.maxFileSize : undefined,
          maxRowsPerFile: info.capabilities.splittable ? request.maxRowsPerFile : undefined,
          signal: controller.signal, progress, tempDir: this.tempDir, workers: request.workers ?? this.workers,
          onPrepared: (table, prepared) => {
            if (!request.tableBase) exp.table = tableBase(table);
            exp.renames = prepared.renames;
          },
        });
        exp.warnings = [...unsplitWarnings(info, request), ...result.warnings];
        progress.complete();
        exp.markCompleted(result.files, result.rows);
      } catch (err) {
        const error = err instanceof ExportError ? err : new ExportError('INTERNAL', String(err));
        if (error.code === 'CANCELLED') exp.markCancelled(error.message);
        else exp.markFailed(error.message, error.code);
      }
    };
    void exp.done().then(() => {
      this.jobs.delete(exp.id);
      request.signal?.removeEventListener('abort', forwardAbort);
    });
    return { exp, run, controller };
  }

  /** A directory, or an object store (for an s3:// location the AWS SDK is loaded only then). */
  private targetAt(out: string | ObjectStore, id: string): FileTarget {
    if (typeof out !== 'string') return new StoreTarget(out, id, this.tempDir);
    return isS3Url(out) ? new StoreTarget(openStore(out), id, this.tempDir) : new DirectoryTarget(out, id);
  }

  get(id: string): Export | undefined {
    return this.exports.get(id);
  }

  list(): Export[] {
    return [...this.exports.values()];
  }

  /** Cancels a queued or running export; a finished one is left as it is. */
  cancel(id: string, reason?: string): Export | undefined {
    const job = this.jobs.get(id);
    if (job && !job.exp.finished) job.controller.abort(reason ? new Error(reason) : undefined);
    return this.exports.get(id);
  }

  /**
   * Drops a finished export (completed, failed or cancelled) from this Exporter, so a
   * long-running service does not hold every export it ever ran; its files stay where they are.
   * Returns false for an unknown id; throws INVALID_OPTION for an export still queued or running
   * (cancel it first).
   */
  forget(id: string): boolean {
    const exp = this.exports.get(id);
    if (!exp) return false;
    if (!exp.finished) {
      throw new ExportError('INVALID_OPTION', `export ${id} is ${exp.status}: only a finished export can be forgotten; cancel it first`, { format: exp.format });
    }
    this.exports.delete(id);
    this.jobs.delete(id);
    return true;
  }

  /** The files of a completed export: name, path, size, rows, MD5. */
  files(id: string): ExportedFile[] {
    return this.exports.get(id)?.files ?? [];
  }

  /** Resolves when every export created so far has ended. */
  async idle(): Promise<void> {
    await Promise.all([...this.exports.values()].map((e) => e.done()));
  }

  private dequeue(job: Job): void {
    const at = this.queue.indexOf(job);
    if (at < 0) return; // running: the pipeline sees the signal
    this.queue.splice(at, 1);
    job.exp.markCancelled('the export was cancelled before it started');
  }

  private pump(): void {
    while (this.running < this.concurrency && this.queue.length > 0) {
      const job = this.queue.shift() as Job;
      this.running += 1;
      void job.run().finally(() => {
        this.running -= 1;
        this.pump();
      });
    }
  }
}

/** dta and sav are always one file: split options given for them are ignored, and said so. */
function unsplitWarnings(info: FormatInfo<unknown>, request: ExportRequest): string[] {
  if (info.capabilities.splittable) return [];
  const given = (['maxFileSize', 'maxRowsPerFile'] as const).filter((key) => request[key] !== undefined);
  return given.length === 0 ? [] : [`${info.format} is always written as one file: ${given.join(' and ')} ignored`];
}

function checkResume(request: ExportRequest, format: string): void {
  const { createdAt, progressFloor } = request;
  if (createdAt !== undefined && !(Number.isSafeInteger(createdAt) && createdAt >= 0)) {
    throw new ExportError('INVALID_OPTION', `createdAt must be a time in ms since the epoch, got ${String(createdAt)}`, { format });
  }
  if (progressFloor !== undefined && !(Number.isFinite(progressFloor) && progressFloor >= 0 && progressFloor <= 100)) {
    throw new ExportError('INVALID_OPTION', `progressFloor must be a number from 0 to 100, got ${String(progressFloor)}`, { format });
  }
}

/**
 * Sizes are positive integers, and maxFileSize at least MIN_MAX_FILE_SIZE (1 MiB), for every
 * format: a request is valid or not whatever the format it names (dta and sav ignore the split).
 */
function checkSizes(request: ExportRequest, format: string): void {
  for (const key of ['maxFileSize', 'maxRowsPerFile'] as const) {
    const value = request[key];
    if (value !== undefined && (!Number.isSafeInteger(value) || value <= 0)) {
      throw new ExportError('INVALID_OPTION', `${key} must be a positive integer, got ${String(value)}`, { format });
    }
  }
  const floor = request.maxFileSize === undefined ? null : checkMaxFileSize(request.maxFileSize, format);
  if (floor) throw floor;
}

/** Runs one export to its end and returns it (completed, failed or cancelled; never throws for those). */
export async function exportTable(input: SourceInput, request: ExportRequest): Promise<Export> {
  return new Exporter({ concurrency: 1, workers: request.workers }).create(input, request).done();
}
