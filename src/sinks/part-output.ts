import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Transform, Writable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { constants as zlibConstants, createGzip } from 'node:zlib';
import { ExportError } from '../errors.js';
import type { ByteSink, Patch } from '../formats/protocol.js';
import { localMd5, offThreadMd5, type Md5 } from '../parallel/md5.js';
import { recycle } from '../parallel/recycle.js';
import { targetFailed } from './target-error.js';

export interface PartResult {
  /** Bytes of the finished file as stored (after compression). */
  size: number;
  md5: string;
}

/** One file of an export being written: a ByteSink for the encoder plus its life cycle. */
export interface PartOutput extends ByteSink {
  /** Bytes that reached the destination so far (compressed size when gzip is on). */
  readonly fileBytes: number;
  /**
   * The size the file will have for the bytes accepted so far, before they all reach it: exact
   * without gzip; with gzip, the bytes accepted at the compression ratio so far.
   */
  readonly expectedBytes: number;
  /** With gzip, makes zlib emit what it holds (a sync flush), so the compression ratio is known. */
  flush(): Promise<void>;
  /** Ends the file, applies header patches, and reports its size and MD5. */
  close(patches: readonly Patch[]): Promise<PartResult>;
  /** Stops writing after a failure or cancel; the target removes what was written. */
  destroy(err: Error): void;
}

/** Bytes accepted ahead of the MD5 thread and the file when hashing off the calling thread. */
const OFF_THREAD_BUFFER = 8 << 20;

/** Counts and hashes the bytes on their way to the destination. */
class Tap extends Transform {
  bytes = 0;

  constructor(readonly hash: Md5, highWaterMark?: number) {
    super(highWaterMark === undefined ? {} : { writableHighWaterMark: highWaterMark });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null, data?: Buffer) => void): void {
    this.bytes += chunk.length;
    const wait = this.hash.update(chunk);
    if (wait === null) cb(null, chunk);
    else wait.then(() => cb(null, chunk), cb);
  }
}

export interface PartOutputOptions {
  gzip: boolean;
  /** The file's name as the user will see it (`survey.csv`), for error messages. */
  name: string;
  /** dest is this local file, which close() patches in place (the encoder's header rewrites). */
  patchPath?: string;
  /** Take the MD5 on the hashing thread (an export with workers > 1) rather than on this one. */
  hashOffThread?: boolean;
  /**
   * dest is a local file this library opened (not a caller's Writable, which may keep the
   * bytes): chunk buffers go back to their exports once written (parallel/recycle.ts).
   */
  localFile?: boolean;
}

/**
 * Streams encoder bytes to `dest`, through gzip when asked, with backpressure: write()
 * resolves when the chain accepts more. When `patchPath` is given, dest is that local file
 * and close() rewrites the patched ranges in place, then hashes the file again. Every failure
 * of the destination becomes TARGET_FAILED naming the file and the system's reason.
 */
export function openPartOutput(dest: Writable, options: PartOutputOptions): PartOutput {
  const { gzip, name, patchPath } = options;
  // Off the calling thread, a chunk waits for its MD5 before it goes on to the file: room for a
  // few MB of chunks here lets the encoder go on meanwhile (a write waited for each before).
  const tap = options.hashOffThread ? new Tap(offThreadMd5(), OFF_THREAD_BUFFER) : new Tap(localMd5());
  const zip = gzip ? createGzip() : null;
  const head: Writable = zip ?? tap;
  const last = options.localFile ? recyclingFile(dest) : dest;
  const stages = zip ? [zip, tap, last] : [tap, last];
  let failure: Error | null = null;
  const done = pipeline(stages as [Transform, ...Writable[]]).catch((err: unknown) => {
    failure ??= targetFailed(`writing ${name}`, err);
    throw failure;
  });
  done.catch(() => undefined); // observed through write()/close()
  let bytesWritten = 0;
  /** Input taken and output given by zlib at the last flush, when the two were level. */
  let syncIn = 0;
  let syncOut = 0;

  const waitDrain = (): Promise<void> => new Promise<void>((resolve, reject) => {
    const onDrain = (): void => { cleanup(); resolve(); };
    // When the destination fails, the chain closes before the pipeline settles with the
    // reason: wait for that reason rather than report a bare "closed" (issue #10).
    const onClose = (): void => {
      cleanup();
      if (failure) reject(failure);
      else done.then(() => reject(targetFailed(`writing ${name}`, new Error('the output closed before the file was complete'))), reject);
    };
    const cleanup = (): void => { head.off('drain', onDrain); head.off('close', onClose); };
    head.on('drain', onDrain);
    head.on('close', onClose);
  });

  return {
    get bytesWritten() { return bytesWritten; },
    get fileBytes() { return tap.bytes; },
    get expectedBytes() {
      if (!zip) return bytesWritten;
      // zlib's output lags its input, so the ratio is taken where they were level (the last
      // flush) and applied to all accepted since; before any flush, only what came out is known.
      if (syncIn === 0) return tap.bytes;
      return Math.max(tap.bytes, Math.round(syncOut + (bytesWritten - syncIn) * (syncOut / syncIn)));
    },
    async write(bytes: Uint8Array): Promise<void> {
      if (failure) throw failure;
      if (bytes.length === 0) return;
      bytesWritten += bytes.length;
      if (!head.write(bytes)) await Promise.race([waitDrain(), done]);
    },
    async flush(): Promise<void> {
      if (!zip || failure) return;
      await new Promise<void>((resolve) => zip.flush(zlibConstants.Z_SYNC_FLUSH, () => resolve()));
      // The flushed bytes reach the tap through the pipe in a later turn.
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (zip.writableLength === 0) {
        syncIn = bytesWritten;
        syncOut = tap.bytes;
      }
    },
    async close(patches: readonly Patch[]): Promise<PartResult> {
      head.end();
      await done;
      if (patches.length === 0) {
        try {
          return { size: tap.bytes, md5: await tap.hash.digest() };
        } catch (err) {
          throw (failure ??= err instanceof ExportError ? err : targetFailed(`hashing ${name}`, err));
        }
      }
      tap.hash.dispose();
      if (!patchPath) {
        // Only a source giving other rows than the table declares gets here (PreparedEncoder.patchesHeader).
        throw new ExportError('SCHEMA_MISMATCH', 'the header, written first, turned out wrong at the end (the source did not give the rows the table declares), and a stream target cannot rewrite it');
      }
      try {
        await applyPatches(patchPath, patches);
      } catch (err) {
        throw (failure ??= targetFailed(`rewriting the header of ${name}`, err));
      }
      try {
        return { size: tap.bytes, md5: await hashFile(patchPath) };
      } catch (err) {
        throw (failure ??= targetFailed(`reading back ${name} for its MD5`, err));
      }
    },
    destroy(err: Error): void {
      failure ??= err;
      tap.hash.dispose();
      head.destroy(err);
      dest.destroy(err);
    },
  };
}

/**
 * Passes chunks on to a local file's stream and recycles each chunk's buffer once the file has
 * written it (the stream's per-write callback), so buffers go round instead of being made anew.
 */
function recyclingFile(file: Writable): Writable {
  const onward = new Writable({
    highWaterMark: file.writableHighWaterMark,
    write(chunk: Buffer, _encoding, cb) {
      if (file.write(chunk, (err) => { if (!err) recycle(chunk); })) cb();
      else file.once('drain', () => cb());
    },
    final(cb) {
      file.end();
      finished(file).then(() => cb(), cb);
    },
    destroy(err, cb) {
      file.destroy(err ?? undefined);
      cb(err);
    },
  });
  file.on('error', (err) => onward.destroy(err));
  file.on('close', () => { if (!file.writableFinished) onward.destroy(new Error('the file closed before it was complete')); });
  return onward;
}

/**
 * `inner` with another close(), the rest passed through: how a target learns that a part is
 * finished (to forget it) or adds a step after it (a copy out of a temporary file).
 */
export function withClose(inner: PartOutput, close: (patches: readonly Patch[]) => Promise<PartResult>): PartOutput {
  return {
    get bytesWritten() { return inner.bytesWritten; },
    get fileBytes() { return inner.fileBytes; },
    get expectedBytes() { return inner.expectedBytes; },
    flush: () => inner.flush(),
    write: (bytes: Uint8Array) => inner.write(bytes),
    destroy: (err: Error) => inner.destroy(err),
    close,
  };
}

export async function applyPatches(path: string, patches: readonly Patch[]): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    for (const p of patches) await handle.write(p.bytes, 0, p.bytes.length, p.position);
  } finally {
    await handle.close();
  }
}

export async function hashFile(path: string): Promise<string> {
  const hash = createHash('md5');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
