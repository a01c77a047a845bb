import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { exportTable, type Export } from '../../src/index.js';
import type { ExportRequest, SourceInput } from '../../src/export/exporter.js';
import { encodingActivity } from '../../src/parallel/pool.js';

/**
 * Issue #12: the files of an export with several workers are those of the single-threaded
 * program. Exports `input()` again with workers: 1 into `<out>-workers-1` and expects the same
 * names, sizes, MD5s and bytes as `parallel`, which ran with `workers` > 1. Not for a split by
 * maxFileSize: where a part ends depends on how far encoding had got when the sink measured
 * it (avro blocks being deflated, parquet row groups), so only its values are the same.
 */
export async function expectSameWithOneWorker(input: () => SourceInput, request: ExportRequest, parallel: Export): Promise<void> {
  expect(request.workers ?? 2, 'the export compared ran with several workers').toBeGreaterThan(1);
  if (request.maxFileSize !== undefined) return;
  const single = await exportTable(input(), { ...request, out: `${request.out as string}-workers-1`, workers: 1 });
  expect(single.status, single.errorMessage ?? '').toBe('completed');
  expect(single.fileCount).toBe(parallel.fileCount);
  expect(single.size).toBe(parallel.size);
  expect(single.files.map((f) => [f.name, f.rows, f.size, f.md5])).toEqual(parallel.files.map((f) => [f.name, f.rows, f.size, f.md5]));
  single.files.forEach((f, i) => {
    expect(readFileSync(f.path as string).equals(readFileSync(parallel.files[i].path as string)), `${f.name}: the same bytes`).toBe(true);
  });
}

/** Issue #12: after a cancel, the encoding threads go idle (nothing queued, nothing completing) within a second. */
export async function expectThreadsIdleWithinASecond(): Promise<void> {
  const at = Date.now();
  let before = encodingActivity();
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const now = encodingActivity();
    if (now.queued === 0 && now.completed === before.completed) return;
    before = now;
    expect(Date.now() - at, 'the threads still work a second after the cancel').toBeLessThan(1000);
  }
}
