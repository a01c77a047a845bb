import { ExportError } from '../../errors.js';
import type { ColumnView } from '../../table/columns.js';
import type { VariableType } from '../../table/types.js';
import { CellKind, threadTextKernel, type KernelLayout, type TextKernel } from './text-kernel.js';

/**
 * How one column is written by a row-per-line text format, chosen once per file. csv and
 * jsonl differ only in these bytes and in their string kind, so one row loop (the WebAssembly
 * kernel's) serves both.
 */
export interface TextColumn {
  name: string;
  kind: CellKind;
  /** Bytes before every cell: csv the delimiter (none for the first column), jsonl `,"name":`. */
  prefix: Uint8Array;
  /** A null cell: csv nothing, jsonl `null`. */
  nullText: Uint8Array;
  /** Most bytes a value takes; for strings, the bytes beyond its own (the two quotes). */
  maxBytes: number;
  /** Strings: most output bytes per input byte (csv 2 for a doubled quote, jsonl 6 for \u00XX); else 0. */
  bytesPerByte: number;
}

export interface TextLayout extends KernelLayout {
  format: string;
  columns: readonly TextColumn[];
}

/** How a format spells the non-finite doubles (csv bare, jsonl as JSON strings). */
export interface NonFiniteText {
  nan: Uint8Array;
  infinity: Uint8Array;
  negativeInfinity: Uint8Array;
}

/** Where csv and jsonl differ for the scalar types. */
export interface ScalarStyle {
  nonFinite: NonFiniteText;
  /** Dates, dateTimes and times in double quotes (jsonl: they are JSON strings). */
  quoteTemporal: boolean;
  /** Doubles spelled for JSON readers: `-0.0`, and exponent form from 1e16 (`1e+20`), as Python's repr. */
  jsonFloats: boolean;
}

/** Types whose text is the same in csv and jsonl (strings differ: quoting vs escaping). */
export type ScalarType = Exclude<VariableType, 'string' | 'geography'>;

/** Longest int64 text: "-9223372036854775808". */
const MAX_INT64_CHARS = 20;
/** Longest text String() gives for a double: "-0.0000012345678901234567" is 25. */
const MAX_FLOAT_CHARS = 26;
const DATE_CHARS = 10;
const TIME_CHARS = 15;

/** A scalar column's kind and the most bytes one value takes (lets a chunk be sized once, not per cell). */
export function scalarCell(type: ScalarType, style: ScalarStyle): { kind: CellKind; maxBytes: number } {
  const quotes = style.quoteTemporal ? 2 : 0;
  const { nan, infinity, negativeInfinity } = style.nonFinite;
  switch (type) {
    case 'integer': return { kind: CellKind.integer, maxBytes: MAX_INT64_CHARS };
    case 'float': return { kind: CellKind.float, maxBytes: Math.max(MAX_FLOAT_CHARS, nan.length, infinity.length, negativeInfinity.length) };
    case 'boolean': return { kind: CellKind.boolean, maxBytes: 5 };
    case 'date': return { kind: CellKind.date, maxBytes: DATE_CHARS + quotes };
    case 'dateTime': return { kind: CellKind.dateTime, maxBytes: DATE_CHARS + 1 + TIME_CHARS + quotes };
    case 'time': return { kind: CellKind.time, maxBytes: TIME_CHARS + quotes };
  }
}

/** One batch's columns under a layout: what the row loop is given. */
export interface BoundRows {
  layout: TextLayout;
  cols: readonly ColumnView[];
  kernel: TextKernel;
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
    cols,
    kernel: threadTextKernel(),
    offsets: layout.columns.map((c, i) => (c.bytesPerByte > 0 ? cols[i].offsets : null)),
    rowBytes,
  };
}

/** Most bytes rows start..end-1 can take. */
export function measureRows(rows: BoundRows, start: number, end: number): number {
  let bytes = rows.rowBytes * (end - start);
  const { offsets, layout } = rows;
  for (let c = 0; c < offsets.length; c++) {
    const o = offsets[c];
    if (o !== null) bytes += (o[end] - o[start]) * layout.columns[c].bytesPerByte;
  }
  return bytes;
}

/** Most output bytes the kernel writes in one call (it holds them until they are copied out). */
const MAX_CALL_BYTES = 1 << 20;

/**
 * Writes rows start..end-1 into `target` at `pos` (room for measureRows bytes assumed) and
 * returns the end position. `firstRow` places errors in the whole table.
 */
export function encodeRows(rows: BoundRows, target: Uint8Array, pos: number, start: number, end: number, firstRow: number): number {
  const { layout, cols, kernel } = rows;
  for (let from = start, to = end; from < end; from = to, to = end) {
    let bytes = measureRows(rows, from, to);
    while (bytes > MAX_CALL_BYTES && to - from > 1) {
      to = from + ((to - from) >> 1);
      bytes = measureRows(rows, from, to);
    }
    const result = kernel.encode(layout, cols, from, to, bytes, target, pos);
    if (typeof result !== 'number') throw noText(layout, cols, result.column, result.row, firstRow);
    pos = result;
  }
  return pos;
}

/** The error for a value the kernel found no text for (dates outside 0001..9999, times outside the day). */
function noText(layout: TextLayout, cols: readonly ColumnView[], column: number, row: number, firstRow: number): ExportError {
  const value = cols[column].values[row];
  const detail =
    layout.columns[column].kind === CellKind.date ? `date ${value} days from 1970-01-01 is outside 0001-01-01..9999-12-31, the dates ISO text (YYYY-MM-DD) can hold`
    : layout.columns[column].kind === CellKind.dateTime ? `dateTime ${value} µs from 1970-01-01T00:00:00 is outside years 0001..9999, the dateTimes ISO text can hold`
    : `time ${value} µs is outside 00:00:00..23:59:59.999999`;
  return new ExportError('VALUE_OUT_OF_RANGE', detail, { format: layout.format, column: layout.columns[column].name, row: firstRow + row });
}
