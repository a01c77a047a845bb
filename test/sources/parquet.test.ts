import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Table as ArrowTable, tableToIPC } from 'apache-arrow';
import { Table as WasmTable, WriterPropertiesBuilder, writeParquet } from 'parquet-wasm/node';
import { describe, expect, it } from 'vitest';
import { fromParquet } from '../../src/sources/parquet.js';
import { drain, isNonDecreasing, makeBatches, rowsOf, withTempDir } from './helpers.js';

const batches = makeBatches(7, 500); // 3,500 rows
const expected = rowsOf(batches);

/** A Parquet file with row groups of at most `rowGroupSize` rows, written by parquet-wasm. */
function toParquet(rowGroupSize: number): Uint8Array {
  const wasmTable = WasmTable.fromIPCStream(tableToIPC(new ArrowTable(batches), 'stream'));
  const props = new WriterPropertiesBuilder().setMaxRowGroupSize(rowGroupSize).build();
  return writeParquet(wasmTable, props);
}

async function withParquet(rowGroupSize: number, run: (path: string, size: number) => Promise<void>): Promise<void> {
  await withTempDir(async (dir) => {
    const path = join(dir, 't.parquet');
    const bytes = toParquet(rowGroupSize);
    await writeFile(path, bytes);
    await run(path, bytes.byteLength);
  });
}

describe('fromParquet', () => {
  it('reads one row group at a time, with the footer row count and progress by bytes', async () => {
    await withParquet(1000, async (path, size) => {
      const source = fromParquet(path);
      expect(source.reopenable).toBe(true);
      const opened = await source.open();
      expect(opened.schema?.fields.map((f) => f.name)).toEqual(['i', 'f', 's']);
      expect(opened.numRows).toBe(3500);
      expect(opened.totalBytes).toBe(size);
      const { batches: read, progress } = await drain(opened);
      expect(read.length).toBeGreaterThanOrEqual(4); // 4 row groups: 1000, 1000, 1000, 500
      expect(read.map((b) => b.numRows)).toEqual([1000, 1000, 1000, 500]);
      expect(rowsOf(read)).toEqual(expected);
      expect(isNonDecreasing(progress)).toBe(true);
      expect(progress[0]).toBe(0);
      expect(progress[1]).toBeLessThan(size);
      expect(progress.at(-1)).toBe(size);
    });
  });

  it('can be opened again for a second pass', async () => {
    await withParquet(2000, async (path) => {
      const source = fromParquet(path);
      const first = rowsOf((await drain(await source.open())).batches);
      const second = rowsOf((await drain(await source.open())).batches);
      expect(first).toEqual(expected);
      expect(second).toEqual(expected);
    });
  });

  it('stops early and closes twice safely', async () => {
    await withParquet(1000, async (path) => {
      const opened = await fromParquet(path).open();
      for await (const batch of opened.batches) {
        expect(batch.numRows).toBe(1000);
        break;
      }
      await opened.close();
      await opened.close();
    });
  });

  it('closes safely before reading and while a row group is being read', async () => {
    await withParquet(1000, async (path) => {
      const unread = await fromParquet(path).open();
      await unread.close();
      const reading = await fromParquet(path).open();
      const iterator = reading.batches[Symbol.asyncIterator]();
      const pending = iterator.next();
      await reading.close();
      // close() ends the reader's worker, read in flight or not: that read ends the batches, and nothing more is yielded.
      expect((await pending).done).toBe(true);
      expect((await iterator.next()).done).toBe(true);
    });
  });

  it('fails with SOURCE_FAILED naming the file (by its name, never its directory) for a missing or non-Parquet file', async () => {
    const missing = fromParquet('/no/such/file.parquet').open();
    await expect(missing).rejects.toMatchObject({ code: 'SOURCE_FAILED', message: expect.stringContaining('Parquet file file.parquet') });
    await expect(missing).rejects.toMatchObject({ message: expect.not.stringContaining('/no/such') });
    await withTempDir(async (dir) => {
      const path = join(dir, 'bad.parquet');
      await writeFile(path, 'not parquet at all, just text');
      const bad = fromParquet(path).open();
      await expect(bad).rejects.toMatchObject({ code: 'SOURCE_FAILED', message: expect.stringContaining('Parquet file bad.parquet') });
      await expect(bad).rejects.toMatchObject({ message: expect.not.stringContaining(dir) });
    });
  });
});
