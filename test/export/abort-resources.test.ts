import type { RecordBatch } from 'apache-arrow';
import { readdir, readlink } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { Exporter, exportTable, fromBatches } from '../../src/index.js';
import { parquetWorkers } from '../../src/formats/parquet/worker-client.js';
import type { ByteSink, FormatEncoder } from '../../src/formats/protocol.js';
import { Progress } from '../../src/pipeline/progress.js';
import { runPipeline } from '../../src/pipeline/run.js';
import { DirectoryTarget } from '../../src/sinks/directory.js';
import type { Table } from '../../src/table/types.js';
import { batchOf, column, tableOf } from '../helpers/columns.js';
import { idBatch, idBatches, listDir, sleep, tempDir } from '../helpers/batches.js';

/** What a test encoder saw of the FileEncoder protocol. */
interface Calls { batches: number; endFile: number; abort: Error[] }

/** A one-file format that counts its protocol calls; `failAt` makes that batch's writeBatch throw. */
function countingEncoder(calls: Calls, failAt = -1): FormatEncoder<undefined> {
  return {
    format: 'csv',
    extension: () => 'cnt',
    checkOptions: () => undefined,
    capabilities: { splittable: true, needsRowCount: false, needsStatistics: false, patchesHeader: false },
    prepare() {
      return {
        renames: [], warnings: [],
        async beginFile(sink: ByteSink) {
          return {
            async writeBatch(batch: RecordBatch) {
              if (calls.batches++ === failAt) throw new Error('encoder broke');
              await sink.write(new Uint8Array(batch.numRows));
            },
            async endFile() { calls.endFile++; return []; },
            abort(reason: Error) { calls.abort.push(reason); },
          };
        },
      };
    },
  };
}

async function run(batches: AsyncIterable<RecordBatch> | RecordBatch[], calls: Calls, options: { failAt?: number; signal?: AbortSignal } = {}) {
  const out = await tempDir();
  const pending = runPipeline({
    source: fromBatches(batches), tableName: 't', encoder: countingEncoder(calls, options.failAt), options: undefined, gzip: false,
    target: new DirectoryTarget(out, 'x'), signal: options.signal ?? new AbortController().signal,
    progress: new Progress(), tempDir: out,
  });
  const outcome = await pending.then(() => null, (err: Error) => err);
  return { outcome, left: await listDir(out) };
}

async function* failingAfter(n: number): AsyncGenerator<RecordBatch> {
  for (let i = 0; i < n; i++) yield idBatch(i * 10, 10);
  throw new Error('connection reset');
}

/** Paths of this process's open file descriptors. */
async function openPaths(): Promise<string[]> {
  const fds = await readdir('/proc/self/fd');
  const links = await Promise.all(fds.map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')));
  return links;
}

describe('the open file is aborted, not ended, when an export stops', () => {
  it('a completed export never aborts', async () => {
    const calls: Calls = { batches: 0, endFile: 0, abort: [] };
    const { outcome } = await run(idBatches([3, 4]), calls);
    expect(outcome).toBeNull();
    expect(calls).toEqual({ batches: 2, endFile: 1, abort: [] });
  });

  it('a source failing mid-way aborts the open file once, and endFile is never called', async () => {
    const calls: Calls = { batches: 0, endFile: 0, abort: [] };
    const { outcome, left } = await run(failingAfter(3), calls);
    expect(outcome?.message).toMatch(/connection reset/);
    expect(calls.batches).toBe(3);
    expect(calls.endFile).toBe(0);
    expect(calls.abort).toHaveLength(1);
    expect(calls.abort[0].message).toMatch(/connection reset/);
    expect(left).toEqual([]);
  });

  it('an encoder failing in writeBatch is aborted too (to free what it holds)', async () => {
    const calls: Calls = { batches: 0, endFile: 0, abort: [] };
    const { outcome } = await run(idBatches([2, 2, 2]), calls, { failAt: 1 });
    expect(outcome?.message).toMatch(/encoder broke/);
    expect(calls.endFile).toBe(0);
    expect(calls.abort).toHaveLength(1);
  });

  it('a cancel aborts the open file', async () => {
    const calls: Calls = { batches: 0, endFile: 0, abort: [] };
    const controller = new AbortController();
    async function* endless(): AsyncGenerator<RecordBatch> {
      for (let i = 0; ; i++) {
        yield idBatch(i, 1);
        await sleep(2);
      }
    }
    setTimeout(() => controller.abort(), 30);
    const { outcome, left } = await run(endless(), calls, { signal: controller.signal });
    expect((outcome as { code?: string }).code).toBe('CANCELLED');
    expect(calls.batches).toBeGreaterThan(0);
    expect(calls.endFile).toBe(0);
    expect(calls.abort).toHaveLength(1);
    expect(left).toEqual([]);
  });
});

describe('what the real encoders hold is freed when an export fails', () => {
  /** A dta export of strL cells (spilled to the spool file), whose source fails after 4 batches. */
  async function failingStrlExport(request: { exporter?: Exporter; dtaTempDir?: string }) {
    const rows = 200;
    const big = 'x'.repeat(3000); // > 2045 bytes: strL; 4 × 200 rows go beyond the 1 MiB in-memory spool
    const table: Table = {
      ...tableOf({ note: 'string' }), name: 'notes', numRows: 10 * rows,
      statistics: { note: { nullCount: 0, maxByteLength: 3000 } },
    };
    const batch = (): RecordBatch => batchOf(table, [column('string', Array.from({ length: rows }, () => big))]);
    let spoolFiles: string[] = [];
    async function* source(): AsyncGenerator<RecordBatch> {
      for (let i = 0; i < 4; i++) yield batch();
      await sleep(20); // let the encoder spill the last batch's strLs
      spoolFiles = (await openPaths()).filter((p) => p.includes('tabular-export-strl-'));
      throw new Error('connection reset');
    }
    const out = await tempDir();
    const exporter = request.exporter ?? new Exporter();
    const exp = await exporter.create(fromBatches(source()), { format: 'dta', out, table, dta: request.dtaTempDir ? { tempDir: request.dtaTempDir } : {} }).done();
    return { exp, out, spoolFiles };
  }

  it('dta: the strL spool file is closed (it was spilled to disk) and nothing is left', async () => {
    const spoolDir = await tempDir('te-spool-');
    const { exp, out, spoolFiles } = await failingStrlExport({ dtaTempDir: spoolDir });
    expect(exp.status).toBe('failed');
    expect(exp.errorMessage).toMatch(/connection reset/);
    expect(spoolFiles).toHaveLength(1);
    expect((await openPaths()).filter((p) => p.includes('tabular-export-strl-'))).toEqual([]);
    expect(await listDir(out)).toEqual([]);
    expect(await listDir(spoolDir)).toEqual([]);
  });

  it('dta: strLs are spooled in the Exporter\'s tempDir unless dta.tempDir says otherwise', async () => {
    const exporterTemp = await tempDir('te-exporter-temp-');
    const { spoolFiles } = await failingStrlExport({ exporter: new Exporter({ tempDir: exporterTemp }) });
    expect(spoolFiles).toHaveLength(1);
    expect(spoolFiles[0].startsWith(`${exporterTemp}/tabular-export-strl-`)).toBe(true);
    const own = await tempDir('te-own-temp-');
    const second = await failingStrlExport({ exporter: new Exporter({ tempDir: exporterTemp }), dtaTempDir: own });
    expect(second.spoolFiles[0].startsWith(`${own}/tabular-export-strl-`)).toBe(true);
  });

  it('parquet: the worker drops the failed file (no file stays open in the worker pool)', async () => {
    const before = parquetWorkers().openFiles;
    const out = await tempDir();
    const exp = await exportTable(fromBatches(failingAfter(3)), { format: 'parquet', out, name: 'ids' });
    expect(exp.status).toBe('failed');
    expect(exp.errorMessage).toMatch(/connection reset/);
    expect(parquetWorkers().openFiles).toBe(before);
    expect(await listDir(out)).toEqual([]);
  });
});
