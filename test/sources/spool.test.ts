import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { createSpool } from '../../src/sources/spool.js';
import { drain, makeBatches, makeDictionaryBatches, rowsOf, withTempDir } from './helpers.js';

describe('createSpool', () => {
  it('round-trips batches through a temporary IPC stream file that can be read twice', async () => {
    await withTempDir(async (dir) => {
      const batches = makeBatches(4, 250);
      const spool = await createSpool(dir);
      for (const batch of batches) await spool.append(batch);
      const source = await spool.finish();
      expect(source.reopenable).toBe(true);
      for (let pass = 0; pass < 2; pass++) {
        const opened = await source.open();
        expect(opened.numRows).toBe(1000);
        expect(opened.schema?.fields.map((f) => f.name)).toEqual(['i', 'f', 's']);
        const { batches: read, progress } = await drain(opened);
        expect(read.map((b) => b.numRows)).toEqual([250, 250, 250, 250]);
        expect(rowsOf(read)).toEqual(rowsOf(batches));
        expect(progress.at(-1)).toBe(opened.totalBytes);
      }
      expect(existsSync(spool.path)).toBe(true);
      await spool.remove();
      await spool.remove();
      expect(await readdir(dir)).toEqual([]);
    });
  });

  it('keeps replacement dictionaries', async () => {
    await withTempDir(async (dir) => {
      const spool = await createSpool(dir);
      for (const batch of makeDictionaryBatches()) await spool.append(batch);
      const { batches: read } = await drain(await (await spool.finish()).open());
      expect(read.map((b) => b.getChild('colour')?.toArray())).toEqual([
        ['red', 'green', 'red', null], ['blue', 'cyan', 'cyan', 'blue', 'navy'],
      ]);
      await spool.remove();
    });
  });

  it('gives an empty source when nothing was appended', async () => {
    await withTempDir(async (dir) => {
      const spool = await createSpool(dir);
      const opened = await (await spool.finish()).open();
      expect(opened.numRows).toBe(0);
      expect((await drain(opened)).batches).toEqual([]);
      await spool.remove();
      expect(await readdir(dir)).toEqual([]);
    });
  });

  it('refuses a batch with other columns, and removes an unfinished spool', async () => {
    await withTempDir(async (dir) => {
      const spool = await createSpool(dir);
      await spool.append(makeBatches(1, 3)[0]);
      const other = makeDictionaryBatches()[0];
      await expect(spool.append(other)).rejects.toMatchObject({ code: 'SCHEMA_MISMATCH', row: 3 });
      await spool.remove();
      expect(await readdir(dir)).toEqual([]);
      await expect(spool.append(makeBatches(1, 3)[0])).rejects.toThrow(/removed/);
    });
  });

  it('fails with TARGET_FAILED when the directory does not exist', async () => {
    await expect(createSpool('/no/such/dir')).rejects.toMatchObject({ code: 'TARGET_FAILED' });
  });
});
