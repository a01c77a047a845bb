import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { ObjectStore } from '../store/types.js';
import type { PartOutput } from './part-output.js';
import { StreamTarget } from './stream.js';
import { targetFailed } from './target-error.js';
import { isPartName, type FileTarget, type PartSpec } from './target.js';

/** Parts published at once at commit (server-side copies on S3). */
const PUBLISH_AT_ONCE = 8;

export interface StoreTargetOptions {
  /**
   * Where the parts are written until commit, a key prefix ending in `/`. Default
   * `_temporary/<exportId>/`: a name data tools skip (Spark, Hive), and one prefix to remove
   * whatever happens. A distributed run gives each attempt of a shard its own.
   */
  tempPrefix?: string;
}

/**
 * Writes an export's parts into an ObjectStore (an S3 bucket and prefix, a shared directory):
 * each part under a temporary key (`_temporary/<exportId>/<n>.<ext>`), streamed as it is
 * encoded (S3: a multipart upload), and published under its final name only when every part
 * is done. A failed or cancelled export leaves nothing: abort stops the uploads, waits until
 * none is in flight (multipart uploads aborted) and removes every temporary key, and any
 * final key a cut-short commit had published.
 *
 * Parts whose header is patched at the end (dta with strLs, sav with an unknown row count or
 * zsav) go through a local temporary file first, as for a StreamTarget, which this target uses
 * for the writing: what it adds is where the bytes go and the publishing.
 *
 * Publishing is one copy per part (S3 has no rename): a reader listing the prefix during a
 * commit may see some new parts and not others; after it, the prefix holds exactly this
 * export's parts (those of an earlier export of the same name beyond the new count removed).
 */
export class StoreTarget implements FileTarget {
  private readonly inner: StreamTarget;
  private readonly tempPrefix: string;
  /** Part writers whose objects may still be in flight (until their 'close'). */
  private readonly uploads = new Set<Writable>();
  private extension = '';
  /** The final names given at commit, and which of them are published already. */
  private finals: readonly string[] = [];
  private published: Uint8Array = new Uint8Array(0);
  replaced: string[] = [];

  constructor(readonly store: ObjectStore, exportId: string, tmpRoot: string, options: StoreTargetOptions = {}) {
    this.tempPrefix = options.tempPrefix ?? `_temporary/${exportId}/`;
    this.inner = new StreamTarget((part) => this.openUpload(part.index, part.extension), tmpRoot);
  }

  openPart(spec: PartSpec): Promise<PartOutput> {
    return this.inner.openPart(spec);
  }

  private openUpload(index: number, extension: string): Writable {
    this.extension = extension;
    const upload = this.store.openWrite(this.tempKey(index));
    this.uploads.add(upload);
    upload.once('close', () => this.uploads.delete(upload));
    return upload;
  }

  async commit(names: readonly string[], base: string, extension: string): Promise<string[]> {
    await this.inner.commit(names);
    const ours = new Set(names);
    const earlier: string[] = [];
    try {
      for await (const { key } of this.store.list('', { shallow: true })) {
        if (!key.includes('/') && isPartName(key, base, extension)) earlier.push(key);
      }
    } catch (err) {
      throw targetFailed(`listing ${this.store.location} to store ${names[0]}`, err);
    }
    this.finals = names;
    this.published = new Uint8Array(names.length);
    for (let i = 0; i < names.length; i += PUBLISH_AT_ONCE) {
      const batch = names.slice(i, i + PUBLISH_AT_ONCE).map(async (name, j) => {
        await this.store.publish(this.tempKey(i + j), name).catch((err: unknown) => { throw targetFailed(`storing ${name} under its final name`, err); });
        this.published[i + j] = 1;
      });
      await Promise.all(batch);
    }
    // Files of an earlier export of the same name: those beyond the new count go, so the prefix
    // never reads as one dataset of old and new parts; all are reported (as DirectoryTarget does).
    const beyond = earlier.filter((key) => !ours.has(key));
    if (beyond.length > 0) {
      await this.store.delete(beyond).catch((err: unknown) => { throw targetFailed(`removing ${beyond[0]} of an earlier export`, err); });
    }
    this.replaced.push(...earlier);
    // Every part has its final key: the temporaries left by the copies go (best effort; an
    // export is complete once its parts are published).
    await this.store.deletePrefix(this.tempPrefix).catch(() => undefined);
    return names.map((name) => this.store.locate(name));
  }

  async abort(err: Error): Promise<void> {
    await this.inner.abort(err);
    // inner.abort destroyed every writer still open; each emits 'close' once its upload has
    // settled, so after this no part can still land under a temporary key.
    await Promise.all([...this.uploads].map((upload) => (upload.closed ? undefined : once(upload, 'close').catch(() => undefined))));
    const finals = this.finals.filter((_, i) => this.published[i] === 1);
    await Promise.all([
      this.store.deletePrefix(this.tempPrefix).catch(() => undefined),
      finals.length > 0 ? this.store.delete(finals).catch(() => undefined) : undefined,
    ]);
  }

  private tempKey(index: number): string {
    return `${this.tempPrefix}${index}.${this.extension}`;
  }
}
