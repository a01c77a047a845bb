import type { RecordBatch, Schema } from 'apache-arrow';
import { ExportError } from '../errors.js';
import type { PositionedBatch } from '../sinks/splitting.js';
import { bindSchema, type Normalize } from '../table/normalize.js';
import type { Table } from '../table/types.js';

/** Yields `first` (a batch already taken to learn the schema), then the rest of the iterator. */
export async function* replay(first: RecordBatch | null, rest: AsyncIterator<RecordBatch>): AsyncGenerator<RecordBatch> {
  if (first) yield first;
  for (;;) {
    const next = await rest.next();
    if (next.done) return;
    yield next.value;
  }
}

/**
 * Checks each batch against the table and brings it to canonical types, keeping count of rows
 * so every error can name the row. A source failure becomes SOURCE_FAILED with the row count.
 */
export async function* positionBatches(batches: AsyncIterable<RecordBatch>, table: Table, format: string): AsyncGenerator<PositionedBatch> {
  let schema: Schema | null = null;
  let normalize: Normalize | null = null;
  let row = 0;
  const iterator = batches[Symbol.asyncIterator]();
  for (;;) {
    let next: IteratorResult<RecordBatch>;
    try {
      next = await iterator.next();
    } catch (err) {
      if (err instanceof ExportError) throw err.withFormat(format);
      const text = err instanceof Error ? err.message : String(err);
      throw new ExportError('SOURCE_FAILED', `the source failed after ${row} rows: ${text}`, { format }, { cause: err });
    }
    if (next.done) return;
    const batch = next.value;
    let positioned: PositionedBatch;
    try {
      if (batch.schema !== schema || !normalize) {
        normalize = bindSchema(table, batch.schema, row);
        schema = batch.schema;
      }
      positioned = { batch: normalize(batch, row), firstRow: row };
    } catch (err) {
      throw err instanceof ExportError ? err.withFormat(format) : err;
    }
    yield positioned;
    row += batch.numRows;
  }
}
