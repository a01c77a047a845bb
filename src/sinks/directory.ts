import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { openPartOutput, type PartOutput } from './part-output.js';
import { targetFailed } from './target-error.js';
import { isPartName, type FileTarget, type PartSpec } from './target.js';

/**
 * Writes parts into a local directory under hidden temporary names (`.<id>-<n>.<ext>.partial`)
 * and renames them to their final names only when the export completes, so a failed or
 * cancelled export leaves no file that looks complete. A completed export replaces the files
 * an earlier export of the same table and format left in the directory: same names are
 * overwritten, and parts beyond the new count removed, so the directory never reads as one
 * dataset of old and new parts.
 */
export class DirectoryTarget implements FileTarget {
  private readonly temps: string[] = [];
  private readonly finals: string[] = [];
  private readonly outputs: PartOutput[] = [];
  replaced: string[] = [];
  /** Set by abort(): a part opened after it closes its file at once. */
  private aborted = false;
  /** The part file being opened, if any (settles, never rejects). */
  private opening: Promise<void> | null = null;

  constructor(readonly dir: string, private readonly exportId: string) {}

  async openPart(spec: PartSpec): Promise<PartOutput> {
    const path = join(this.dir, `.${this.exportId}-${spec.index}.${spec.extension}.partial`);
    this.temps[spec.index] = path;
    // Opened here rather than lazily by the stream, so a directory that cannot be written fails
    // as "opening"; abort() waits for it, so a file it creates is there to be removed.
    const opening = mkdir(this.dir, { recursive: true }).then(() => open(path, 'w'));
    this.opening = opening.then(() => undefined, () => undefined);
    const handle = await opening.catch((err: unknown) => { throw targetFailed(`opening ${spec.name}`, err); });
    if (this.aborted) {
      await handle.close().catch(() => undefined);
      throw targetFailed(`opening ${spec.name}`, new Error('the export stopped'));
    }
    const output = openPartOutput(handle.createWriteStream(), { gzip: spec.gzip, name: spec.name, patchPath: path });
    this.outputs.push(output);
    return output;
  }

  async commit(names: readonly string[], base: string, extension: string): Promise<string[]> {
    const ours = new Set(names);
    const earlier = await readdir(this.dir)
      .catch((err: unknown) => { throw targetFailed(`reading the output directory to store ${names[0]}`, err); });
    const paths: string[] = [];
    for (let i = 0; i < names.length; i++) {
      const final = join(this.dir, names[i]);
      await rename(this.temps[i], final).catch((err: unknown) => { throw targetFailed(`giving ${names[i]} its final name`, err); });
      this.finals.push(final);
      paths.push(final);
    }
    for (const name of earlier.filter((n) => isPartName(n, base, extension))) {
      if (!ours.has(name)) await rm(join(this.dir, name), { force: true }).catch((err: unknown) => { throw targetFailed(`removing ${name} of an earlier export`, err); });
      this.replaced.push(name);
    }
    return paths;
  }

  async abort(err: Error): Promise<void> {
    this.aborted = true;
    await this.opening;
    for (const output of this.outputs) output.destroy(err);
    const all = [...this.temps.filter(Boolean), ...this.finals];
    await Promise.all(all.map((p) => rm(p, { force: true })));
  }
}
