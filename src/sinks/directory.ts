import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { openPartOutput, type PartOutput } from './part-output.js';
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

  constructor(readonly dir: string, private readonly exportId: string) {}

  async openPart(spec: PartSpec): Promise<PartOutput> {
    await mkdir(this.dir, { recursive: true });
    const path = join(this.dir, `.${this.exportId}-${spec.index}.${spec.extension}.partial`);
    this.temps[spec.index] = path;
    const output = openPartOutput(createWriteStream(path), spec.gzip, path);
    this.outputs.push(output);
    return output;
  }

  async commit(names: readonly string[], base: string, extension: string): Promise<string[]> {
    const ours = new Set(names);
    const earlier = (await readdir(this.dir)).filter((n) => isPartName(n, base, extension));
    const paths: string[] = [];
    for (let i = 0; i < names.length; i++) {
      const final = join(this.dir, names[i]);
      await rename(this.temps[i], final);
      this.finals.push(final);
      paths.push(final);
    }
    for (const name of earlier) {
      if (!ours.has(name)) await rm(join(this.dir, name), { force: true });
      this.replaced.push(name);
    }
    return paths;
  }

  async abort(err: Error): Promise<void> {
    for (const output of this.outputs) output.destroy(err);
    const all = [...this.temps.filter(Boolean), ...this.finals];
    await Promise.all(all.map((p) => rm(p, { force: true })));
  }
}
