import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ExportError } from '../errors.js';
import type { Patch } from '../formats/protocol.js';
import { openPartOutput, type PartOutput, type PartResult } from './part-output.js';
import type { FileTarget, PartSpec } from './target.js';

/** Opens the destination of one part (e.g. an object-store upload stream). */
export type OpenWritable = (part: { index: number; extension: string }) => Writable | Promise<Writable>;

/**
 * Hands each part to a caller-supplied Writable. A part whose header may be patched at the end
 * (PreparedEncoder.patchesHeader: dta with strLs, sav with an unknown row count or zsav) cannot
 * be streamed to a destination that cannot seek, so it is written to a temporary file first and
 * copied out when complete; every other part goes straight on.
 */
export class StreamTarget implements FileTarget {
  private readonly streams: Writable[] = [];
  private readonly outputs: PartOutput[] = [];
  private tempDir: string | null = null;

  constructor(private readonly openWritable: OpenWritable, private readonly tmpRoot: string) {}

  async openPart(spec: PartSpec): Promise<PartOutput> {
    const dest = await this.openWritable({ index: spec.index, extension: spec.extension });
    this.streams.push(dest);
    if (!spec.patchable) {
      const output = openPartOutput(dest, spec.gzip);
      this.outputs.push(output);
      return output;
    }
    try {
      this.tempDir ??= await mkdtemp(join(this.tmpRoot, 'tabular-export-'));
    } catch (err) {
      throw new ExportError('TARGET_FAILED', `cannot make a temporary file in ${this.tmpRoot} for a part whose header is rewritten at the end: ${(err as Error).message}`, {}, { cause: err });
    }
    const path = join(this.tempDir, `part-${spec.index}.${spec.extension}`);
    const inner = openPartOutput(createWriteStream(path), spec.gzip, path);
    this.outputs.push(inner);
    return {
      get bytesWritten() { return inner.bytesWritten; },
      get fileBytes() { return inner.fileBytes; },
      get expectedBytes() { return inner.expectedBytes; },
      flush: () => inner.flush(),
      write: (bytes: Uint8Array) => inner.write(bytes),
      destroy: (err: Error) => inner.destroy(err),
      async close(patches: readonly Patch[]): Promise<PartResult> {
        const result = await inner.close(patches);
        await pipeline(createReadStream(path), dest);
        await rm(path, { force: true });
        return result;
      },
    };
  }

  async commit(names: readonly string[]): Promise<null[]> {
    await this.removeTemp();
    return names.map(() => null);
  }

  async abort(err: Error): Promise<void> {
    for (const output of this.outputs) output.destroy(err);
    for (const s of this.streams) {
      if (s.destroyed) continue;
      // The caller's stream learns why through its 'error' event; one nobody listens to (a
      // part that failed before its output was attached) must not become an uncaught error.
      if (s.listenerCount('error') === 0) s.on('error', () => undefined);
      s.destroy(err);
    }
    await this.removeTemp();
  }

  private async removeTemp(): Promise<void> {
    if (this.tempDir) await rm(this.tempDir, { recursive: true, force: true });
    this.tempDir = null;
  }
}
