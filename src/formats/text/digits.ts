/**
 * Integer to ASCII digits without going through BigInt or String: an Arrow int64 is read as
 * two 32-bit words and, when it fits in ±2^53 (nearly always), formatted from a double, exact.
 * Digits come from tables of 2- and 4-digit groups stored as one word each.
 */

/** "00".."99" and "0000".."9999" as little-endian words (first digit in the lowest byte). */
const PAIR_WORDS = new Uint16Array(100);
const QUAD_WORDS = new Uint32Array(10000);
// Built at load, in every process and worker thread that writes text: plain arithmetic (an
// array per entry took ~5 ms of a 1,000-row export's start, interpreted).
for (let i = 0; i < 10000; i++) {
  const thousands = 48 + ((i / 1000) | 0);
  const hundreds = 48 + (((i / 100) | 0) % 10);
  const tens = 48 + (((i / 10) | 0) % 10);
  const ones = 48 + (i % 10);
  QUAD_WORDS[i] = (thousands | (hundreds << 8) | (tens << 16) | (ones << 24)) >>> 0;
  if (i < 100) PAIR_WORDS[i] = tens | (ones << 8);
}

/** Longest int64 text: "-9223372036854775808". */
export const MAX_INT64_CHARS = 20;

const TWO_POW_32 = 4294967296;
/** High word bounds of the int64 values a double holds exactly: [-2^53, 2^53). */
const SAFE_HIGH_MIN = -0x200000;
const SAFE_HIGH_MAX = 0x200000;

/** True on little-endian hosts: typed arrays use host order, readSafeInt64 assumes little. */
export const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** The 32-bit words of an int64 array (same memory), read little-endian by readSafeInt64. */
export function viewInt64Words(values: BigInt64Array): DataView {
  return new DataView(values.buffer, values.byteOffset, values.byteLength);
}

/**
 * Value i of an int64 array as an exact double, or NaN when it lies outside [-2^53, 2^53)
 * (the caller then takes the BigInt path). Little-endian hosts only (see LITTLE_ENDIAN).
 */
export function readSafeInt64(words: DataView, i: number): number {
  const high = words.getInt32(8 * i + 4, true);
  if (high < SAFE_HIGH_MIN || high >= SAFE_HIGH_MAX) return NaN;
  return high * TWO_POW_32 + words.getUint32(8 * i, true);
}

/** Writes 0 <= v < 100 as exactly two digits. */
export function writePair(out: DataView, pos: number, v: number): number {
  out.setUint16(pos, PAIR_WORDS[v], true);
  return pos + 2;
}

/** Writes 0 <= v < 10000 as exactly four digits. */
export function writeQuad(out: DataView, pos: number, v: number): number {
  out.setUint32(pos, QUAD_WORDS[v], true);
  return pos + 4;
}

/** Writes 0 <= v < 10000 without leading zeros: the word shifted past them (slack after). */
function writeShortQuad(out: DataView, pos: number, v: number): number {
  const skip = v >= 100 ? (v >= 1000 ? 0 : 1) : v >= 10 ? 2 : 3;
  out.setUint32(pos, QUAD_WORDS[v] >>> (skip << 3), true);
  return pos + 4 - skip;
}

/** Writes 0 <= v < 2^31 in as few digits as it takes. */
export function writeUint31(out: DataView, pos: number, v: number): number {
  if (v < 10000) return writeShortQuad(out, pos, v);
  if (v < 100000000) {
    const high = (v / 10000) | 0;
    pos = writeShortQuad(out, pos, high);
    return writeQuad(out, pos, v - high * 10000);
  }
  const top = (v / 100000000) | 0;
  const rest = v - top * 100000000;
  const middle = (rest / 10000) | 0;
  pos = writeShortQuad(out, pos, top);
  pos = writeQuad(out, pos, middle);
  return writeQuad(out, pos, rest - middle * 10000);
}

/** Writes an integer 0 <= v < 2^53 as exactly `width` digits, zero-padded on the left. */
export function writePaddedDigits(out: DataView, pos: number, v: number, width: number): number {
  const end = pos + width;
  let p = end;
  while (p - pos >= 4) {
    const q = Math.floor(v / 10000);
    p -= 4;
    writeQuad(out, p, v - q * 10000);
    v = q;
  }
  while (p > pos) {
    const q = Math.floor(v / 10);
    out.setUint8(--p, 48 + (v - q * 10));
    v = q;
  }
  return end;
}

/** Writes the last `width` (1..4) digits of 0 <= v < 10^width, zero-padded (slack after). */
export function writeShortDigits(out: DataView, pos: number, v: number, width: number): number {
  out.setUint32(pos, QUAD_WORDS[v] >>> ((4 - width) << 3), true);
  return pos + width;
}

/** Writes the six digits of 0 <= micros < 1e6 (a fraction of a second). */
export function writeMicros(out: DataView, pos: number, micros: number): number {
  const high = (micros / 10000) | 0;
  pos = writePair(out, pos, high);
  return writeQuad(out, pos, micros - high * 10000);
}

/** Writes an integer with |n| <= 2^53 exactly. */
export function writeSafeInteger(out: DataView, pos: number, n: number): number {
  if (n < 0) {
    out.setUint8(pos++, 45);
    n = -n;
  }
  // `| 0` marks values known to fit in 32 bits, so V8 divides them as integers.
  if (n < 2147483648) return writeUint31(out, pos, n | 0);
  // Two parts below 2^31. The quotient from a product (cheaper than a division) may be one
  // off; the exact remainder shows it.
  let high = Math.floor(n * 1e-8);
  let low = n - high * 1e8;
  if (low < 0) {
    high -= 1;
    low += 1e8;
  } else if (low >= 1e8) {
    high += 1;
    low -= 1e8;
  }
  const middle = (low / 10000) | 0;
  pos = writeUint31(out, pos, high | 0);
  pos = writeQuad(out, pos, middle);
  return writeQuad(out, pos, (low - middle * 10000) | 0);
}

/** Writes any int64 held as a BigInt (the rare values beyond ±2^53). */
export function writeBigInt(out: DataView, pos: number, n: bigint): number {
  const text = n.toString();
  for (let i = 0; i < text.length; i++) out.setUint8(pos++, text.charCodeAt(i));
  return pos;
}

let integerTextPrimed = false;

/**
 * Runs writeSafeInteger over each of its ranges once per thread, several rounds (V8 gives a
 * function its feedback vector only after its first calls), so the row loops it is inlined into
 * are optimized knowing them all: a column whose values reach 10^8 only now and then (ids past
 * 100 million, amounts) had each thread's compiled row loop thrown away at the first such value.
 */
export function primeIntegerText(): void {
  if (integerTextPrimed) return;
  integerTextPrimed = true;
  const out = new DataView(new ArrayBuffer(32));
  for (let round = 0; round < 16; round++) for (const n of [7, 12_345, 123_456_789, -5, 2 ** 40 + 3, -(2 ** 52)]) writeSafeInteger(out, 0, n);
}
