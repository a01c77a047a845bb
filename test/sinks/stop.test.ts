/**
 * Issue #11, item 2, the moments a random cancel only sometimes hits, made certain: a cancel
 * while the splitting sink is opening a part, and a target aborted while a part's file is being
 * opened or after it.
 */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fromBatches } from '../../src/index.js';
import { csvEncoder } from '../../src/formats/csv/index.js';
import { Progress } from '../../src/pipeline/progress.js';
import { runPipeline } from '../../src/pipeline/run.js';
import type { PartOutput } from '../../src/sinks/part-output.js';
import { DirectoryTarget } from '../../src/sinks/directory.js';
import type { FileTarget, PartSpec } from '../../src/sinks/target.js';
import { idBatches, listDir, sleep, tempDir } from '../helpers/batches.js';

const openFds = (): number => readdirSync('/proc/self/fd').length;

/** A DirectoryTarget that counts the parts asked for and runs `onOpen` before opening each. */
class WatchedTarget implements FileTarget {
  readonly inner: DirectoryTarget;
  opened: number[] = [];
  constructor(dir: string, private readonly onOpen: (index: number) => Promise<void> | void) {
    this.inner = new DirectoryTarget(dir, 'x');
  }
  async openPart(spec: PartSpec): Promise<PartOutput> {
    this.opened.push(spec.index);
    await this.onOpen(spec.index);
    return this.inner.openPart(spec);
  }
  commit(names: readonly string[], base: string, extension: string): Promise<string[]> {
    return this.inner.commit(names, base, extension);
  }
  abort(err: Error): Promise<void> {
    return this.inner.abort(err);
  }
}

describe('the splitting sink stops at the first failure or cancel', () => {
  it('a cancel while part 5 is being opened: no part after it is asked for, nothing is left', async () => {
    const out = await tempDir();
    const controller = new AbortController();
    const fds = openFds();
    // Part 5 is opened after the cancel, as a slow disk would: the sink must give it up and ask
    // for no part 6 (it went on to the end of its batch before: issue #11).
    const target = new WatchedTarget(out, async (index) => {
      if (index === 5) {
        controller.abort();
        await sleep(20);
      }
    });
    const outcome = await runPipeline({
      source: fromBatches(idBatches([100, 100])), tableName: 'ids', encoder: csvEncoder, options: {}, gzip: false,
      target, maxRowsPerFile: 10, signal: controller.signal, progress: new Progress(), tempDir: out,
    }).then(() => null, (err: { code?: string }) => err);
    expect(outcome?.code).toBe('CANCELLED');
    // Nothing is left when the export ends, nor once the open under way would have finished.
    for (const wait of [0, 50]) {
      await sleep(wait);
      expect(target.opened).toEqual([0, 1, 2, 3, 4, 5]);
      expect(await listDir(out)).toEqual([]);
      expect(openFds()).toBe(fds);
    }
  });

  it('an encoder failing in part 3: no part after it is asked for', async () => {
    const out = await tempDir();
    const target = new WatchedTarget(out, () => undefined);
    let batches = 0;
    const encoder = {
      ...csvEncoder,
      prepare: (...args: Parameters<typeof csvEncoder.prepare>) => {
        const prepared = csvEncoder.prepare(...args);
        return {
          ...prepared,
          async beginFile(sink: Parameters<typeof prepared.beginFile>[0]) {
            const file = await prepared.beginFile(sink);
            return {
              writeBatch: async (...b: Parameters<typeof file.writeBatch>) => {
                if (++batches === 4) throw new Error('encoder broke');
                return file.writeBatch(...b);
              },
              endFile: () => file.endFile(),
            };
          },
        };
      },
    };
    const outcome = await runPipeline({
      source: fromBatches(idBatches([100])), tableName: 'ids', encoder, options: {}, gzip: false,
      target, maxRowsPerFile: 10, signal: new AbortController().signal, progress: new Progress(), tempDir: out,
    }).then(() => null, (err: Error) => err);
    expect(outcome?.message).toMatch(/encoder broke/);
    expect(target.opened).toEqual([0, 1, 2, 3]);
    expect(await listDir(out)).toEqual([]);
  });
});

describe('DirectoryTarget.abort removes every temporary ever opened and closes its file', () => {
  const spec = (index: number): PartSpec => ({ index, extension: 'csv', gzip: false, patchable: false, name: `t-${index}.csv` });

  it('a part being opened when abort() is called is closed and removed', async () => {
    const out = await tempDir();
    const fds = openFds();
    const target = new DirectoryTarget(out, 'x');
    const first = await target.openPart(spec(0));
    await first.write(new TextEncoder().encode('a\n'));
    const opening = target.openPart(spec(1)).then(() => 'opened', (err: Error) => err.message);
    const aborted = target.abort(new Error('cancelled'));
    expect(await opening).toMatch(/opening t-1\.csv failed: the export stopped/);
    await aborted;
    expect(await listDir(out)).toEqual([]);
    expect(openFds()).toBe(fds);
  });

  it('a part asked for after abort() creates no file', async () => {
    const out = await tempDir();
    const target = new DirectoryTarget(out, 'x');
    await target.abort(new Error('cancelled'));
    await expect(target.openPart(spec(0))).rejects.toThrow(/the export stopped/);
    expect(await listDir(out)).toEqual([]);
  });

  it('closed parts, open parts and parts whose open failed are all removed; abort() resolves with every descriptor closed', async () => {
    const out = await tempDir();
    const fds = openFds();
    const target = new DirectoryTarget(out, 'x');
    for (let i = 0; i < 5; i++) {
      const part = await target.openPart(spec(i));
      await part.write(new TextEncoder().encode(`${i}\n`));
      if (i < 4) await part.close([]);
    }
    expect(await listDir(out)).toHaveLength(5);
    expect(openFds()).toBe(fds + 1); // part 4 is still open
    await target.abort(new Error('cancelled'));
    expect(openFds()).toBe(fds);
    expect(await listDir(out)).toEqual([]);
  });
});
