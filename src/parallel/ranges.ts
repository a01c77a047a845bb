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
 * rows (or fewer, at `groupBytes` of body), cut inside batches where it must (RangeSpec
 * skip/take); else ranges are whole batches,
 * up to RANGE_BYTES of body or RANGE_ROWS rows together.
 */
export function* planRanges(ranges: SourceRanges, table: Table, groupRows?: number, groupBytes = Infinity): Generator<RangeItem> {
  const { blocks } = ranges;
  const schemaMessage = encodeSchemaMessage(ranges.schema);
  const types = table.variables.map((v) => v.type);
  const firstBatch = ranges.firstBatch ?? 0;
  const spec = (i: number, j: number, skip = 0, take: number | null = null): RangeSpec =>
    ({ path: ranges.path, label: ranges.label, schemaMessage, blocks: blocks.slice(i, j), firstBatch: firstBatch + i, table, types, skip, take });
  if (groupRows !== undefined) {
    yield* planGroups(blocks, Math.max(1, groupRows), groupBytes, spec);
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

/**
 * Ranges of `groupRows` rows (the last: what is left), over whatever batches hold them; a range
 * also ends once its rows' share of their batches' bodies reaches `groupBytes` (at least a row).
 */
function* planGroups(blocks: readonly BatchBlock[], groupRows: number, groupBytes: number, spec: (i: number, j: number, skip: number, take: number) => RangeSpec): Generator<RangeItem> {
  const total = blocks.reduce((n, b) => n + b.rows, 0);
  let i = 0; // the block holding row `row`
  let blockStart = 0; // the table row block i starts at
  for (let row = 0; row < total;) {
    while (blockStart + blocks[i].rows <= row) blockStart += blocks[i++].rows;
    let j = i;
    let end = blockStart; // where block j starts
    let rows = 0;
    let bytes = 0;
    while (rows < groupRows && row + rows < total) {
      const block = blocks[j];
      const left = block.rows - (row + rows - end); // rows of block j not yet taken
      if (left <= 0) { end += block.rows; j++; continue; }
      const perRow = block.bodyLength / block.rows;
      let take = Math.min(left, groupRows - rows);
      if (perRow > 0) take = Math.min(take, Math.max(rows === 0 ? 1 : 0, Math.ceil((groupBytes - bytes) / perRow)));
      if (take <= 0) break;
      rows += take;
      bytes += take * perRow;
      j++;
      if (take < left) break;
      end += block.rows;
    }
    // Blocks i..j-1 hold the range (j past the last one it touches).
    yield { spec: spec(i, j, row - blockStart, rows), firstRow: row, rows };
    row += rows;
  }
}
