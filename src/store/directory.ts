import { createReadStream, createWriteStream, mkdirSync } from 'node:fs';
import type { Dirent } from 'node:fs';
import { mkdir, open, readdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import type { Writable } from 'node:stream';
import { fileReadAt } from '../sources/ipc-input.js';
import type { RandomAccessInput, RandomAccessReader } from '../sources/random-access.js';
import type { ObjectStore, StoredObject } from './types.js';

/** Files removed at once by deletePrefix: enough to keep the disk busy, few enough for the thread pool. */
const REMOVE_AT_ONCE = 64;

/**
 * A local or shared directory (any path every worker mounts) as an ObjectStore: a key is a
 * path below the directory, publishing is a rename within it (atomic on one POSIX file system).
 */
export class DirectoryStore implements ObjectStore {
  constructor(readonly location: string) {}

  locate(key: string): string {
    return join(this.location, ...key.split('/'));
  }

  async *list(prefix: string, options: { shallow?: boolean } = {}): AsyncIterable<StoredObject> {
    // Walk only the directory the prefix is in: `_temporary/abc/` starts at that folder.
    const cut = prefix.lastIndexOf('/');
    const dirKey = cut < 0 ? '' : prefix.slice(0, cut + 1);
    yield* this.walk(dirKey, prefix, options.shallow === true);
  }

  private async *walk(dirKey: string, prefix: string, shallow: boolean): AsyncGenerator<StoredObject> {
    let entries: Dirent[];
    try {
      entries = await readdir(this.locate(dirKey), { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for (const entry of entries) {
      const key = `${dirKey}${entry.name}`;
      if (entry.isDirectory()) {
        if (!shallow && (key.startsWith(prefix) || prefix.startsWith(`${key}/`))) yield* this.walk(`${key}/`, prefix, false);
      } else if (entry.isFile() && key.startsWith(prefix)) {
        const found = await this.stat(key);
        if (found) yield found;
      }
    }
  }

  async stat(key: string): Promise<StoredObject | null> {
    try {
      const info = await stat(this.locate(key));
      return info.isFile() ? { key, size: info.size, modified: info.mtimeMs } : null;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  openRead(key: string): RandomAccessInput {
    const path = this.locate(key);
    return { kind: 'random-access', name: posix.basename(key), open: () => openFileReader(path) };
  }

  openWrite(key: string): Writable {
    const path = this.locate(key);
    mkdirSync(dirname(path), { recursive: true });
    return createWriteStream(path);
  }

  async publish(from: string, to: string): Promise<void> {
    const target = this.locate(to);
    await mkdir(dirname(target), { recursive: true });
    await rename(this.locate(from), target);
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += REMOVE_AT_ONCE) {
      await Promise.all(keys.slice(i, i + REMOVE_AT_ONCE).map((key) => rm(this.locate(key), { force: true })));
    }
  }

  async deletePrefix(prefix: string): Promise<number> {
    const keys: string[] = [];
    for await (const { key } of this.list(prefix)) keys.push(key);
    await this.delete(keys);
    // A prefix that names a folder (`_temporary/<id>/`) goes with its files and the folders
    // below it, and so do the folders above it that it leaves empty, up to the store's root.
    if (prefix.endsWith('/')) {
      await rm(this.locate(prefix.slice(0, -1)), { recursive: true, force: true });
      await this.removeEmptyDirs(posix.dirname(prefix.slice(0, -1)));
    }
    return keys.length;
  }

  private async removeEmptyDirs(dirKey: string): Promise<void> {
    for (let key = dirKey; key !== '' && key !== '.'; key = posix.dirname(key)) {
      const gone = await rmdir(this.locate(key)).then(() => true, (err: NodeJS.ErrnoException) => err.code === 'ENOENT');
      if (!gone) return; // not empty (or not ours to remove): the folders above are not empty either
    }
  }
}

/** Positioned reads of a local file; the in-order stream is a read stream of the range. */
async function openFileReader(path: string): Promise<RandomAccessReader> {
  const handle: FileHandle = await open(path, 'r');
  let size: number;
  try {
    size = (await handle.stat()).size;
  } catch (err) {
    await handle.close();
    throw err;
  }
  let closed: Promise<void> | null = null;
  return {
    size,
    read: fileReadAt(handle, size),
    stream: (start, end) => createReadStream(path, { start, end: end - 1, highWaterMark: 1 << 20 }),
    close: () => (closed ??= handle.close()),
  };
}
