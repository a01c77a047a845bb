import { ExportError } from '../../errors.js';
import type { ColumnView } from '../../table/columns.js';
import type { PackedBytes } from './bytes.js';
import { CellRangeError, type BindCell, type CellWriter } from './cells.js';

/**
 * How one column is written by a row-per-line text format, chosen once per file. csv and
 * jsonl differ only in these bytes and in their string writer, so one row loop serves both.
 */
export interface TextColumn {
  name: string;
  /** Bytes before every cell: csv the delimiter (none for the first column), jsonl `,"name":`. */
  prefix: PackedBytes;
  /** A null cell: csv nothing, jsonl `null`. */
  nullText: PackedBytes;
  /** Most bytes a value takes; for strings, the bytes beyond its own (the two quotes). */
  maxBytes: number;
  /** Strings: most output bytes per input byte (csv 2 for a doubled quote, jsonl 6 for \u00XX); else 0. */
  bytesPerByte: number;
  bind: BindCell;
}

export interface TextLayout {
  format: string;
  columns: readonly TextColumn[];
  /** Bytes ending every row: csv the line ending, jsonl `}\n`. */
  rowEnd: PackedBytes;
}

/** One batch's columns bound to their writers: the state of the row loop. */
export interface BoundRows {
  layout: TextLayout;
  writers: CellWriter[];
  validity: (Uint8Array | null)[];
  bitOffsets: number[];
  /** Value offsets of the string columns (null for the others), to size chunks. */
  offsets: (Int32Array | null)[];
  /** Most bytes a row takes apart from the string values' own bytes. */
  rowBytes: number;
}

export function bindRows(layout: TextLayout, cols: readonly ColumnView[]): BoundRows {
  let rowBytes = layout.rowEnd.length;
  for (const c of layout.columns) rowBytes += c.prefix.length + Math.max(c.maxBytes, c.nullText.length);
  return {
    layout,
    writers: layout.columns.map((c, i) => c.bind(cols[i])),
    validity: cols.map((c) => c.validity),
    bitOffsets: cols.map((c) => c.bitOffset),
    offsets: layout.columns.map((c, i) => (c.bytesPerByte > 0 ? cols[i].offsets : null)),
    rowBytes,
  };
}

/** Most bytes rows start..end-1 can take, so the loop needs no bounds checks. */
export function measureRows(rows: BoundRows, start: number, end: number): number {
  let bytes = rows.rowBytes * (end - start);
  const { offsets, layout } = rows;
  for (let c = 0; c < offsets.length; c++) {
    const o = offsets[c];
    if (o !== null) bytes += (o[end] - o[start]) * layout.columns[c].bytesPerByte;
  }
  return bytes;
}

/** Where a row loop stopped when a cell threw: the row and the column. */
interface LoopStop { row: number; column: number }

/** A layout's row loop (compileRowLoop): writes rows start..end-1 at pos, returns the end. */
type RowLoop = (rows: BoundRows, out: DataView, pos: number, start: number, end: number, stop: LoopStop) => number;

const loops = new WeakMap<TextLayout, RowLoop>();

/**
 * Writes rows start..end-1 at `pos` (room for measureRows bytes plus slack guaranteed by the
 * caller) and returns the end position. `firstRow` places errors in the whole table.
 */
export function encodeRows(rows: BoundRows, out: DataView, pos: number, start: number, end: number, firstRow: number): number {
  const { layout } = rows;
  let loop = loops.get(layout);
  if (loop === undefined) loops.set(layout, (loop = compileRowLoop(layout)));
  const stop: LoopStop = { row: start, column: 0 };
  try {
    return loop(rows, out, pos, start, end, stop);
  } catch (err) {
    if (!(err instanceof CellRangeError)) throw err;
    throw new ExportError('VALUE_OUT_OF_RANGE', err.message, { format: layout.format, column: layout.columns[stop.column].name, row: firstRow + stop.row }, { cause: err });
  }
}

/** Stores of a constant byte run at `pos` as numeric literals, then `pos` moved past it. */
function storeConstant(run: PackedBytes): string {
  if (run.length === 0) return '';
  const stores = Array.from(run.words, (word, k) => `out.setUint32(pos${k === 0 ? '' : ` + ${4 * k}`}, ${word >>> 0}, true);`);
  return `${stores.join(' ')} pos += ${run.length};`;
}

/**
 * The row loop of one layout, generated once per layout: the columns unrolled, each one's
 * constant bytes (delimiter or key, null text, line end) stored as literals and each one's
 * writer called from a call site of its own. The general loop (one call site for every
 * column's writer, the prefixes read from arrays) spent about a fifth of its time on that
 * (issue #12). Only numbers from the layout go into the source, never names or values.
 */
function compileRowLoop(layout: TextLayout): RowLoop {
  const lines: string[] = [
    'const W = rows.writers, V = rows.validity, B = rows.bitOffsets;',
  ];
  layout.columns.forEach((_, c) => lines.push(`const w${c} = W[${c}], v${c} = V[${c}], b${c} = B[${c}];`));
  lines.push('let row = start, column = 0;', 'try {', 'for (; row < end; row++) {');
  layout.columns.forEach((column, c) => {
    lines.push(`column = ${c};`, storeConstant(column.prefix));
    const whenNull = storeConstant(column.nullText);
    lines.push(`if (v${c} !== null && ((v${c}[(b${c} + row) >> 3] >> ((b${c} + row) & 7)) & 1) === 0) { ${whenNull} }`,
      `else pos = w${c}(out, pos, row);`);
  });
  lines.push(storeConstant(layout.rowEnd), '}', '} catch (err) { stop.row = row; stop.column = column; throw err; }', 'return pos;');
  return new Function('rows', 'out', 'pos', 'start', 'end', 'stop', lines.join('\n')) as RowLoop;
}
