import { Buffer } from 'node:buffer';
import { ExportError } from '../../errors.js';
import type { ColumnView } from '../../table/columns.js';
import { SYNC_BYTES } from './options.js';
import { AvroValueError, type CellWriter, type ColumnPlan } from './values.js';
import { MAX_LONG_BYTES } from './varint.js';

/**
 * Room left before a block's data for its head (object count and byte size, two longs), so
 * an uncompressed block is framed in place, without copying its data.
 */
export const HEAD_ROOM = 2 * MAX_LONG_BYTES;
/** Rows encoded between capacity checks: amortizes the check, bounds a chunk's reservation. */
const CHUNK_ROWS = 1024;
/** Spare room after maxBytes, so the chunks that end a block rarely make the buffer grow. */
const OVERRUN_BYTES = 1 << 16;
const NO_BYTES = new Uint8Array(0);

/** The encoded rows of one closed block, at bytes[start..end), with HEAD_ROOM free before start. */
export interface RawBlock {
  bytes: Uint8Array;
  start: number;
  end: number;
  rows: number;
}

/** One batch's columns bound to their writers: the state of the row loop. */
export interface BoundRows {
  writers: CellWriter[];
  /** Value offsets of the text columns, to size chunks. */
  textOffsets: Int32Array[];
  /** Most bytes a row takes apart from its strings' own bytes. */
  rowBytes: number;
  /** Original column names, for errors. */
  names: readonly string[];
  firstRow: number;
}

export function bindRows(plans: readonly ColumnPlan[], names: readonly string[], cols: readonly ColumnView[], firstRow: number): BoundRows {
  return {
    writers: plans.map((p, i) => p.bind(cols[i])),
    textOffsets: cols.filter((_, i) => plans[i].isText).map((c) => c.offsets as Int32Array),
    rowBytes: plans.reduce((n, p) => n + p.maxBytes, 0),
    names,
    firstRow,
  };
}

/**
 * The open block of a file: rows are encoded into it as they come, across batches, until it
 * holds `maxRows` rows or `maxBytes` bytes (one row may go past). Blocks therefore do not
 * depend on how the source batched its rows, and tiny batches still make full blocks.
 * Buffers come from `acquire`, so a file reuses the buffers its codec has finished with.
 */
export class BlockBuilder {
  /** Empty until the first row: a file that ends with a full block allocates no extra buffer. */
  private bytes: Uint8Array = NO_BYTES;
  private view: DataView = viewOf(NO_BYTES);
  private end = HEAD_ROOM;
  private rows = 0;

  constructor(
    private readonly maxRows: number,
    private readonly maxBytes: number,
    private readonly acquire: (minBytes: number) => Uint8Array,
  ) {}

  /** Rows in the open block. */
  get rowCount(): number {
    return this.rows;
  }

  get isEmpty(): boolean {
    return this.rows === 0;
  }

  get isFull(): boolean {
    return this.rows >= this.maxRows || this.end - HEAD_ROOM >= this.maxBytes;
  }

  /**
   * Encodes rows start.. of the batch until the batch ends or the block is full; returns the
   * next row to encode. A value Avro cannot hold throws an ExportError naming column and row.
   */
  encodeRows(bound: BoundRows, start: number, count: number): number {
    let row = start;
    while (row < count && !this.isFull) {
      const chunkEnd = this.reserveChunk(bound, row, Math.min(count, row + CHUNK_ROWS, row + this.maxRows - this.rows));
      row = this.encodeChunk(bound, row, chunkEnd);
    }
    return row;
  }

  /** Hands over the block's bytes; the next block gets a buffer with its first rows. */
  take(): RawBlock {
    const block: RawBlock = { bytes: this.bytes, start: HEAD_ROOM, end: this.end, rows: this.rows };
    this.setBuffer(NO_BYTES);
    this.end = HEAD_ROOM;
    this.rows = 0;
    return block;
  }

  /** Buffer size for a block, its last rows running past maxBytes, and the sync marker. */
  private capacityFor(extra: number): number {
    return HEAD_ROOM + this.maxBytes + Math.max(extra, OVERRUN_BYTES) + SYNC_BYTES;
  }

  /**
   * Makes room for rows start..end-1 (at their largest), halving the chunk until it fits in the
   * buffer; only a single row too large for what is left makes the buffer grow (a copy).
   */
  private reserveChunk(bound: BoundRows, start: number, end: number): number {
    if (this.bytes === NO_BYTES) this.setBuffer(this.acquire(this.capacityFor(0)));
    const room = this.bytes.length - SYNC_BYTES - this.end;
    let bytes = measureRows(bound, start, end);
    while (end - start > 1 && bytes > room) {
      end = start + ((end - start) >> 1);
      bytes = measureRows(bound, start, end);
    }
    if (bytes > room) {
      const grown = this.acquire(Math.max(this.end + bytes + SYNC_BYTES, this.capacityFor(bytes)));
      grown.set(this.bytes.subarray(0, this.end));
      this.setBuffer(grown);
    }
    return end;
  }

  private setBuffer(bytes: Uint8Array): void {
    this.bytes = bytes;
    this.view = viewOf(bytes);
  }

  /** The row loop: one writer call per cell, stopping early once the block is big enough. */
  private encodeChunk(bound: BoundRows, start: number, end: number): number {
    const { writers } = bound;
    let loop = loops.get(writers.length);
    if (loop === undefined) loops.set(writers.length, (loop = compileRowLoop(writers.length)));
    const stop = { row: start, column: 0, pos: this.end };
    try {
      loop(writers, this.bytes, this.view, stop, end, HEAD_ROOM + this.maxBytes);
    } catch (err) {
      if (!(err instanceof AvroValueError)) throw err;
      throw new ExportError('VALUE_OUT_OF_RANGE', err.message, { format: 'avro', column: bound.names[stop.column], row: bound.firstRow + stop.row });
    }
    this.rows += stop.row - start;
    this.end = stop.pos;
    return stop.row;
  }
}

/**
 * Rows from stop.row (at stop.pos) until `end` or until the block reaches `limit` bytes; leaves
 * stop at the next row and position, or, when a cell throws, at its row and column.
 */
type RowLoop = (writers: readonly CellWriter[], out: Uint8Array, view: DataView, stop: { row: number; column: number; pos: number }, end: number, limit: number) => void;

const loops = new Map<number, RowLoop>();

/**
 * The row loop for `columns` columns, generated once per column count: a call site of its own
 * for each column's writer (one call site for all of them, as a loop over the writers has,
 * cannot inline any; the same change made the csv and jsonl loops ~15 % faster, issue #12).
 * Only the count goes into the source.
 */
function compileRowLoop(columns: number): RowLoop {
  const lines = ['let row = stop.row, pos = stop.pos, column = 0;'];
  for (let c = 0; c < columns; c++) lines.push(`const w${c} = writers[${c}];`);
  lines.push('try {', 'while (row < end) {');
  for (let c = 0; c < columns; c++) lines.push(`column = ${c}; pos = w${c}(out, view, pos, row);`);
  lines.push('row++;', 'if (pos >= limit) break;', '}', '} catch (err) { stop.row = row; stop.column = column; throw err; }',
    'stop.row = row; stop.pos = pos;');
  return new Function('writers', 'out', 'view', 'stop', 'end', 'limit', lines.join('\n')) as RowLoop;
}

/** Most bytes rows start..end-1 can take, so the row loop needs no bounds checks. */
function measureRows(bound: BoundRows, start: number, end: number): number {
  let bytes = bound.rowBytes * (end - start);
  for (const offsets of bound.textOffsets) bytes += offsets[end] - offsets[start];
  return bytes;
}

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A fresh buffer of at least `minBytes` (uninitialized: every byte is written before it is read). */
export function allocateBlock(minBytes: number): Uint8Array {
  return Buffer.allocUnsafe(minBytes);
}
