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
  prefixes: Uint32Array[];
  /** First word of each prefix: all a csv delimiter needs, so no loop for it. */
  prefixHeads: Uint32Array;
  prefixLengths: Int32Array;
  nulls: PackedBytes[];
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
    prefixes: layout.columns.map((c) => c.prefix.words),
    prefixHeads: Uint32Array.from(layout.columns, (c) => c.prefix.words[0]),
    prefixLengths: Int32Array.from(layout.columns, (c) => c.prefix.length),
    nulls: layout.columns.map((c) => c.nullText),
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

/**
 * Writes rows start..end-1 at `pos` (room for measureRows bytes plus slack guaranteed by the
 * caller) and returns the end position. `firstRow` places errors in the whole table.
 */
export function encodeRows(rows: BoundRows, out: DataView, pos: number, start: number, end: number, firstRow: number): number {
  const { writers, prefixes, prefixHeads, prefixLengths, nulls, validity, bitOffsets, layout } = rows;
  const rowEnd = layout.rowEnd.words;
  const rowEndLength = layout.rowEnd.length;
  const rowEndHead = rowEnd[0];
  const width = writers.length;
  let row = start;
  let c = 0;
  try {
    for (; row < end; row++) {
      for (c = 0; c < width; c++) {
        // The prefix a word at a time (writePacked, inlined by hand: this is the hottest loop).
        const prefixLength = prefixLengths[c];
        out.setUint32(pos, prefixHeads[c], true);
        if (prefixLength > 4) {
          const prefix = prefixes[c];
          for (let k = 1; k < prefix.length; k++) out.setUint32(pos + 4 * k, prefix[k], true);
        }
        pos += prefixLength;
        const valid = validity[c];
        if (valid !== null) {
          const bit = bitOffsets[c] + row;
          if (((valid[bit >> 3] >> (bit & 7)) & 1) === 0) {
            const text = nulls[c];
            for (let k = 0; k < text.words.length; k++) out.setUint32(pos + 4 * k, text.words[k], true);
            pos += text.length;
            continue;
          }
        }
        pos = writers[c](out, pos, row);
      }
      out.setUint32(pos, rowEndHead, true);
      for (let k = 1; k < rowEnd.length; k++) out.setUint32(pos + 4 * k, rowEnd[k], true);
      pos += rowEndLength;
    }
  } catch (err) {
    if (!(err instanceof CellRangeError)) throw err;
    throw new ExportError('VALUE_OUT_OF_RANGE', err.message, { format: layout.format, column: layout.columns[c].name, row: firstRow + row }, { cause: err });
  }
  return pos;
}
