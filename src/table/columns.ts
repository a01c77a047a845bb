import type { Data, RecordBatch } from 'apache-arrow';
import type { VariableType } from './types.js';

/**
 * One column of one canonical batch, as the typed arrays encoders read. Canonical layouts:
 * integer BigInt64Array; float Float64Array; boolean bit-packed Uint8Array (bit bitOffset+i);
 * date Int32Array days since 1970; dateTime and time BigInt64Array microseconds;
 * string/geography UTF-8 bytes in `values` with `offsets[i]..offsets[i+1]` (absolute).
 * Fixed-width `values` start at the batch's row 0; bitmaps are read at bitOffset + i.
 */
export interface ColumnView {
  readonly type: VariableType;
  readonly length: number;
  readonly nullCount: number;
  readonly validity: Uint8Array | null;
  readonly bitOffset: number;
  readonly values: BigInt64Array | Float64Array | Int32Array | Uint8Array;
  readonly offsets: Int32Array | null;
}

export function viewColumn(data: Data, type: VariableType): ColumnView {
  const validity = data.nullCount > 0 && data.nullBitmap && data.nullBitmap.length > 0 ? data.nullBitmap : null;
  return {
    type,
    length: data.length,
    nullCount: validity ? data.nullCount : 0,
    validity,
    bitOffset: data.offset,
    values: data.values as ColumnView['values'],
    offsets: (data.valueOffsets as Int32Array | undefined) ?? null,
  };
}

/** Views of every column of a canonical batch, in table order. */
export function viewColumns(batch: RecordBatch, types: readonly VariableType[]): ColumnView[] {
  return batch.data.children.map((child, i) => viewColumn(child, types[i]));
}

/** True when row i of the column holds a value (not null). */
export function isValid(col: ColumnView, i: number): boolean {
  const v = col.validity;
  if (v === null) return true;
  const bit = col.bitOffset + i;
  return ((v[bit >> 3] >> (bit & 7)) & 1) === 1;
}
