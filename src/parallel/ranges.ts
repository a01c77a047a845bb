import { encodeSchemaMessage, type BatchBlock } from '../sources/ipc-footer.js';
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

/**
 * The source's batches in ranges, in order, with their first rows. With `groupRows` (a
 * format's fixed chunk: a parquet row group), every range but the last holds exactly that many
 * rows, cut inside batches where it must (RangeSpec skip/take); else ranges are whole batches,
 * up to RANGE_BYTES of body or RANGE_ROWS rows together.
 */
export function* planRanges(ranges: SourceRanges, table: Table, groupRows?: number): Generator<RangeItem> {
  const { blocks } = ranges;
  const schemaMessage = encodeSchemaMessage(ranges.schema);
  const types = table.variables.map((v) => v.type);
  const firstBatch = ranges.firstBatch ?? 0;
  const spec = (i: number, j: number, skip = 0, take: number | null = null): RangeSpec =>
    ({ path: ranges.path, label: ranges.label, schemaMessage, blocks: blocks.slice(i, j), firstBatch: firstBatch + i, table, types, skip, take });
  if (groupRows !== undefined) {
    yield* planGroups(blocks, Math.max(1, groupRows), spec);
    return;
  }
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
    yield { spec: spec(i, j), firstRow: row, rows };
    row += rows;
    i = j;
  }
}

/** Ranges of exactly `groupRows` rows (the last: what is left), over whatever batches hold them. */
function* planGroups(blocks: readonly BatchBlock[], groupRows: number, spec: (i: number, j: number, skip: number, take: number) => RangeSpec): Generator<RangeItem> {
  const total = blocks.reduce((n, b) => n + b.rows, 0);
  let i = 0; // the block holding row `row`
  let blockStart = 0; // the table row block i starts at
  for (let row = 0; row < total; row += groupRows) {
    const rows = Math.min(groupRows, total - row);
    while (blockStart + blocks[i].rows <= row) blockStart += blocks[i++].rows;
    let j = i;
    let end = blockStart;
    while (end < row + rows) end += blocks[j++].rows;
    yield { spec: spec(i, j, row - blockStart, rows), firstRow: row, rows };
  }
}
