import { readdirSync } from 'node:fs';
import { Field, Int64, RecordBatch, Schema, Struct, Utf8, makeData, vectorFromArray } from 'apache-arrow';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A simple two-column (id int64, label utf8) batch of `n` rows starting at `start`. */
export function idBatch(start: number, n: number): RecordBatch {
  const ids = BigInt64Array.from({ length: n }, (_, i) => BigInt(start + i));
  const labels = Array.from({ length: n }, (_, i) => `row ${start + i}`);
  const fields = [new Field('id', new Int64(), true), new Field('label', new Utf8(), true)];
  const children = [makeData({ type: new Int64(), length: n, data: ids }), vectorFromArray(labels, new Utf8()).data[0]];
  return new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: n, children }));
}

export function idBatches(sizes: number[]): RecordBatch[] {
  let start = 0;
  return sizes.map((n) => { const b = idBatch(start, n); start += n; return b; });
}

/** Directories made by tempDir in this test file, removed after it by test/setup.ts. */
const madeDirs: string[] = [];

/** A new directory in the system's temp directory, removed (with all in it) once the test file has run. */
export async function tempDir(prefix = 'te-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  madeDirs.push(dir);
  return dir;
}

/** Removes every directory tempDir made so far. */
export async function removeTempDirs(): Promise<void> {
  const dirs = madeDirs.splice(0);
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true, maxRetries: 3 })));
}

/** Every entry of a directory, hidden temporary files included. */
export async function listDir(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A directory's entries, or none when it does not exist (an export that failed before its first file). */
export function readdirOrEmpty(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
