/**
 * Issue #11, item 1: what a target keeps of a finished part is bounded, so an export's memory
 * does not grow with its part count. DirectoryTarget kept every part's output (its streams,
 * hash and buffers: about 10 KB a part) until the export ended, and 100,000 parts took a
 * gigabyte. Here each part handed to the sink is watched through a WeakRef: once the sink has
 * moved on, nothing may hold it any more.
 */
import { Writable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { fromBatches } from '../../src/index.js';
import { csvEncoder } from '../../src/formats/csv/index.js';
import { Progress } from '../../src/pipeline/progress.js';
import { runPipeline } from '../../src/pipeline/run.js';
import { DirectoryTarget } from '../../src/sinks/directory.js';
import type { PartOutput } from '../../src/sinks/part-output.js';
import { StreamTarget } from '../../src/sinks/stream.js';
import type { FileTarget, PartSpec } from '../../src/sinks/target.js';
import { idBatches, tempDir } from '../helpers/batches.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const PARTS = 400;

/** Passes parts through, keeping only WeakRefs; at part PARTS - 1 counts those still reachable. */
class WeakTarget implements FileTarget {
  private readonly parts: WeakRef<PartOutput>[] = [];
  /** The parts still reachable when the last is opened, by index. */
  alive: number[] = [];
  constructor(private readonly inner: FileTarget) {}
  async openPart(spec: PartSpec): Promise<PartOutput> {
    if (spec.index === PARTS - 1) {
      // A later turn, so the last parts are not kept by the job that made them (WeakRef semantics).
      await new Promise((resolve) => setImmediate(resolve));
      gc();
      this.alive = this.parts.flatMap((ref, index) => (ref.deref() === undefined ? [] : [index]));
    }
    const output = await this.inner.openPart(spec);
    this.parts.push(new WeakRef(output));
    return output;
  }
  commit(names: readonly string[], base: string, extension: string): Promise<(string | null)[]> {
    return this.inner.commit(names, base, extension);
  }
  abort(err: Error): Promise<void> {
    return this.inner.abort(err);
  }
}

async function exportInParts(inner: FileTarget, out: string): Promise<WeakTarget> {
  const target = new WeakTarget(inner);
  await runPipeline({
    source: fromBatches(idBatches([PARTS])), tableName: 'ids', encoder: csvEncoder, options: {}, gzip: false,
    target, maxRowsPerFile: 1, signal: new AbortController().signal, progress: new Progress(), tempDir: out,
  });
  return target;
}

describe('a finished part is not kept by its target (issue #11)', () => {
  it('DirectoryTarget: of 399 finished parts, only the one just ended is reachable when the 400th is opened', async () => {
    const out = await tempDir();
    const target = await exportInParts(new DirectoryTarget(out, 'x'), out);
    // The part just ended is still held by the sink's step that ended it and opens the next; none before it.
    expect(target.alive).toEqual([PARTS - 2]);
  });

  it('StreamTarget: the same', async () => {
    const out = await tempDir();
    const sink = (): Writable => new Writable({ write(_chunk, _enc, cb) { cb(); } });
    const target = await exportInParts(new StreamTarget(sink, out), out);
    expect(target.alive).toEqual([PARTS - 2]);
  });
});
