import { closeSync, openSync, readSync } from 'node:fs';
import { decodeBlocks } from '../sources/ipc-blocks.js';
import type { BatchBlock } from '../sources/ipc-footer.js';
import { corrupt, sourceFailed } from '../sources/ipc-messages.js';
import { viewColumns, type ColumnView } from '../table/columns.js';
import type { RecordBatch, Schema } from 'apache-arrow';
import { bindSchema, type Normalize } from '../table/normalize.js';
import type { Table, VariableType } from '../table/types.js';

/**
 * A range of an IPC file's record batches, as a worker thread gets it: where they are, and
 * what it needs to turn them into the export's canonical rows itself (issue #12).
 */
export interface RangeSpec {
  path: string;
  label: string;
  /** The file's schema as an IPC stream's first message. */
  schemaMessage: Uint8Array;
  blocks: BatchBlock[];
  /** The first block's index among the file's batches (errors name the batch). */
  firstBatch: number;
  /** Rows of the first block before the range (a range cut inside a batch: a parquet row group). */
  skip: number;
  /** Rows the range holds from there; null for all of its blocks. */
  take: number | null;
  table: Table;
  types: VariableType[];
}

/** One canonical batch of a range, as column views, and its first row in the table. */
export interface RangeBatch {
  batch: RecordBatch;
  cols: ColumnView[];
  rows: number;
  firstRow: number;
}

/**
 * The bytes of the range are read into one buffer per thread, used again by its next range:
 * the batches read from it are views, dropped before the next task (a task's output never
 * points into its input).
 */
let scratch = new Uint8Array(0);

function scratchOf(bytes: number): Uint8Array {
  if (scratch.byteLength < bytes) scratch = new Uint8Array(Math.ceil(bytes * 1.25));
  return scratch.subarray(0, bytes);
}

/**
 * Reads a range's batches, with the same checks as a sequential read (ipc-blocks.ts), and
 * brings them to canonical types as the calling thread would (bindSchema): errors name the
 * file, the byte or batch, the column and the row.
 */
export function readRange(range: RangeSpec, firstRow: number): RangeBatch[] {
  const { label, blocks } = range;
  const start = blocks[0].offset;
  const last = blocks[blocks.length - 1];
  const bytes = readSpan(range.path, label, start, last.offset + last.metaDataLength + last.bodyLength);
  const out: RangeBatch[] = [];
  let row = firstRow;
  let normalize: Normalize | null = null;
  let schema: Schema | null = null;
  let skip = range.skip;
  let left = range.take ?? Infinity;
  for (const whole of decodeBlocks(bytes, start, blocks, range.schemaMessage, label, range.firstBatch)) {
    // Only the range's rows: the first batch from `skip`, the last up to `take` in all.
    const from = Math.min(skip, whole.numRows);
    const to = Math.min(whole.numRows, from + left);
    skip -= from;
    if (to <= from) continue;
    const batch = from === 0 && to === whole.numRows ? whole : whole.slice(from, to);
    left -= to - from;
    // The batches of one read share their schema: its normalizer is chosen once.
    if (normalize === null || batch.schema !== schema) {
      normalize = bindSchema(range.table, batch.schema, row);
      schema = batch.schema;
    }
    const normalized = normalize(batch, row);
    out.push({ batch: normalized, cols: viewColumns(normalized, range.types), rows: batch.numRows, firstRow: row });
    row += batch.numRows;
  }
  return out;
}

function readSpan(path: string, label: string, start: number, end: number): Uint8Array {
  const bytes = scratchOf(end - start);
  let fd: number | null = null;
  let done = 0;
  try {
    fd = openSync(path, 'r');
    while (done < bytes.byteLength) {
      const n = readSync(fd, bytes, done, bytes.byteLength - done, start + done);
      if (n === 0) break;
      done += n;
    }
  } catch (err) {
    throw sourceFailed(label, err);
  } finally {
    if (fd !== null) closeSync(fd);
  }
  if (done < bytes.byteLength) {
    throw corrupt(label, start + done, 'the file ends inside a record batch its footer points to (truncated?)');
  }
  return bytes;
}
