import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ExportError } from '../errors.js';
import { formatInfo } from '../formats/registry.js';
import type { ExportedFile } from '../pipeline/run.js';
import { describeCause } from '../sinks/target-error.js';
import { isPartName, partNames } from '../sinks/target.js';
import type { ObjectStore } from '../store/types.js';
import { safeFileName } from '../table/validate.js';
import { tempPrefixOf, type JobContext, type ShardResult } from './shard-job.js';
import type { ExportSpec } from './state.js';

/** Parts published at once (server-side copies on S3). */
const PUBLISH_AT_ONCE = 8;

export interface FinalizeJobData {
  exportId: string;
}

/** What BullMQ knows of the shards once the last has ended: their results, and the failures it recorded. */
export interface ShardOutcomes {
  results: ShardResult[];
  failures: string[];
}

/**
 * The parent job of an export's flow, run once every shard has ended (completed, or failed and
 * recorded as an ignored dependency). It publishes the shards' parts under their final names
 * and completes the export, or — the export failed or was cancelled — removes every temporary.
 * Either way the `_temporary/<id>/` prefix is gone afterwards.
 */
export async function runFinalize(ctx: JobContext, data: FinalizeJobData, outcomes: ShardOutcomes): Promise<{ status: string; ms: number }> {
  const started = performance.now();
  const status = await finalize(ctx, data, outcomes);
  return { status, ms: Math.round(performance.now() - started) };
}

async function finalize(ctx: JobContext, data: FinalizeJobData, outcomes: ShardOutcomes): Promise<string> {
  const { exportId } = data;
  const state = await ctx.state.read(exportId);
  if (!state) return 'gone';
  const out = ctx.storeAt(state.spec.out);
  const temp = tempPrefixOf(exportId);
  try {
    if (outcomes.failures.length > 0 && state.status === 'running') {
      // A shard that failed without saying why itself (its worker stalled too often, a lost lock).
      await ctx.state.fail(exportId, `a shard of the export failed: ${outcomes.failures[0]}`, 'INTERNAL');
    }
    if (outcomes.failures.length > 0 || state.status !== 'running' && state.status !== 'queued') {
      return (await ctx.state.status(exportId)) ?? 'gone';
    }
    const results = outcomes.results.filter((r) => !r.skipped).sort((a, b) => a.index - b.index);
    if (results.length !== state.spec.shardCount || results.some((r, i) => r.index !== i)) {
      await ctx.state.fail(exportId, `${results.length} of the export's ${state.spec.shardCount} shards reported their files`, 'INTERNAL');
      return 'failed';
    }
    let files: ExportedFile[];
    try {
      files = state.spec.mode === 'concat' && results.length > 1 ? [await concatenate(out, state.spec, results)] : await publishParts(out, state.spec, results);
    } catch (err) {
      const error = err instanceof ExportError ? err : new ExportError('TARGET_FAILED', `${state.spec.format}: storing the export's files failed: ${describeCause(err)}`);
      await ctx.state.fail(exportId, error.message, error.code);
      throw error;
    }
    if (!(await ctx.state.complete(exportId, files))) {
      // Cancelled while its files were being published: they go.
      await out.delete(files.map((f) => f.name)).catch(() => undefined);
    }
    return (await ctx.state.status(exportId)) ?? 'gone';
  } finally {
    await out.deletePrefix(temp).catch(() => undefined);
  }
}

function baseAndExtension(spec: ExportSpec): { base: string; extension: string } {
  return { base: safeFileName(spec.name), extension: formatInfo(spec.format).extension(spec.options) };
}

/** Each shard's parts, in shard order, under `<table>-000000.<ext>`, … (or `<table>.<ext>` alone). */
async function publishParts(out: ObjectStore, spec: ExportSpec, results: ShardResult[]): Promise<ExportedFile[]> {
  const { base, extension } = baseAndExtension(spec);
  const parts = results.flatMap((r) => r.parts);
  const names = partNames(base, extension, parts.length);
  await removeEarlierParts(out, names, base, extension);
  for (let i = 0; i < parts.length; i += PUBLISH_AT_ONCE) {
    await Promise.all(parts.slice(i, i + PUBLISH_AT_ONCE).map((p, j) => publishOnce(out, p.key, names[i + j], p.size)));
  }
  return parts.map((p, i) => ({ name: names[i], path: out.locate(names[i]), size: p.size, rows: p.rows, md5: p.md5 }));
}

/**
 * csv and jsonl: the shards' bytes joined into one file (only the first shard wrote a header),
 * read back and hashed on the way, since an MD5 cannot be combined from the shards' own.
 */
async function concatenate(out: ObjectStore, spec: ExportSpec, results: ShardResult[]): Promise<ExportedFile> {
  const { base, extension } = baseAndExtension(spec);
  const [name] = partNames(base, extension, 1);
  const key = `${tempPrefixOf(spec.id)}joined/${name}`;
  const hash = createHash('md5');
  let size = 0;
  async function* joined(): AsyncGenerator<Uint8Array> {
    for (const result of results) {
      for (const part of result.parts) {
        const reader = await out.openRead(part.key).open();
        try {
          for await (const chunk of reader.stream(0, reader.size)) {
            hash.update(chunk);
            size += chunk.byteLength;
            yield chunk;
          }
        } finally {
          await reader.close();
        }
      }
    }
  }
  await pipeline(Readable.from(joined()), out.openWrite(key));
  await removeEarlierParts(out, [name], base, extension);
  await out.publish(key, name);
  const rows = results.reduce((n, r) => n + r.rows, 0);
  return { name, path: out.locate(name), size, rows, md5: hash.digest('hex') };
}

/**
 * Publishes a part, or finds it published already: a finalize job that ran again (its worker
 * died mid-publish, BullMQ gave it to another) meets parts whose temporary key is gone and whose
 * final name holds their bytes.
 */
async function publishOnce(out: ObjectStore, from: string, to: string, size: number): Promise<void> {
  try {
    await out.publish(from, to);
  } catch (err) {
    const [source, target] = await Promise.all([out.stat(from), out.stat(to)]);
    if (source === null && target?.size === size) return;
    throw err;
  }
}

/** Files of an earlier export of the same name not among the new ones: removed, so the output never reads as a mix. */
async function removeEarlierParts(out: ObjectStore, names: readonly string[], base: string, extension: string): Promise<void> {
  const ours = new Set(names);
  const earlier: string[] = [];
  for await (const { key } of out.list('', { shallow: true })) {
    if (!key.includes('/') && !ours.has(key) && isPartName(key, base, extension)) earlier.push(key);
  }
  if (earlier.length > 0) await out.delete(earlier);
}
