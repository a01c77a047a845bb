import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { PartOutput } from '../sinks/part-output.js';
import { StreamTarget } from '../sinks/stream.js';
import type { FileTarget, PartSpec } from '../sinks/target.js';
import type { ObjectStore } from '../store/types.js';

/**
 * Where one attempt of a shard writes its parts: `<prefix><n>.<ext>` in the output store, the
 * prefix its own (`_temporary/<exportId>/shard-<i>/<attempt>/`). Commit publishes nothing: the
 * keys go back to the finalize job in the shard's return value, and only the keys of the attempt
 * BullMQ recorded as the shard's are published (another attempt, still writing after it lost its
 * lock, writes elsewhere). Abort stops the uploads and removes the attempt's prefix.
 */
export class ShardTarget implements FileTarget {
  private readonly inner: StreamTarget;
  private readonly uploads = new Set<Writable>();
  private extension = '';

  constructor(readonly store: ObjectStore, readonly prefix: string, tmpRoot: string) {
    this.inner = new StreamTarget((part) => this.openUpload(part.index, part.extension), tmpRoot);
  }

  openPart(spec: PartSpec): Promise<PartOutput> {
    return this.inner.openPart(spec);
  }

  private openUpload(index: number, extension: string): Writable {
    this.extension = extension;
    const upload = this.store.openWrite(this.keyOf(index));
    this.uploads.add(upload);
    upload.once('close', () => this.uploads.delete(upload));
    return upload;
  }

  /** The parts' keys, in order (the pipeline reports them as the files' paths). */
  async commit(names: readonly string[]): Promise<string[]> {
    await this.inner.commit(names);
    return names.map((_, i) => this.keyOf(i));
  }

  async abort(err: Error): Promise<void> {
    await this.inner.abort(err);
    await Promise.all([...this.uploads].map((upload) => (upload.closed ? undefined : once(upload, 'close').catch(() => undefined))));
    await this.store.deletePrefix(this.prefix).catch(() => undefined);
  }

  private keyOf(index: number): string {
    return `${this.prefix}${index}.${this.extension}`;
  }
}
