/**
 * Issue #11, item 2: an export split into many parts, cancelled or failing at any moment,
 * leaves no file in its directory and no descriptor open. Before the fix, the splitting sink
 * went on opening parts after a cancel, and the target removed only the parts it knew of:
 * about 1 cancel in 4 left a `.<id>-N.csv.partial` behind.
 */
import type { RecordBatch } from 'apache-arrow';
import { readdirSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Exporter, fromBatches } from '../../src/index.js';
import { parquetWorkers } from '../../src/formats/parquet/worker-client.js';
import { Random } from '../fixtures/random.js';
import { idBatch, listDir, sleep, tempDir } from '../helpers/batches.js';

const ROWS = 300_000;
const BATCH_ROWS = 10_000;
/** 300 parts an export. */
const ROWS_PER_FILE = 1000;
const FORMATS = ['csv', 'jsonl', 'parquet', 'avro'] as const;
const REQUESTS = FORMATS.map((format) => ({ format, maxRowsPerFile: ROWS_PER_FILE, name: 'ids' }));

const batches: RecordBatch[] = Array.from({ length: ROWS / BATCH_ROWS }, (_, i) => idBatch(i * BATCH_ROWS, BATCH_ROWS));

function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

/** Descriptors are released by the time an export ends; a few ms are allowed for the last to go. */
async function fdsSettle(baseline: number): Promise<number> {
  for (let i = 0; i < 20 && openFds() > baseline; i++) await sleep(5);
  return openFds();
}

/** How long a whole export of each format takes here, measured once warm, to draw cancel moments from. */
const durations = new Map<string, number>();

beforeAll(async () => {
  const exporter = new Exporter();
  for (const request of REQUESTS) {
    await exporter.create(fromBatches(batches), { ...request, out: await tempDir() }).done(); // warm-up (parquet's workers)
    const started = Date.now();
    const exp = await exporter.create(fromBatches(batches), { ...request, out: await tempDir() }).done();
    expect(exp.status).toBe('completed');
    expect(exp.fileCount).toBe(ROWS / ROWS_PER_FILE);
    durations.set(request.format, Date.now() - started);
  }
}, 120_000);

describe('a split export stopped at a random moment leaves no file and no open descriptor (issue #11)', () => {
  it('20 cancels, by Exporter.cancel and by the caller\'s AbortSignal, at seeded random moments', async () => {
    const random = new Random(11);
    const exporter = new Exporter();
    let cancels = 0;
    // A moment drawn from a duration measured under another load can come after the export has
    // completed: such an attempt is no cancel (its files are checked) and another is drawn.
    for (let attempt = 0; cancels < 20; attempt++) {
      expect(attempt, 'too many exports ended before their cancel').toBeLessThan(40);
      const request = REQUESTS[cancels % REQUESTS.length];
      const out = await tempDir();
      const fds = openFds();
      const workerFiles = parquetWorkers().openFiles;
      // Within the first 80 % of a whole export's time.
      const delay = Math.floor(random.float() * 0.8 * (durations.get(request.format) ?? 0));
      const bySignal = cancels % 2 === 1;
      const controller = new AbortController();
      const exp = exporter.create(fromBatches(batches), { ...request, out, signal: controller.signal });
      setTimeout(() => (bySignal ? controller.abort() : exporter.cancel(exp.id)), delay);
      await exp.done();
      const what = `attempt ${attempt}: ${request.format} cancelled after ${delay} ms by ${bySignal ? 'signal' : 'Exporter.cancel'}`;
      if (exp.status === 'completed') {
        expect(await listDir(out), what).toEqual(exp.files.map((f) => f.name));
      } else {
        cancels += 1;
        expect(exp.status, what).toBe('cancelled');
        expect(await listDir(out), what).toEqual([]);
      }
      expect(await fdsSettle(fds), what).toBe(fds);
      expect(parquetWorkers().openFiles, what).toBe(workerFiles);
    }
  }, 120_000);

  it('a source failing after a random number of batches, in every format: failed, nothing left', async () => {
    const random = new Random(23);
    const exporter = new Exporter();
    for (let attempt = 0; attempt < 8; attempt++) {
      const request = REQUESTS[attempt % REQUESTS.length];
      const goodBatches = random.int(1, batches.length - 1);
      async function* failing(): AsyncGenerator<RecordBatch> {
        for (let i = 0; i < goodBatches; i++) yield batches[i];
        throw new Error('connection reset');
      }
      const out = await tempDir();
      const fds = openFds();
      const workerFiles = parquetWorkers().openFiles;
      const exp = await exporter.create(fromBatches(failing()), { ...request, out }).done();
      const what = `attempt ${attempt}: ${request.format} failing after ${goodBatches} batches`;
      expect(exp.status, what).toBe('failed');
      expect(exp.errorCode, what).toBe('SOURCE_FAILED');
      expect(exp.errorMessage, what).toMatch(/connection reset/);
      expect(await listDir(out), what).toEqual([]);
      expect(await fdsSettle(fds), what).toBe(fds);
      expect(parquetWorkers().openFiles, what).toBe(workerFiles);
    }
  }, 120_000);
});
