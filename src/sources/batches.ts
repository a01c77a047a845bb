import { isArrowRecordBatch } from 'apache-arrow';
import type { RecordBatch, Schema } from 'apache-arrow';
import { basename, extname } from 'node:path';
import { ExportError } from '../errors.js';
import type { BatchSource, OpenedSource } from './types.js';

export type BatchInput = AsyncIterable<RecordBatch> | Iterable<RecordBatch>;

/** A file's name without its directory and extension: the name a source read from it gives its table. */
export function nameOfPath(path: string): string {
  return basename(path, extname(path));
}

/**
 * Returns a function to call at the start of each open(): a one-shot input may be opened once,
 * and a second open fails loudly instead of silently yielding no batches.
 */
export function guardOpen(reopenable: boolean, what: string): () => void {
  let opened = false;
  return () => {
    if (opened && !reopenable) {
      throw new ExportError('SOURCE_FAILED', `${what} is a one-shot stream and was already opened; ` +
        'give an array, a file path or a buffer to read it more than once (or spool it)');
    }
    opened = true;
  };
}

/**
 * Batches the caller already has. An Array can be read again, so it is reopenable (and its row
 * count and schema are known up front); any other iterable is treated as one-shot, since
 * iterating a generator twice silently yields nothing the second time.
 */
export function fromBatches(input: BatchInput): BatchSource {
  const reopenable = Array.isArray(input);
  const claim = guardOpen(reopenable, 'the batch iterable');
  return {
    reopenable,
    async open(): Promise<OpenedSource> {
      claim();
      const list = Array.isArray(input) ? (input as RecordBatch[]) : null;
      const batches = iterateBatches(input);
      return {
        schema: list ? firstSchema(list) : null,
        numRows: list ? list.reduce((sum, b) => sum + b.numRows, 0) : null,
        totalBytes: null,
        bytesRead: () => 0,
        batches,
        async close() {
          // Ending the generator runs the input iterator's return(), releasing what it holds.
          await batches.return(undefined);
        },
      };
    },
  };
}

function firstSchema(list: readonly RecordBatch[]): Schema | null {
  return list.length > 0 ? list[0].schema : null;
}

async function* iterateBatches(input: BatchInput): AsyncGenerator<RecordBatch, void, undefined> {
  let index = 0;
  for await (const item of input) {
    // isArrowRecordBatch rather than instanceof: the caller may hold another copy of apache-arrow
    // (its CJS build next to our ESM one), whose classes are different objects.
    if (!isArrowRecordBatch(item)) {
      throw new ExportError('SOURCE_FAILED', `item ${index} of the batch input is ${describeItem(item)}, not an Arrow RecordBatch`);
    }
    index++;
    yield item;
  }
}

function describeItem(item: unknown): string {
  if (item === null) return 'null';
  if (typeof item !== 'object') return `a ${typeof item}`;
  const name = (item as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === 'string' && name !== 'Object' ? `a ${name}` : 'a plain object';
}

function isBatchSource(input: BatchSource | BatchInput): input is BatchSource {
  const candidate = input as Partial<BatchSource>;
  return typeof candidate.open === 'function' && typeof candidate.reopenable === 'boolean';
}

/** Accepts a BatchSource as is and wraps a plain (async) iterable of batches. */
export function toBatchSource(input: BatchSource | BatchInput): BatchSource {
  return isBatchSource(input) ? input : fromBatches(input);
}
