/**
 * The directory store (a shared directory every worker mounts) behind the same StoreTarget as
 * S3: parts under `_temporary/<id>/` until commit, then renamed; nothing left (not even the
 * temporary folders) after a commit or a cancel.
 */
import type { RecordBatch } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { Exporter, exportTable, fromBatches } from '../../src/index.js';
import { DirectoryStore } from '../../src/store/index.js';
import { idBatch, listDir, sleep, tempDir } from '../helpers/batches.js';

describe('DirectoryStore with StoreTarget', () => {
  it('a split export: parts published under their names, the temporary folder gone', async () => {
    const dir = await tempDir();
    const store = new DirectoryStore(dir);
    const exp = await exportTable(fromBatches([idBatch(0, 2500)]), { format: 'csv', out: store, name: 'ids', maxRowsPerFile: 1000 });
    expect(exp.status, exp.errorMessage ?? '').toBe('completed');
    expect(await listDir(dir)).toEqual(['ids-000000.csv', 'ids-000001.csv', 'ids-000002.csv']);
    expect(exp.files.map((f) => f.path)).toEqual(['ids-000000.csv', 'ids-000001.csv', 'ids-000002.csv'].map((n) => store.locate(n)));
    const listed: string[] = [];
    for await (const { key, size } of store.list('ids-')) {
      listed.push(key);
      expect(size).toBe(exp.files.find((f) => f.name === key)?.size);
    }
    expect(listed.sort()).toEqual(['ids-000000.csv', 'ids-000001.csv', 'ids-000002.csv']);
  });

  it('a cancelled export leaves the directory as it was', async () => {
    const dir = await tempDir();
    async function* slow(): AsyncGenerator<RecordBatch> {
      for (let i = 0; ; i++) {
        yield idBatch(i * 1000, 1000);
        await sleep(2);
      }
    }
    const exporter = new Exporter();
    const exp = exporter.create(fromBatches(slow()), { format: 'jsonl', out: new DirectoryStore(dir), name: 'ids', maxRowsPerFile: 5000 });
    while (exp.rows < 20_000) await sleep(10);
    exporter.cancel(exp.id);
    await exp.done();
    expect(exp.status).toBe('cancelled');
    expect(await listDir(dir)).toEqual([]);
  });

  it('deletePrefix removes a folder\'s files and the folders it leaves empty, not others', async () => {
    const dir = await tempDir();
    const store = new DirectoryStore(dir);
    for (const key of ['_temporary/a/0.csv', '_temporary/a/1.csv', '_temporary/b/0.csv', 'keep.csv']) {
      const w = store.openWrite(key);
      await new Promise<void>((resolve, reject) => w.end('x', () => resolve()).once('error', reject));
    }
    expect(await store.deletePrefix('_temporary/a/')).toBe(2);
    expect(await listDir(dir)).toEqual(['_temporary', 'keep.csv']);
    expect(await store.deletePrefix('_temporary/b/')).toBe(1);
    expect(await listDir(dir)).toEqual(['keep.csv']);
  });
});
