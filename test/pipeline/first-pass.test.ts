import type { RecordBatch } from 'apache-arrow';
import { readdir } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { ByteSink, FormatEncoder } from '../../src/formats/protocol.js';
import { Progress } from '../../src/pipeline/progress.js';
import { runPipeline } from '../../src/pipeline/run.js';
import { DirectoryTarget } from '../../src/sinks/directory.js';
import { fromBatches } from '../../src/sources/index.js';
import type { Table } from '../../src/table/types.js';
import { idBatches, tempDir } from '../helpers/batches.js';

/** A test-only two-pass format: records the table it is prepared with and the ids it sees. */
function recordingEncoder(seen: { table?: Table; ids: bigint[] }): FormatEncoder<undefined> {
  return {
    format: 'dta',
    extension: () => 'rec',
    checkOptions: () => undefined,
    capabilities: { splittable: false, needsRowCount: true, needsStatistics: true, patchesHeader: false },
    prepare(table) {
      seen.table = table;
      return {
        renames: [], warnings: [],
        async beginFile(sink: ByteSink) {
          return {
            async writeBatch(batch: RecordBatch) {
              const ids = batch.getChildAt(0)?.data[0].values as BigInt64Array;
              seen.ids.push(...ids.subarray(0, batch.numRows));
              await sink.write(new Uint8Array([batch.numRows]));
            },
            async endFile() { return []; },
          };
        },
      };
    },
  };
}

async function run(source: ReturnType<typeof fromBatches>, table?: Table) {
  const seen: { table?: Table; ids: bigint[] } = { ids: [] };
  const spoolDir = await tempDir('te-spool-');
  const result = await runPipeline({
    source, table, tableName: 'ids', encoder: recordingEncoder(seen), options: undefined, gzip: false,
    target: new DirectoryTarget(await tempDir(), 'x'), signal: new AbortController().signal,
    progress: new Progress(), tempDir: spoolDir,
  });
  return { seen, result, spoolLeft: await readdir(spoolDir) };
}

describe('first pass for formats that need the row count and statistics', () => {
  const sizes = [3, 0, 5, 2];
  const expectedStats = {
    id: { nullCount: 0, min: 0n, max: 9n },
    label: { nullCount: 0, maxByteLength: 5 },
  };

  it('re-reads a reopenable source and fills numRows and statistics before prepare', async () => {
    const { seen, result } = await run(fromBatches(idBatches(sizes)));
    expect(seen.table?.numRows).toBe(10);
    expect(seen.table?.statistics).toEqual(expectedStats);
    expect(seen.ids).toEqual(Array.from({ length: 10 }, (_, i) => BigInt(i)));
    expect(result.rows).toBe(10);
  });

  it('spools a one-shot stream to a temporary IPC file, reads the spool, then removes it', async () => {
    async function* oneShot(): AsyncGenerator<RecordBatch> { yield* idBatches(sizes); }
    const { seen, result, spoolLeft } = await run(fromBatches(oneShot()));
    expect(seen.table?.numRows).toBe(10);
    expect(seen.table?.statistics).toEqual(expectedStats);
    expect(seen.ids).toEqual(Array.from({ length: 10 }, (_, i) => BigInt(i)));
    expect(result.rows).toBe(10);
    expect(spoolLeft).toEqual([]);
  });

  it('keeps statistics the table gives and measures only what is missing', async () => {
    const table: Table = {
      name: 'ids', variables: [{ name: 'id', type: 'integer' }, { name: 'label', type: 'string' }],
      statistics: { label: { maxByteLength: 40 } },
    };
    const { seen } = await run(fromBatches(idBatches(sizes)), table);
    expect(seen.table?.statistics?.label.maxByteLength).toBe(40);
    expect(seen.table?.statistics?.id).toEqual(expectedStats.id);
  });

  it('fails when a declared row count is wrong, since the header would lie', async () => {
    const table: Table = {
      name: 'ids', numRows: 11, variables: [{ name: 'id', type: 'integer' }, { name: 'label', type: 'string' }],
      statistics: { id: { min: 0n, max: 9n }, label: { maxByteLength: 5 } },
    };
    await expect(run(fromBatches(idBatches(sizes)), table)).rejects.toThrow('dta: the table declares 11 rows but the source gave 10');
  });
});
