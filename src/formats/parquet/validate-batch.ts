import { Type } from 'apache-arrow';
import type { RecordBatch } from 'apache-arrow';
import { isValid, viewColumn } from '../../table/columns.js';
import { ExportError } from '../../errors.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Why wasm refused a batch, as an ExportError naming column and row, or null when the cause is
 * not one this knows. Runs only after a failure: arrow-rs validates the batch as it reads it
 * (text must be UTF-8, which a Parquet STRING column requires), so the happy path scans nothing
 * twice. Invalid UTF-8 is the one refusal a canonical batch can earn; it can come from batches
 * built in JS or an IPC file whose writer did not check.
 */
export function explainBatchFailure(batch: RecordBatch, firstRow: number, cause: unknown): ExportError | null {
  for (let c = 0; c < batch.schema.fields.length; c++) {
    const field = batch.schema.fields[c];
    if (field.type.typeId !== Type.Utf8) continue; // the only canonical type wasm checks by content
    const row = findInvalidUtf8(batch, c);
    if (row !== null) {
      return new ExportError('VALUE_OUT_OF_RANGE',
        'the text is not valid UTF-8, and a Parquet STRING column holds UTF-8 only; fix the text in the source',
        { format: 'parquet', column: field.name, row: firstRow + row }, { cause });
    }
  }
  return null;
}

/** Index of the first non-null value of string column c that is not UTF-8, or null. */
function findInvalidUtf8(batch: RecordBatch, c: number): number | null {
  const col = viewColumn(batch.data.children[c], 'string');
  const offsets = col.offsets;
  if (!offsets) return null;
  const bytes = col.values as Uint8Array;
  for (let i = 0; i < col.length; i++) {
    if (!isValid(col, i)) continue;
    try {
      utf8.decode(bytes.subarray(offsets[i], offsets[i + 1]));
    } catch {
      return i;
    }
  }
  return null;
}
