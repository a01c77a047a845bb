import type { ColumnView } from '../../table/columns.js';
import { TAIL_KEEP, viewBytes, zeroBytes } from '../text/bytes.js';
import type { CellWriter } from '../text/cells.js';

/**
 * RFC 4180 fields: a value is quoted only when it holds the delimiter, `"`, CR or LF, with
 * quotes doubled inside; a non-null empty string is written `""` so it differs from null
 * (an empty field). UTF-8 bytes are copied as they are: no byte of a multi-byte character
 * can equal an ASCII delimiter, so a byte scan is exact.
 */

const QUOTE = 34;

/** How fields are checked for quoting under one delimiter. */
export interface FieldRules {
  /** The delimiter repeated in each byte of a word, for quotingBytes. */
  pattern: number;
  /** A byte that never forces quoting, repeated: fills a partial word's missing bytes. */
  filler: number;
}

export function makeFieldRules(delimiter: number): FieldRules {
  const filler = delimiter === 0x41 ? 0x42 : 0x41; // 'A', or 'B' when 'A' is the delimiter
  const rules = { pattern: (delimiter * 0x01010101) >>> 0, filler: (filler * 0x01010101) >>> 0 };
  primeWriteField(rules);
  return rules;
}

let fieldPrimed = false;

/**
 * Runs writeField down each of its paths, once per thread, so V8 has seen them all before it
 * optimizes it. The byte-at-a-time end is taken only by the last value of a buffer; optimized
 * before that, writeField was thrown away there and compiled again, 4 times per thread per export.
 */
function primeWriteField(rules: FieldRules): void {
  if (fieldPrimed) return;
  fieldPrimed = true;
  const bytes = new TextEncoder().encode('abcdefghi"j,k\nl"'); // 16 bytes
  const out = new DataView(new ArrayBuffer(2 * bytes.length + 16));
  const src = viewBytes(bytes);
  // empty; a whole word; a last partial word inside the buffer; quoted from the word loop; the
  // buffer's end a byte at a time, plain and quoted. Several rounds: V8 gives a function its
  // feedback vector only after its first few calls.
  const cases = [[0, 0], [0, 4], [0, 5], [0, 13], [14, 15], [14, 16]];
  for (let round = 0; round < 16; round++) for (const [start, end] of cases) writeField(out, 0, src, bytes, start, end, rules);
}

/**
 * Non-zero when one of the word's four bytes is `"`, LF, CR or the delimiter (the bytes that
 * force quoting); which bits are set past the first such byte is not exact, so a partial word
 * is tested on its own bytes only (its others masked to a harmless byte first).
 */
export function quotingBytes(v: number, pattern: number): number {
  return zeroBytes(v ^ 0x22222222) | zeroBytes(v ^ 0x0a0a0a0a) | zeroBytes(v ^ 0x0d0d0d0d) | zeroBytes(v ^ pattern);
}

/** The field text of UTF-8 bytes (used for header names). */
export function quoteField(bytes: Uint8Array, rules: FieldRules): Uint8Array {
  const out = new Uint8Array(bytes.length * 2 + 2 + 8);
  const end = writeField(new DataView(out.buffer), 0, viewBytes(bytes), bytes, 0, bytes.length, rules);
  return out.slice(0, end);
}

/**
 * Writes bytes start..end-1 (`src` views `bytes`) as one field; room for 2·length + 2 bytes
 * plus slack is assumed. Most values need no quotes, so they are copied a word at a time
 * while being checked, and only a value that needs quotes is written again, quoted.
 */
export function writeField(out: DataView, pos: number, src: DataView, bytes: Uint8Array, start: number, end: number, rules: FieldRules): number {
  if (start === end) {
    out.setUint16(pos, 0x2222, true);
    return pos + 2;
  }
  const { pattern, filler } = rules;
  let i = start;
  let p = pos;
  for (; i + 4 <= end; i += 4, p += 4) {
    const v = src.getUint32(i, true);
    if (quotingBytes(v, pattern) !== 0) return writeQuoted(out, pos, src, bytes, start, end);
    out.setUint32(p, v, true);
  }
  const rest = end - i;
  if (rest === 0) return p;
  if (i + 4 <= bytes.length) {
    // The last partial word too, when the buffer goes on: its extra bytes land in the slack.
    const v = src.getUint32(i, true);
    const keep = TAIL_KEEP[rest];
    if (quotingBytes((v & keep) | (filler & ~keep), pattern) !== 0) return writeQuoted(out, pos, src, bytes, start, end);
    out.setUint32(p, v, true);
    return p + rest;
  }
  for (; i < end; i++) {
    const b = bytes[i];
    if (b === QUOTE || b === 10 || b === 13 || b === (pattern & 0xff)) return writeQuoted(out, pos, src, bytes, start, end);
    out.setUint8(p++, b);
  }
  return p;
}

/** The field quoted, its `"` doubled: words without a `"` are copied whole, the others a byte at a time. */
function writeQuoted(out: DataView, pos: number, src: DataView, bytes: Uint8Array, start: number, end: number): number {
  out.setUint8(pos++, QUOTE);
  let i = start;
  for (; i + 4 <= end; i += 4) {
    const v = src.getUint32(i, true);
    if (zeroBytes(v ^ 0x22222222) === 0) {
      out.setUint32(pos, v, true);
      pos += 4;
      continue;
    }
    for (let k = i; k < i + 4; k++) {
      const b = bytes[k];
      if (b === QUOTE) out.setUint8(pos++, QUOTE);
      out.setUint8(pos++, b);
    }
  }
  for (; i < end; i++) {
    const b = bytes[i];
    if (b === QUOTE) out.setUint8(pos++, QUOTE);
    out.setUint8(pos++, b);
  }
  out.setUint8(pos++, QUOTE);
  return pos;
}

/** The writer of a string or geography column of one batch. */
export function bindCsvStringWriter(col: ColumnView, rules: FieldRules): CellWriter {
  const bytes = col.values as Uint8Array;
  const src = viewBytes(bytes);
  const offsets = col.offsets as Int32Array;
  return (out, pos, row) => writeField(out, pos, src, bytes, offsets[row], offsets[row + 1], rules);
}
