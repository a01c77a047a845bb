import type { ColumnView } from '../../table/columns.js';
import { TAIL_KEEP, viewBytes, zeroBytes } from '../text/bytes.js';
import type { CellWriter } from '../text/cells.js';

/**
 * JSON strings from UTF-8 bytes (RFC 8259 §7): `"` and `\` escaped, control characters below
 * 0x20 as \b \f \n \r \t or \u00XX, everything else (non-ASCII included) copied as raw UTF-8.
 * Input is valid UTF-8 (Arrow Utf8), so no lone surrogate can reach the output.
 */

/** Per byte: 0 = copy as is; else the escape letter after `\` (`u` for \u00XX). */
const ESCAPES = new Uint8Array(256);
for (let b = 0; b < 0x20; b++) ESCAPES[b] = 117; // u
ESCAPES[8] = 98; // b
ESCAPES[9] = 116; // t
ESCAPES[10] = 110; // n
ESCAPES[12] = 102; // f
ESCAPES[13] = 114; // r
ESCAPES[34] = 34; // "
ESCAPES[92] = 92; // \

const HEX = [48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 97, 98, 99, 100, 101, 102];
/**
 * Non-zero when one of the word's four bytes must be escaped: below 0x20, `"` or `\`. Exact as
 * a whole (which bits are set past the first such byte is not), so a partial word is tested
 * with its missing bytes set to 'A' (TAIL_KEEP).
 */
export function escapedBytes(v: number): number {
  // Bytes below 0x20: the zero-byte test shifted down by 0x20.
  return ((v - 0x20202020) & ~v & 0x80808080) | zeroBytes(v ^ 0x22222222) | zeroBytes(v ^ 0x5c5c5c5c);
}

/** Most output bytes per input byte (`\u00XX`), for sizing the output. */
export const JSON_BYTES_PER_BYTE = 6;

/**
 * Writes bytes start..end-1 (`src` views `bytes`) as a quoted JSON string; room for
 * 6·length + 2 bytes plus slack is assumed. Words without a byte to escape are copied whole.
 */
export function writeJsonString(out: DataView, pos: number, src: DataView, bytes: Uint8Array, start: number, end: number): number {
  out.setUint8(pos++, 34);
  let i = start;
  for (; i + 4 <= end; i += 4) {
    const v = src.getUint32(i, true);
    if (escapedBytes(v) === 0) {
      out.setUint32(pos, v, true);
      pos += 4;
    } else {
      pos = writeEscaped(out, pos, bytes, i, i + 4);
    }
  }
  const rest = end - i;
  if (rest > 0) {
    if (i + 4 <= bytes.length) {
      // The last partial word too, when the buffer goes on: its extra bytes land in the slack.
      const v = src.getUint32(i, true);
      const keep = TAIL_KEEP[rest];
      if (escapedBytes((v & keep) | (0x41414141 & ~keep)) === 0) {
        out.setUint32(pos, v, true);
        pos += rest;
      } else {
        pos = writeEscaped(out, pos, bytes, i, end);
      }
    } else {
      pos = writeEscaped(out, pos, bytes, i, end);
    }
  }
  out.setUint8(pos, 34);
  return pos + 1;
}

/** Writes bytes start..end-1 one at a time, escaping those that need it. */
function writeEscaped(out: DataView, pos: number, bytes: Uint8Array, start: number, end: number): number {
  for (let i = start; i < end; i++) {
    const b = bytes[i];
    const escape = ESCAPES[b];
    if (escape === 0) {
      out.setUint8(pos++, b);
      continue;
    }
    out.setUint8(pos++, 92);
    out.setUint8(pos++, escape);
    if (escape === 117) {
      out.setUint16(pos, 0x3030, true);
      out.setUint8(pos + 2, HEX[b >> 4]);
      out.setUint8(pos + 3, HEX[b & 15]);
      pos += 4;
    }
  }
  return pos;
}

let jsonStringPrimed = false;

/**
 * Runs writeJsonString down each of its paths once per thread, several rounds (V8 gives a
 * function its feedback vector only after its first calls), so it is optimized knowing them all:
 * the end of a buffer, taken only by its last value, had each thread's compiled writeJsonString
 * thrown away there.
 */
export function primeWriteJsonString(): void {
  if (jsonStringPrimed) return;
  jsonStringPrimed = true;
  const bytes = new TextEncoder().encode('abcdefgh"ijk\nlm\u0001'); // 16 bytes
  const out = new DataView(new ArrayBuffer(bytes.length * JSON_BYTES_PER_BYTE + 16));
  const src = viewBytes(bytes);
  // empty; a whole word; an escape in a word; a last partial word inside the buffer, plain and
  // escaped; the buffer's end a byte at a time, with a \u escape.
  const cases = [[0, 0], [0, 4], [4, 12], [0, 5], [8, 9], [13, 16]];
  for (let round = 0; round < 16; round++) for (const [start, end] of cases) writeJsonString(out, 0, src, bytes, start, end);
}

/** A JSON string of UTF-8 bytes, as its own array (used for key names). */
export function quoteJsonString(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length * JSON_BYTES_PER_BYTE + 2 + 8);
  const end = writeJsonString(new DataView(out.buffer), 0, viewBytes(bytes), bytes, 0, bytes.length);
  return out.slice(0, end);
}

/** The writer of a string or geography column of one batch. */
export function bindJsonStringWriter(col: ColumnView): CellWriter {
  const bytes = col.values as Uint8Array;
  const src = viewBytes(bytes);
  const offsets = col.offsets as Int32Array;
  return (out, pos, row) => writeJsonString(out, pos, src, bytes, offsets[row], offsets[row + 1]);
}
