import type { RecordBatch } from 'apache-arrow';
import { isValid, viewColumn, type ColumnView } from '../../table/columns.js';
import type { Table } from '../../table/types.js';
import type { ParquetEncodingName } from './messages.js';

/** Values looked at per column: enough to tell a code list from free text, cheap once per export. */
const SAMPLE = 8192;
/** Dictionary encoding when at most this share of the sampled values are distinct. */
const MAX_DISTINCT_SHARE = 0.25;
/** Fewer values than this tell little: such a column gets a dictionary, arrow-rs's own default. */
const MIN_SAMPLE = 1024;

/**
 * The columns worth dictionary encoding, judged from the first batch of the export. A
 * dictionary shrinks repetitive columns several times over (the benchmark's 20-word category:
 * 3.1 MB → 0.6 MB per million rows), but arrow-rs hashes every value before it finds that a
 * high-cardinality column does not fit and falls back to PLAIN — on the benchmark's free-text
 * names that wasted about a fifth of the whole encoding time. So the choice is made per column
 * from a sample, once, and every part of the export uses it. A first batch too small to judge
 * leaves the dictionary on, and arrow-rs falls back to PLAIN by itself where it does not fit.
 * Booleans never use a dictionary.
 */
export function chooseDictionaryColumns(table: Table, batch: RecordBatch): string[] {
  const chosen: string[] = [];
  table.variables.forEach((variable, c) => {
    if (variable.type === 'boolean') return;
    if (looksRepetitive(viewColumn(batch.data.children[c], variable.type))) chosen.push(variable.name);
  });
  return chosen;
}

/** Encodings of the parallel path: which columns get a dictionary, and the others' encoding. */
export interface EncodingChoice {
  dictionaryColumns: string[];
  encodings: Record<string, ParquetEncodingName>;
}

/**
 * The parallel path's encodings, judged from the export's first batch. Measured with
 * parquet-wasm on the benchmark table (1 Mi rows, snappy, per column against PLAIN):
 * DELTA_BINARY_PACKED made integers, dates, times and timestamps both smaller and faster to
 * write (a sequential id all but vanishes; the 101-value `small` was as small as with a
 * dictionary, which costs a hash per value), and DELTA_LENGTH_BYTE_ARRAY did the same for free
 * text; repetitive text keeps its dictionary. Floats stay PLAIN (BYTE_STREAM_SPLIT was slower
 * and larger on prices) unless repetitive; booleans stay PLAIN. Every reader the tests use
 * (pyarrow, DuckDB, polars, pandas) reads these encodings; the single-threaded path keeps its
 * own choice (chooseDictionaryColumns) so its files do not change.
 */
export function chooseEncodings(table: Table, batch: RecordBatch): EncodingChoice {
  const dictionaryColumns: string[] = [];
  const encodings: Record<string, ParquetEncodingName> = {};
  table.variables.forEach((variable, c) => {
    switch (variable.type) {
      case 'boolean':
        return;
      case 'integer':
      case 'date':
      case 'dateTime':
      case 'time':
        encodings[variable.name] = 'DELTA_BINARY_PACKED';
        return;
      default: {
        const repetitive = looksRepetitive(viewColumn(batch.data.children[c], variable.type));
        if (repetitive) dictionaryColumns.push(variable.name);
        else if (variable.type !== 'float') encodings[variable.name] = 'DELTA_LENGTH_BYTE_ARRAY';
      }
    }
  });
  return { dictionaryColumns, encodings };
}

/** A sample too small to judge, or one with few distinct values. */
function looksRepetitive(col: ColumnView): boolean {
  const { sampled, distinct } = countDistinct(col);
  return sampled < MIN_SAMPLE || distinct <= sampled * MAX_DISTINCT_SHARE;
}

/** Distinct values among the first SAMPLE non-null values of a column. */
function countDistinct(col: ColumnView): { sampled: number; distinct: number } {
  const seen = new Set<string | number | bigint>();
  const key = bindKeyReader(col);
  let sampled = 0;
  for (let i = 0; i < col.length && sampled < SAMPLE; i++) {
    if (!isValid(col, i)) continue;
    seen.add(key(i));
    sampled += 1;
  }
  return { sampled, distinct: seen.size };
}

const latin1 = new TextDecoder('latin1');

/** A value of row i usable as a Set key: equal keys exactly when the stored values are equal. */
function bindKeyReader(col: ColumnView): (i: number) => string | number | bigint {
  const { values, offsets } = col;
  if (offsets) {
    // Byte-wise identity is what the dictionary compares, and latin1 maps bytes 1:1 to chars.
    const bytes = values as Uint8Array;
    return (i) => latin1.decode(bytes.subarray(offsets[i], offsets[i + 1]));
  }
  if (values instanceof Float64Array) {
    // Object.is semantics for -0 and NaN are not needed for a size estimate.
    return (i) => values[i];
  }
  return (i) => (values as BigInt64Array | Int32Array)[i];
}
