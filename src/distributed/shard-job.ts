import { randomUUID } from 'node:crypto';
import { ExportError } from '../errors.js';
import { formatInfo, loadEncoder } from '../formats/registry.js';
import { Progress } from '../pipeline/progress.js';
import { runPipeline } from '../pipeline/run.js';
import type { ObjectStore } from '../store/types.js';
import { piecesSource } from './pieces-source.js';
import type { Piece } from './plan.js';
import { ShardTarget } from './shard-target.js';
import { isFinal, type ExportSpec, type StateStore } from './state.js';

/** A shard job's data: small, the export's spec is read from Redis. */
export interface ShardJobData {
  exportId: string;
  index: number;
  pieces: Piece[];
}

/** What a shard hands the finalize job (kept by BullMQ in the parent's processed hash: small). */
export interface ShardResult {
  index: number;
  /** Set when the shard did nothing, its export having ended before it started. */
  skipped?: boolean;
  rows: number;
  parts: { key: string; size: number; rows: number; md5: string }[];
}

/** What the jobs of one worker process share. */
export interface JobContext {
  state: StateStore;
  /** The store at a location, opened once per process. */
  storeAt(location: string): ObjectStore;
  /** Shards running here, by export, so a cancel message stops them at once. */
  running: Map<string, Set<AbortController>>;
  tempDir: string;
  /** Threads each shard encodes with. */
  threads: number;
}

/** How often a running shard reports its rows, and checks its export has not ended (should a cancel message be missed). */
const REPORT_MS = 500;

/** The temporary prefix of every shard attempt and of the assembled files of an export. */
export function tempPrefixOf(exportId: string): string {
  return `_temporary/${exportId}/`;
}

/** Why a shard stopped without failing: its export was cancelled or failed elsewhere. */
export class ShardStopped extends Error {}

/** A shard that failed in a way another attempt may not (BullMQ retries it after a backoff). */
export class ShardRetry extends Error {}

/**
 * Failures that may pass: the output store (TARGET_FAILED: a connection reset, S3's SlowDown),
 * reading the source (SOURCE_FAILED: a ranged GET that failed; a damaged file fails again, only
 * later), and the unexpected. A table's values or schema never change by trying again.
 */
const MAY_PASS: ReadonlySet<string> = new Set(['TARGET_FAILED', 'SOURCE_FAILED', 'INTERNAL']);

/** Attempts of a shard job (BullMQ `attempts`), with an exponential backoff from SHARD_BACKOFF_MS. */
export const SHARD_ATTEMPTS = 2;
export const SHARD_BACKOFF_MS = 1000;

/**
 * Runs one shard: the export's pipeline over the shard's pieces, its parts written under a
 * prefix of this attempt's own. A cancel (the export's status, a message on the cancel channel,
 * BullMQ's signal) stops it within about REPORT_MS. A failure fails the whole export with its
 * cause at once and tells the other shards to stop; the finalize job removes the temporaries.
 */
export async function runShard(ctx: JobContext, data: ShardJobData, signal?: AbortSignal, lastAttempt = true): Promise<ShardResult> {
  const { exportId, index, pieces } = data;
  const state = await ctx.state.read(exportId);
  if (!state || isFinal(state.status)) return { index, skipped: true, rows: 0, parts: [] };
  const { spec } = state;
  await ctx.state.transition(exportId, 'running');

  const controller = new AbortController();
  const stop = (why: string): void => { if (!controller.signal.aborted) controller.abort(new ShardStopped(why)); };
  const onSignal = (): void => stop('the job was cancelled');
  signal?.addEventListener('abort', onSignal, { once: true });
  const mine = ctx.running.get(exportId) ?? new Set<AbortController>();
  ctx.running.set(exportId, mine.add(controller));

  let reported = 0;
  let rows = 0;
  const report = async (): Promise<void> => {
    if (rows > reported) {
      reported = rows;
      await ctx.state.reportRows(exportId, index, rows);
    }
  };
  const timer = setInterval(() => {
    void report().catch(() => undefined);
    void ctx.state.status(exportId).then((s) => { if (s === null || isFinal(s)) stop(`the export is ${s ?? 'gone'}`); }, () => undefined);
  }, REPORT_MS);

  const tables = ctx.storeAt(spec.tables);
  const out = ctx.storeAt(spec.out);
  const target = new ShardTarget(out, `${tempPrefixOf(exportId)}shard-${index}/${randomUUID().slice(0, 8)}/`, ctx.tempDir);
  const progress = new Progress(REPORT_MS);
  progress.on('progress', (snap: { rows: number }) => { rows = snap.rows; });
  try {
    const info = formatInfo(spec.format);
    const options = shardOptions(spec, index);
    const encoder = await loadEncoder(spec.format);
    const result = await runPipeline({
      source: piecesSource(tables, pieces, spec.name), tableName: spec.name, encoder, options,
      gzip: info.compression?.(options) === 'gzip', target,
      maxFileSize: info.capabilities.splittable ? spec.maxFileSize : undefined,
      maxRowsPerFile: info.capabilities.splittable ? spec.maxRowsPerFile : undefined,
      signal: controller.signal, progress, tempDir: ctx.tempDir, workers: ctx.threads,
    });
    rows = result.rows;
    await report();
    return { index, rows: result.rows, parts: result.files.map((f) => ({ key: f.path as string, size: f.size, rows: f.rows, md5: f.md5 })) };
  } catch (err) {
    if (controller.signal.aborted) throw new ShardStopped((controller.signal.reason as Error).message);
    const error = err instanceof ExportError ? err : new ExportError('INTERNAL', String(err));
    // A store or a network that failed may not fail again: BullMQ runs the shard once more.
    if (!lastAttempt && MAY_PASS.has(error.code)) throw new ShardRetry(error.message);
    // The first shard to fail names the cause; the others are stopped rather than left to run.
    await ctx.state.fail(exportId, error.message, error.code);
    await ctx.state.stopShards(exportId);
    throw error;
  } finally {
    clearInterval(timer);
    signal?.removeEventListener('abort', onSignal);
    mine.delete(controller);
    if (mine.size === 0) ctx.running.delete(exportId);
  }
}

/**
 * The format's options for one shard. csv and jsonl shards joined into one file: only the
 * first shard writes what a file starts with (the csv header and byte order mark).
 */
export function shardOptions(spec: ExportSpec, index: number): unknown {
  const options = reviveDates(spec.format, spec.options);
  if (spec.mode !== 'concat' || index === 0 || spec.format !== 'csv') return options;
  return { ...(options as object), header: false, bom: false };
}

/** The options' Date fields (dta `timestamp`, sav `now`) came through Redis as JSON text. */
function reviveDates(format: string, options: unknown): unknown {
  const field = format === 'dta' ? 'timestamp' : format === 'sav' ? 'now' : null;
  if (field === null || typeof options !== 'object' || options === null) return options;
  const value = (options as Record<string, unknown>)[field];
  return typeof value === 'string' ? { ...options, [field]: new Date(value) } : options;
}
