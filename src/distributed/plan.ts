import type { Schema } from 'apache-arrow';
import { posix } from 'node:path';
import { ExportError } from '../errors.js';
import { fromIPC } from '../sources/ipc.js';
import { ipcBatchRows } from '../sources/ipc-batch-range.js';
import { ipcLabel } from '../sources/ipc-messages.js';
import { fromParquet } from '../sources/parquet.js';
import type { RowGroupInfo } from '../sources/parquet-reader-loop.js';
import type { ObjectStore } from '../store/types.js';

/** Rows a shard holds about (issue #13's default): shards cut at row-group boundaries near it. */
export const DEFAULT_SHARD_ROWS = 2_000_000;

const PARQUET = new Set(['.parquet']);
const IPC_FILES = new Set(['.arrow', '.feather', '.ipc']);

/**
 * A stretch of one table file: row groups `start` to `end` (exclusive) of a Parquet file,
 * record batches `start` to `end` of an Arrow IPC file, or a whole IPC file whose batches
 * cannot be read alone (`ipc-file`: dictionary-encoded columns). Small enough for a job's data.
 */
export interface Piece {
  key: string;
  kind: 'parquet' | 'ipc' | 'ipc-file';
  start: number;
  end: number;
  rows: number;
}

/** One shard: the pieces it reads, in table order, and where its rows start in the table. */
export interface ShardPlan {
  index: number;
  firstRow: number;
  rows: number;
  pieces: Piece[];
}

export interface TablePlan {
  schema: Schema;
  numRows: number;
  shards: ShardPlan[];
}

/**
 * The table files under `key` in a store: the object itself when there is one, else every
 * Parquet and Arrow IPC file directly under the prefix `key/`, in name order (a dataset
 * directory read as one table).
 */
export async function listTableFiles(store: ObjectStore, key: string): Promise<string[]> {
  const trimmed = key.replace(/\/+$/, '');
  if (trimmed !== '' && (await store.stat(trimmed)) !== null) return [trimmed];
  const prefix = trimmed === '' ? '' : `${trimmed}/`;
  const keys: string[] = [];
  for await (const { key: found } of store.list(prefix, { shallow: true })) {
    const ext = posix.extname(found).toLowerCase();
    if (PARQUET.has(ext) || IPC_FILES.has(ext)) keys.push(found);
  }
  if (keys.length === 0) throw new ExportError('INVALID_OPTION', `no table file (.parquet, .arrow, .feather) at ${store.locate(trimmed)}`);
  return keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Plans a table (one or more files, read as one in the order given) as shards of about
 * `shardRows` rows: Parquet files cut at row-group boundaries, Arrow IPC files at record batch
 * boundaries (a file with dictionary-encoded columns whole). A shard never spans two files, so
 * each reads one file; a unit larger than `shardRows` is a shard of its own. Only footers and
 * batch metadata are read. Every file must have the first one's columns.
 */
export async function planShards(store: ObjectStore, keys: readonly string[], shardRows = DEFAULT_SHARD_ROWS): Promise<TablePlan> {
  if (!(Number.isSafeInteger(shardRows) && shardRows > 0)) throw new ExportError('INVALID_OPTION', `shardRows must be a positive integer, got ${shardRows}`);
  let schema: Schema | null = null;
  const shards: ShardPlan[] = [];
  let firstRow = 0;
  for (const key of keys) {
    const ext = posix.extname(key).toLowerCase();
    const file = await describeFile(store, key, ext);
    if (schema === null) schema = file.schema;
    else checkSameColumns(schema, file.schema, keys[0], key);
    for (const piece of file.pieces(shardRows)) {
      shards.push({ index: shards.length, firstRow, rows: piece.rows, pieces: [piece] });
      firstRow += piece.rows;
    }
  }
  if (schema === null) throw new ExportError('INVALID_OPTION', 'a table needs at least one file');
  return { schema, numRows: firstRow, shards };
}

/** All of a plan in one shard (dta and sav: one file written by one job). */
export function asOneShard(plan: TablePlan): ShardPlan[] {
  return [{ index: 0, firstRow: 0, rows: plan.numRows, pieces: plan.shards.flatMap((s) => s.pieces) }];
}

interface FileLayout {
  schema: Schema;
  pieces(shardRows: number): Piece[];
}

async function describeFile(store: ObjectStore, key: string, ext: string): Promise<FileLayout> {
  if (PARQUET.has(ext)) {
    let groups: RowGroupInfo[] = [];
    const opened = await fromParquet(store.openRead(key), { rowGroups: { start: 0, end: 0 }, onGroups: (found) => { groups = found; } }).open();
    await opened.close();
    return { schema: opened.schema as Schema, pieces: (shardRows) => cutUnits(key, 'parquet', groups.map((g) => g.numRows), shardRows) };
  }
  if (IPC_FILES.has(ext)) {
    const opened = await fromIPC(store.openRead(key)).open();
    await opened.close();
    const batches = await ipcBatchRows(store.openRead(key), ipcLabel('file', key)).catch((err: unknown) => {
      if (err instanceof ExportError && err.code === 'INVALID_OPTION') return null; // dictionaries: the file is one piece
      throw err;
    });
    const rows = opened.numRows ?? 0;
    return {
      schema: opened.schema as Schema,
      pieces: (shardRows) => (batches ? cutUnits(key, 'ipc', batches, shardRows) : [{ key, kind: 'ipc-file', start: 0, end: 1, rows }]),
    };
  }
  throw new ExportError('INVALID_OPTION', `${posix.basename(key)} is not a file a distributed export can read at random: use .parquet, .arrow or .feather`);
}

/**
 * Consecutive units (row groups, record batches; their row counts given) gathered until the
 * next would pass `shardRows`; a file without any is one empty piece.
 */
export function cutUnits(key: string, kind: 'parquet' | 'ipc', unitRows: readonly number[], shardRows: number): Piece[] {
  const pieces: Piece[] = [];
  let start = 0;
  let rows = 0;
  unitRows.forEach((n, u) => {
    if (u > start && rows + n > shardRows) {
      pieces.push({ key, kind, start, end: u, rows });
      start = u;
      rows = 0;
    }
    rows += n;
  });
  pieces.push({ key, kind, start, end: unitRows.length, rows });
  return pieces;
}

function checkSameColumns(first: Schema, other: Schema, firstKey: string, otherKey: string): void {
  const describe = (s: Schema): string => s.fields.map((f) => `${f.name}:${String(f.type)}`).join(', ');
  if (describe(first) !== describe(other)) {
    throw new ExportError('SCHEMA_MISMATCH', `${posix.basename(otherKey)} does not have the columns of ${posix.basename(firstKey)}: ` +
      `(${describe(other)}) instead of (${describe(first)}); the files of a table must share their columns`);
  }
}
