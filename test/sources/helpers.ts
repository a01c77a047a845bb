import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Dictionary, Float64, Int32, Int64, Message, RecordBatch, RecordBatchFileWriter, RecordBatchStreamWriter, Table, Utf8, vectorFromArray,
} from 'apache-arrow';
import type { Schema } from 'apache-arrow';
import type { OpenedSource } from '../../src/sources/types.js';

/** A batch of `n` rows starting at `first`: i Int64, f Float64, s Utf8 (every 7th row null). */
export function makeBatch(first: number, n: number): RecordBatch {
  const rows = Array.from({ length: n }, (_, k) => first + k);
  const table = new Table({
    i: vectorFromArray(rows.map((r) => BigInt(r) * 1_000_000_007n), new Int64()),
    f: vectorFromArray(rows.map((r) => r / 4), new Float64()),
    s: vectorFromArray(rows.map((r) => (r % 7 === 0 ? null : `row ${r} é😀`)), new Utf8()),
  });
  return table.batches[0];
}

export function makeBatches(count: number, size: number): RecordBatch[] {
  return Array.from({ length: count }, (_, b) => makeBatch(b * size, size));
}

/** Batches of one dictionary-encoded column whose dictionary is replaced from batch to batch. */
export function makeDictionaryBatches(): RecordBatch[] {
  const type = new Dictionary(new Utf8(), new Int32(), 0);
  const words = [['red', 'green', 'red', null], ['blue', 'cyan', 'cyan', 'blue', 'navy']];
  return words.map((list) => new Table({ colour: vectorFromArray(list, type) }).batches[0]);
}

export function toFileIPC(batches: RecordBatch[]): Uint8Array {
  return RecordBatchFileWriter.writeAll(batches).toUint8Array(true);
}

/**
 * An IPC file that, like C++/Rust/pyarrow files, repeats its schema at the start of the stream
 * part (arrow-js keeps it only in the footer), so it can be read front to back.
 */
class SchemaFirstFileWriter extends RecordBatchFileWriter {
  protected override _writeSchema(schema: Schema): this {
    super._writeSchema(schema);
    return this._writeMessage(Message.from(schema));
  }
}

export function toSchemaFirstFileIPC(batches: RecordBatch[]): Uint8Array {
  return new SchemaFirstFileWriter().writeAll(batches).toUint8Array(true);
}

export function toStreamIPC(batches: RecordBatch[]): Uint8Array {
  return RecordBatchStreamWriter.writeAll(batches).toUint8Array(true);
}

/** Every row of every batch as plain objects (fine in tests, never in the library). */
export function rowsOf(batches: readonly RecordBatch[]): Record<string, unknown>[] {
  return batches.flatMap((b) => b.toArray().map((row) => ({ ...row.toJSON() })));
}

export interface Drained {
  batches: RecordBatch[];
  /** bytesRead() after open and after each batch. */
  progress: number[];
}

/** Reads an opened source to the end, recording bytesRead as it goes, and closes it. */
export async function drain(opened: OpenedSource): Promise<Drained> {
  const batches: RecordBatch[] = [];
  const progress = [opened.bytesRead()];
  try {
    for await (const batch of opened.batches) {
      batches.push(batch);
      progress.push(opened.bytesRead());
    }
    progress.push(opened.bytesRead());
  } finally {
    await opened.close();
  }
  return { batches, progress };
}

export function isNonDecreasing(values: readonly number[]): boolean {
  return values.every((v, i) => i === 0 || v >= values[i - 1]);
}

export async function withTempDir<T>(run: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'tabular-export-sources-'));
  try {
    return await run(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
