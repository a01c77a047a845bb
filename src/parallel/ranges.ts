import { encodeSchemaMessage } from '../sources/ipc-footer.js';
import type { SourceRanges } from '../sources/ranges.js';
import type { Table } from '../table/types.js';
import type { RangeSpec } from './range-read.js';

/**
 * A range of the source's batches that a worker thread reads and encodes itself (issue #12):
 * for a source that can be read at random (a local Arrow IPC file), the calling thread only
 * hands out ranges and writes the bytes that come back, in order; it never reads a row.
 */
export interface RangeItem {
  spec: RangeSpec;
  firstRow: number;
  rows: number;
}

/** A range holds batches up to about this many bytes of input or rows (one batch at least). */
const RANGE_BYTES = 4 << 20;
const RANGE_ROWS = 65_536;

/** The source's batches in ranges, in order, with their first rows. */
export function* planRanges(ranges: SourceRanges, table: Table): Generator<RangeItem> {
  const { blocks } = ranges;
  const schemaMessage = encodeSchemaMessage(ranges.schema);
  const types = table.variables.map((v) => v.type);
  let row = 0;
  for (let i = 0; i < blocks.length;) {
    let j = i;
    let bytes = 0;
    let rows = 0;
    do {
      bytes += blocks[j].bodyLength;
      rows += blocks[j].rows;
      j++;
    } while (j < blocks.length && bytes + blocks[j].bodyLength <= RANGE_BYTES && rows + blocks[j].rows <= RANGE_ROWS);
    const spec: RangeSpec = { path: ranges.path, label: ranges.label, schemaMessage, blocks: blocks.slice(i, j), firstBatch: (ranges.firstBatch ?? 0) + i, table, types };
    yield { spec, firstRow: row, rows };
    row += rows;
    i = j;
  }
}
