import { RecordBatch, Struct, Table as ArrowTable, makeData, tableToIPC } from 'apache-arrow';
import type { Schema } from 'apache-arrow';

/**
 * One canonical batch as an Arrow IPC stream, in a buffer of its own so it can be transferred
 * to the worker without a copy. IPC is the one way into parquet-wasm (it exports through the C
 * data interface but cannot import), so this is one serialization here and one copy plus
 * validation in wasm: about 0.1 s per million rows of the benchmark table, next to ~0.5 s of
 * Parquet encoding. The batch is re-labelled with the export's schema, so every batch carries
 * the file's field metadata.
 */
export function encodeBatchIPC(batch: RecordBatch, schema: Schema): Uint8Array {
  const labelled = batch.schema === schema ? batch : new RecordBatch(schema, batch.data);
  const bytes = tableToIPC(new ArrowTable([labelled]), 'stream');
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
}

/**
 * A batch without rows. parquet-wasm's streaming writer takes the file's schema from its first
 * batch, so every file begins with this one: an empty table still gets a complete file with
 * every column, and the schema never depends on which batch happens to come first.
 */
export function makeEmptyBatch(schema: Schema): RecordBatch {
  const children = schema.fields.map((f) => makeData({ type: f.type, length: 0, nullCount: 0 }));
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: 0, nullCount: 0, children }));
}
