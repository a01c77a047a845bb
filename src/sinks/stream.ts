import { createReadStream, type WriteStream } from 'node:fs';
import { mkdir, open, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ExportError } from '../errors.js';
import { tempName } from '../temp-files.js';
import { openPartOutput, withClose, type PartOutput } from './part-output.js';
import { describeCause, targetFailed } from './target-error.js';
import type { FileTarget, PartSpec } from './target.js';

/** A part being written: the caller's stream, our output once made, and the temporary file of a patched part. */
interface WritingPart {
  dest: Writable;
  output?: PartOutput;
  file?: WriteStream;
}

/** Opens the destination of one part (e.g. an object-store upload stream). */
export type OpenWritable = (part: { index: number; extension: string }) => Writable | Promise<Writable>;

/**
 * Hands each part to a caller-supplied Writable. A part whose header may be patched at the end
 * (PreparedEncoder.patchesHeader: dta with strLs, sav with an unknown row count or zsav) cannot
 * be streamed to a destination that cannot seek, so it is written to a temporary file first and
 * copied out when complete; every other part goes straight on.
 */
export class StreamTarget implements FileTarget {
  /**
   * Parts being written: the caller's stream, and our output once made. A closed part is
   * forgotten, so memory does not grow with the part count (issue #11).
   */
  private readonly writing = new Set<WritingPart>();
  private tempDir: string | null = null;
  /** Set by abort(): a part opened after it is given up at once. */
  private aborted = false;
  /** The temporary file being made, if any (settles, never rejects). */
  private opening: Promise<void> | null = null;

  constructor(private readonly openWritable: OpenWritable, private readonly tmpRoot: string) {}

  async openPart(spec: PartSpec): Promise<PartOutput> {
    const { name, gzip } = spec;
    let dest: Writable;
    try {
      dest = await this.openWritable({ index: spec.index, extension: spec.extension });
    } catch (err) {
      throw targetFailed(`opening ${name}`, err);
    }
    if (this.aborted) {
      // Given after the export stopped: abort() has passed this stream by.
      quietlyDestroy(dest, new Error('the export stopped'));
      throw targetFailed(`opening ${name}`, new Error('the export stopped'));
    }
    const part: WritingPart = { dest };
    this.writing.add(part);
    if (!spec.patchable) {
      const output = openPartOutput(dest, { gzip, name, hashOffThread: spec.hashOffThread });
      part.output = output;
      return withClose(output, async (patches) => {
        const result = await output.close(patches);
        this.writing.delete(part);
        return result;
      });
    }
    const opening = this.openTemp(spec);
    this.opening = opening.then(() => undefined, () => undefined);
    const temp = await opening;
    // Until the copy at close, failures are the temporary file's: say so.
    part.file = temp.handle.createWriteStream();
    const inner = openPartOutput(part.file, { gzip, name: `${name} in the temporary directory`, patchPath: temp.path, hashOffThread: spec.hashOffThread, localFile: true });
    part.output = inner;
    return withClose(inner, async (patches) => {
      const result = await inner.close(patches);
      try {
        await pipeline(createReadStream(temp.path), dest);
        await rm(temp.path, { force: true });
      } catch (err) {
        throw targetFailed(`writing ${name}`, err);
      }
      this.writing.delete(part);
      return result;
    });
  }

  /**
   * Creates the part's temporary file, opened at once; abort() waits for this, so what it
   * creates is there to be removed. Messages say "the temporary directory", not its path (a
   * server's).
   */
  private async openTemp(spec: PartSpec): Promise<{ path: string; handle: FileHandle }> {
    const what = `cannot make a temporary file for ${spec.name}, a part whose header is rewritten at the end, in the temporary directory (tempDir)`;
    try {
      this.tempDir ??= await makeTempDir(this.tmpRoot);
      const path = join(this.tempDir, `part-${spec.index}.${spec.extension}`);
      const handle = await open(path, 'w');
      if (this.aborted) {
        await handle.close();
        throw new Error('the export stopped');
      }
      return { path, handle };
    } catch (err) {
      throw new ExportError('TARGET_FAILED', `${what}: ${describeCause(err)}`, {}, { cause: err });
    }
  }

  async commit(names: readonly string[]): Promise<null[]> {
    await this.removeTemp();
    return names.map(() => null);
  }

  async abort(err: Error): Promise<void> {
    this.aborted = true;
    await this.opening;
    const parts = [...this.writing];
    this.writing.clear();
    await Promise.all(parts.map(async ({ dest, output, file }) => {
      output?.destroy(err);
      quietlyDestroy(dest, err);
      // The temporary file's descriptor is ours: released before abort() resolves.
      if (file && !file.closed) await new Promise<void>((resolve) => file.once('close', () => resolve()));
    }));
    await this.removeTemp();
  }

  private async removeTemp(): Promise<void> {
    if (this.tempDir) await rm(this.tempDir, { recursive: true, force: true });
    this.tempDir = null;
  }
}

/**
 * The caller's stream learns why through its 'error' event; one nobody listens to (a part that
 * failed before its output was attached) must not become an uncaught error.
 */
function quietlyDestroy(stream: Writable, err: Error): void {
  if (stream.destroyed) return;
  if (stream.listenerCount('error') === 0) stream.on('error', () => undefined);
  stream.destroy(err);
}

/** The directory of a stream target's patched parts: private to this user, named so a later start can sweep it (temp-files.ts). */
async function makeTempDir(root: string): Promise<string> {
  const dir = join(root, tempName('parts'));
  await mkdir(dir, { mode: 0o700 });
  return dir;
}
