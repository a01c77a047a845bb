import type { WriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { openPartOutput, withClose, type PartOutput } from './part-output.js';
import { targetFailed } from './target-error.js';
import { isPartName, type FileTarget, type PartSpec } from './target.js';

/** A part being written: the only parts the target holds anything of but their number. */
interface OpenFile {
  output: PartOutput;
  stream: WriteStream;
}

/** Files removed at once by abort(): enough to keep the disk busy, few enough for the thread pool. */
const REMOVE_AT_ONCE = 64;

/**
 * Writes parts into a local directory under hidden temporary names (`.<id>-<n>.<ext>.partial`)
 * and renames them to their final names only when the export completes, so a failed or
 * cancelled export leaves no file that looks complete. A completed export replaces the files
 * an earlier export of the same table and format left in the directory: same names are
 * overwritten, and parts beyond the new count removed, so the directory never reads as one
 * dataset of old and new parts.
 *
 * Memory does not grow with the part count (issue #11: 10 KB a part, kept to the end, made
 * 100,000 parts cost a gigabyte): a closed part is forgotten, and its temporary name is derived
 * from its number again when it is renamed or removed.
 */
export class DirectoryTarget implements FileTarget {
  /** Parts opened or being opened: their temporaries are numbered 0 to opened - 1. */
  private opened = 0;
  private extension = '';
  /** Parts being written, each with its open file. */
  private readonly writing = new Set<OpenFile>();
  /** The final names given at commit, and how many of the parts have theirs already. */
  private finals: readonly string[] = [];
  private renamed = 0;
  replaced: string[] = [];
  /** Set by abort(): a part asked for after it is refused, one being opened is closed and removed. */
  private aborted = false;
  /** The part being opened, if any (settles, never rejects). */
  private opening: Promise<void> | null = null;

  constructor(readonly dir: string, private readonly exportId: string) {}

  async openPart(spec: PartSpec): Promise<PartOutput> {
    if (this.aborted) throw targetFailed(`opening ${spec.name}`, new Error('the export stopped'));
    this.extension = spec.extension;
    this.opened = Math.max(this.opened, spec.index + 1);
    const task = this.openFile(spec);
    // abort() waits for all of it, a file closed and removed after an abort included, so once it
    // resolves no descriptor of this export is open.
    this.opening = task.then(() => undefined, () => undefined);
    return task;
  }

  private async openFile(spec: PartSpec): Promise<PartOutput> {
    const path = this.tempPath(spec.index);
    // Opened here rather than lazily by the stream, so a directory that cannot be written fails
    // as "opening".
    const handle = await mkdir(this.dir, { recursive: true }).then(() => open(path, 'w'))
      .catch((err: unknown) => { throw targetFailed(`opening ${spec.name}`, err); });
    if (this.aborted) {
      await handle.close().catch(() => undefined);
      await rm(path, { force: true }).catch(() => undefined);
      throw targetFailed(`opening ${spec.name}`, new Error('the export stopped'));
    }
    const stream = handle.createWriteStream();
    const file: OpenFile = { output: openPartOutput(stream, { gzip: spec.gzip, name: spec.name, patchPath: path, hashOffThread: spec.hashOffThread, localFile: true }), stream };
    this.writing.add(file);
    return withClose(file.output, async (patches) => {
      const result = await file.output.close(patches);
      // Closed and complete: only its number is needed from now on. (A part that failed to close
      // stays, so abort() sees its stream closed.)
      this.writing.delete(file);
      return result;
    });
  }

  async commit(names: readonly string[], base: string, extension: string): Promise<string[]> {
    const ours = new Set(names);
    const earlier = await readdir(this.dir)
      .catch((err: unknown) => { throw targetFailed(`reading the output directory to store ${names[0]}`, err); });
    this.finals = names;
    const paths: string[] = [];
    for (let i = 0; i < names.length; i++) {
      const final = join(this.dir, names[i]);
      await rename(this.tempPath(i), final).catch((err: unknown) => { throw targetFailed(`giving ${names[i]} its final name`, err); });
      this.renamed = i + 1;
      paths.push(final);
    }
    for (const name of earlier.filter((n) => isPartName(n, base, extension))) {
      if (!ours.has(name)) await rm(join(this.dir, name), { force: true }).catch((err: unknown) => { throw targetFailed(`removing ${name} of an earlier export`, err); });
      this.replaced.push(name);
    }
    return paths;
  }

  /**
   * Closes every file still open, waiting until its descriptor is released, and removes every
   * temporary ever opened (and any file already renamed by a commit cut short).
   */
  async abort(err: Error): Promise<void> {
    this.aborted = true;
    await this.opening;
    const open = [...this.writing];
    this.writing.clear();
    await Promise.all(open.map(async ({ output, stream }) => {
      output.destroy(err);
      if (!stream.closed) await new Promise<void>((resolve) => stream.once('close', () => resolve()));
    }));
    await removeAll(this.written());
  }

  private *written(): Generator<string> {
    for (let i = 0; i < this.opened; i++) yield this.tempPath(i);
    for (let i = 0; i < this.renamed; i++) yield join(this.dir, this.finals[i]);
  }

  private tempPath(index: number): string {
    return join(this.dir, `.${this.exportId}-${index}.${this.extension}.partial`);
  }
}

/** Removes the files, a few at a time; one that cannot be removed does not keep the others. */
async function removeAll(paths: Iterable<string>): Promise<void> {
  let batch: Promise<void>[] = [];
  for (const path of paths) {
    batch.push(rm(path, { force: true }).catch(() => undefined));
    if (batch.length === REMOVE_AT_ONCE) {
      await Promise.all(batch);
      batch = [];
    }
  }
  await Promise.all(batch);
}
