import { writeAscii } from './bytes.js';
import { writePaddedDigits, writeSafeInteger, writeShortDigits } from './digits.js';

/**
 * Shortest round-trip text of a double (DESIGN.md: "shortest text that reads back to the same
 * double, sign of zero included"), byte for byte what JS `String(x)` gives, except `-0`.
 *
 * `String(x)` costs 200–300 ns a value here, so most values take a fast path: the fewest
 * fraction digits k for which m = round(|x|·10^k) satisfies m / 10^k === |x|. While
 * |x|·10^k < 2^50 this is exact and yields the same digits as String:
 * - a k-digit decimal c that reads back to x lies within ulp(x)/2 of x, so |fl(|x|·10^k) −
 *   c·10^k| ≤ |x|·10^k·2^-52 < 1/4 and rounding to the nearest integer finds c·10^k;
 * - two k-digit decimals are 10^-k apart, more than ulp(x), so at most one reads back to x,
 *   which makes "closest to x" (the spec's tie rule) moot;
 * - m < 2^50 and 10^k (k ≤ 22) are exact, so m / 10^k is correctly rounded and the test is
 *   exact; the smallest k gives the fewest significant digits.
 * |x| ≥ 1e-6 keeps us in the range where String uses plain decimal notation (ECMA-262
 * Number::toString: exponent n > -6). Everything
 * else (full 17-digit doubles, huge or tiny values) falls back to String.
 */

/** Longest text String() gives for a double: "-0.0000012345678901234567" is 25. */
export const MAX_FLOAT_CHARS = 26;

const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k);
const SCALED_LIMIT = 2 ** 50;
const PLAIN_MIN = 1e-6;

/** Writes a finite double; NaN and ±Infinity are spelled by each format. */
export function writeFiniteFloat(out: DataView, pos: number, x: number): number {
  if (x === 0) {
    if (1 / x < 0) out.setUint8(pos++, 45);
    out.setUint8(pos, 48);
    return pos + 1;
  }
  let a = x;
  if (a < 0) {
    out.setUint8(pos++, 45);
    a = -a;
  }
  if (a >= PLAIN_MIN) {
    for (let k = 0; k < POW10.length; k++) {
      const scale = POW10[k];
      const scaled = a * scale;
      if (scaled >= SCALED_LIMIT) break;
      // Not Math.round, which V8 does not compile to one instruction; equal here since the
      // value is positive and, when a candidate exists, within 1/4 of an integer.
      const m = Math.floor(scaled + 0.5);
      if (m / scale === a) return writeScaled(out, pos, a, m, k, scale);
    }
  }
  return writeAscii(out, pos, String(a));
}

/**
 * Writes m·10^-k, the decimal that reads back to a, with exactly k fraction digits (k is
 * minimal, so the last one is not 0).
 */
function writeScaled(out: DataView, pos: number, a: number, m: number, k: number, scale: number): number {
  if (k === 0) return writeSafeInteger(out, pos, m);
  // a and m·10^-k differ by less than 1, so floor(a) is the whole part or one off; the
  // products and differences are exact integers below 2^51.
  let whole = Math.floor(a);
  let fraction = m - whole * scale;
  if (fraction < 0) {
    whole -= 1;
    fraction += scale;
  } else if (fraction >= scale) {
    whole += 1;
    fraction -= scale;
  }
  pos = writeSafeInteger(out, pos, whole);
  out.setUint8(pos++, 46);
  return k <= 4 ? writeShortDigits(out, pos, fraction | 0, k) : writePaddedDigits(out, pos, fraction, k);
}

/** 10^16: from here on Python's repr, and so JSON readers built on it, expect exponent form. */
const JSON_EXPONENT_FROM = 1e16;
const NEGATIVE_ZERO_JSON = [45, 48, 46, 48]; // "-0.0"

/**
 * A finite double as JSON readers keep it: JSON `-0` reads back as integer 0 in pandas, Python's
 * json and DuckDB, and an integer literal with more digits than int64 makes pandas fail, so a
 * JSON double is spelled as Python's repr spells it: `-0.0`, and exponent form from 1e16
 * (`1e+20`; `toExponential()` with no argument gives the shortest round-trip digits).
 */
export function writeJsonFloat(out: DataView, pos: number, x: number): number {
  if (x === 0 && 1 / x < 0) {
    for (const b of NEGATIVE_ZERO_JSON) out.setUint8(pos++, b);
    return pos;
  }
  if (x >= JSON_EXPONENT_FROM || x <= -JSON_EXPONENT_FROM) return writeAscii(out, pos, x.toExponential());
  return writeFiniteFloat(out, pos, x);
}
