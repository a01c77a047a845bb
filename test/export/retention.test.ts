/**
 * What an Exporter keeps of an export once it has ended: the Export resource only, never the
 * source, table or target it ran with, so a long-running service does not hold every table it
 * ever exported; and forget() drops the Export too.
 */
import type { RecordBatch } from 'apache-arrow';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { ExportError, Exporter, fromBatches } from '../../src/index.js';
import { idBatches, sleep, tempDir } from '../helpers/batches.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Collects garbage until `ref` is cleared or a few rounds have passed. */
async function collected(ref: WeakRef<object>): Promise<boolean> {
  for (let round = 0; round < 10 && ref.deref() !== undefined; round++) {
    await sleep(5);
    gc();
  }
  return ref.deref() === undefined;
}

/** Runs an export of fresh batches and returns a weak reference to them (the caller holds none). */
async function exportAndLetGo(exporter: Exporter, request: { signal?: AbortSignal } = {}): Promise<{ id: string; ref: WeakRef<RecordBatch[]> }> {
  const batches = idBatches([100, 100]);
  const exp = exporter.create(fromBatches(batches), { format: 'csv', out: await tempDir(), name: 'ids', ...request });
  await exp.done();
  expect(exp.status).toBe('completed');
  return { id: exp.id, ref: new WeakRef(batches) };
}

describe('what an Exporter keeps of a finished export', () => {
  it('keeps the Export, not its source: the batches can be collected', async () => {
    const exporter = new Exporter();
    const { id, ref } = await exportAndLetGo(exporter);
    expect(await collected(ref)).toBe(true);
    expect(exporter.get(id)?.status).toBe('completed');
  });

  it('a long-lived AbortSignal given by the caller does not keep the source either', async () => {
    const exporter = new Exporter();
    const serviceSignal = new AbortController().signal; // lives as long as the service
    const { ref } = await exportAndLetGo(exporter, { signal: serviceSignal });
    expect(await collected(ref)).toBe(true);
  });

  it('forget() drops a finished export; a running one must be cancelled first', async () => {
    const exporter = new Exporter();
    const { id } = await exportAndLetGo(exporter);
    expect(exporter.forget(id)).toBe(true);
    expect(exporter.get(id)).toBeUndefined();
    expect(exporter.list()).toEqual([]);
    expect(exporter.forget(id)).toBe(false);

    async function* slow(): AsyncGenerator<RecordBatch> {
      for (let i = 0; ; i++) {
        yield idBatches([1])[0];
        await sleep(5);
      }
    }
    const running = exporter.create(fromBatches(slow()), { format: 'csv', out: await tempDir(), name: 'slow' });
    expect(() => exporter.forget(running.id)).toThrow(/is queued: only a finished export can be forgotten/);
    await Promise.resolve();
    expect(() => exporter.forget(running.id)).toThrow(ExportError);
    expect(() => exporter.forget(running.id)).toThrow(/is running: only a finished export can be forgotten/);
    exporter.cancel(running.id);
    await running.done();
    expect(exporter.forget(running.id)).toBe(true);
  });
});
