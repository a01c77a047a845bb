/**
 * Shard planning (issue #13): Parquet files cut into shards of about shardRows rows at row-group
 * boundaries, never across two files; a dataset directory read in name order; files of other
 * columns refused before any job exists. Tables written by pyarrow.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cutUnits, listTableFiles, planShards } from '../../src/distributed/plan.js';
import { DirectoryStore } from '../../src/store/index.js';
import { tempDir } from '../helpers/batches.js';
import { writeTable } from './fleet.js';

describe('cutUnits', () => {
  const cases: [string, number[], number, [number, number, number][]][] = [
    ['groups gathered up to shardRows', [10, 10, 10, 10, 10], 20, [[0, 2, 20], [2, 4, 20], [4, 5, 10]]],
    ['a group larger than shardRows is a shard of its own', [5, 50, 5], 20, [[0, 1, 5], [1, 2, 50], [2, 3, 5]]],
    ['all in one when shardRows is large', [7, 8, 9], 1_000, [[0, 3, 24]]],
    ['a file without row groups is one empty piece', [], 10, [[0, 0, 0]]],
    ['never past shardRows when groups fit', [6, 6, 6, 6], 13, [[0, 2, 12], [2, 4, 12]]],
  ];
  it.each(cases)('%s', (_, rows, shardRows, expected) => {
    expect(cutUnits('t.parquet', 'parquet', rows, shardRows).map((p) => [p.start, p.end, p.rows])).toEqual(expected);
  });
});

describe('planShards', () => {
  it('plans a dataset directory in name order, shards on row groups, ids continuing across files', async () => {
    const dir = await tempDir('te-plan-');
    await writeTable(join(dir, 'ds'), 3, 1_000, 300, 'part');
    const store = new DirectoryStore(dir);
    const keys = await listTableFiles(store, 'ds');
    expect(keys).toEqual(['ds/part-000.parquet', 'ds/part-001.parquet', 'ds/part-002.parquet']);
    const plan = await planShards(store, keys, 600);
    expect(plan.numRows).toBe(3_000);
    expect(plan.schema.fields.map((f) => f.name)).toEqual(['id', 'x', 's', 'd']);
    // Row groups of 300, 300, 300, 100 per file: shards of 600, 400 in each.
    expect(plan.shards.map((s) => [s.index, s.firstRow, s.rows, s.pieces[0].key.slice(3), s.pieces[0].start, s.pieces[0].end])).toEqual([
      [0, 0, 600, 'part-000.parquet', 0, 2], [1, 600, 400, 'part-000.parquet', 2, 4],
      [2, 1_000, 600, 'part-001.parquet', 0, 2], [3, 1_600, 400, 'part-001.parquet', 2, 4],
      [4, 2_000, 600, 'part-002.parquet', 0, 2], [5, 2_600, 400, 'part-002.parquet', 2, 4],
    ]);
    expect(await listTableFiles(store, 'ds/part-001.parquet')).toEqual(['ds/part-001.parquet']);
  });

  it('cuts Arrow IPC files (written by pyarrow) at record batch boundaries', async () => {
    const dir = await tempDir('te-plan-');
    await writeTable(join(dir, 'ds'), 2, 1_000, 250, 'b', 'ipc');
    const store = new DirectoryStore(dir);
    const plan = await planShards(store, await listTableFiles(store, 'ds'), 500);
    expect(plan.numRows).toBe(2_000);
    expect(plan.shards.map((s) => [s.firstRow, s.rows, s.pieces[0].kind, s.pieces[0].start, s.pieces[0].end])).toEqual([
      [0, 500, 'ipc', 0, 2], [500, 500, 'ipc', 2, 4], [1_000, 500, 'ipc', 0, 2], [1_500, 500, 'ipc', 2, 4],
    ]);
  });

  it('refuses a directory whose files have other columns, and one with no table file', async () => {
    const dir = await tempDir('te-plan-');
    await writeTable(join(dir, 'ds'), 1, 100, 100, 'a');
    const { Table, tableToIPC, vectorFromArray } = await import('apache-arrow');
    const { writeFile, mkdir } = await import('node:fs/promises');
    await writeFile(join(dir, 'ds', 'b.arrow'), tableToIPC(new Table({ other: vectorFromArray([1, 2, 3]) }), 'file'));
    const store = new DirectoryStore(dir);
    await expect(planShards(store, await listTableFiles(store, 'ds'))).rejects.toThrow(/b\.arrow does not have the columns of a-000\.parquet/);
    await mkdir(join(dir, 'empty'));
    await expect(listTableFiles(store, 'empty')).rejects.toThrow(/no table file/);
  });
});
