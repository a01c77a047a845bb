import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { openPartOutput, type PartOutput } from './part-output.js';
import type { FileTarget, PartSpec } from './target.js';

/**
 * Writes parts into a local directory under hidden temporary names (`.<id>-<n>.<ext>.partial`)
 * and renames them to their final names only when the export completes, so a failed or
 * cancelled export leaves no file that looks complete.
 */
export class DirectoryTarget implements FileTarget {
  private readonly temps: string[] = [];
  private readonly finals: string[] = [];
  private readonly outputs: PartOutput[] = [];

  constructor(readonly dir: string, private readonly exportId: string) {}

  async openPart(spec: PartSpec): Promise<PartOutput> {
    await mkdir(this.dir, { recursive: true });
    const path = join(this.dir, `.${this.exportId}-${spec.index}.${spec.extension}.partial`);
    this.temps[spec.index] = path;
    const output = openPartOutput(createWriteStream(path), spec.gzip, path);
    this.outputs.push(output);
    return output;
  }

  async commit(names: readonly string[]): Promise<string[]> {
    const paths: string[] = [];
    for (let i = 0; i < names.length; i++) {
      const final = join(this.dir, names[i]);
      await rename(this.temps[i], final);
      this.finals.push(final);
      paths.push(final);
    }
    return paths;
  }

  async abort(err: Error): Promise<void> {
    for (const output of this.outputs) output.destroy(err);
    const all = [...this.temps.filter(Boolean), ...this.finals];
    await Promise.all(all.map((p) => rm(p, { force: true })));
  }
}
