// The row loop of csv and jsonl (../../rows.ts) and every cell's text, in AssemblyScript,
// compiled to WebAssembly by scripts/build-wasm.mjs. Why: the CLI's one export runs this loop in
// short-lived threads, where V8 compiled the JS row loop and its cell writers afresh in every
// thread, threw them away at each new path and ran them slowly meanwhile; WebAssembly needs no
// type feedback, and its 64-bit integers are native (no BigInt path for int64 beyond ±2^53).
//
// Everything works on addresses of the module's memory, laid out by ../text-kernel.ts: a layout
// (header, then one descriptor per column, then its constant byte runs, each readable 8 bytes
// past its end), a batch's columns copied in (fixed-width values from row 0; bitmaps read at bit
// `bitOff + row`; string bytes at `base + offsets[row]`, readable 8 bytes past the last), and an
// output region sized by the JS side for the worst case plus 8 bytes of slack: writers may
// store a whole 8-byte word of which only the first bytes count, the rest being overwritten by
// the next write. Nothing is allocated here.
//
// The text of each type is DESIGN.md's: integers exact; doubles the shortest text that reads
// back to the same double (what JS `String(x)` gives, which the JS side is asked for when the
// fast path below cannot be sure), sign of zero kept; ISO 8601 dates, dateTimes and times with
// the fraction only when not 0; csv fields quoted only when needed (RFC 4180); JSON strings
// escaped per RFC 8259 §7.

// ---- the layout, as ../text-kernel.ts writes it

/** Header: column count, row end (address, length), NaN, Infinity, -Infinity (each address, length), flags, delimiter. */
const H_COLUMNS = 0;
const H_ROW_END = 4;
const H_NAN = 12;
const H_INF = 20;
const H_NEG_INF = 28;
const H_FLAGS = 36;
const H_DELIMITER = 40;
/** Where the column descriptors start, and each one's size. */
const H_BYTES = 64;
const D_BYTES = 48;
/** Descriptor: kind, validity bitmap (0: no nulls), bit offset, values, string offsets and base, prefix and null text (address, length). */
const D_KIND = 0;
const D_VALID = 4;
const D_BIT_OFF = 8;
const D_VALS = 12;
const D_OFFS = 16;
const D_BASE = 20;
const D_PREFIX = 24;
const D_NULL = 32;

/** Flags: dates and times in double quotes (jsonl); doubles spelled for JSON readers. */
const QUOTE_TEMPORAL = 1;
const JSON_FLOATS = 2;

/** Cell kinds (CellKind in ../text-kernel.ts). */
const K_INTEGER = 0;
const K_FLOAT = 1;
const K_BOOLEAN = 2;
const K_DATE = 3;
const K_DATETIME = 4;
const K_TIME = 5;
const K_CSV_STRING = 6;
const K_JSON_STRING = 7;

// ---- tables, filled when the module starts

/** "00".."99", two bytes each. */
const PAIRS: usize = memory.data(200, 2);
/** Per byte: 0 = copied as is in a JSON string, else the letter after `\` (`u` for \u00XX). */
const ESCAPES: usize = memory.data(256);
const HEX: usize = memory.data(16);
/** 10^0..10^19, for counting digits. */
const POW10: usize = memory.data(8 * 20, 8);
/** 10^0..10^22 as doubles (all exact). */
const POW10F: usize = memory.data(8 * 23, 8);

for (let i: u32 = 0; i < 100; i++) store<u16>(PAIRS + (<usize>i << 1), <u16>((48 + i / 10) | ((48 + i % 10) << 8)));
for (let b: u32 = 0; b < 0x20; b++) store<u8>(ESCAPES + b, 117); // u
store<u8>(ESCAPES + 8, 98); // b
store<u8>(ESCAPES + 9, 116); // t
store<u8>(ESCAPES + 10, 110); // n
store<u8>(ESCAPES + 12, 102); // f
store<u8>(ESCAPES + 13, 114); // r
store<u8>(ESCAPES + 34, 34); // "
store<u8>(ESCAPES + 92, 92); // \
for (let h: u32 = 0; h < 16; h++) store<u8>(HEX + h, <u8>(h < 10 ? 48 + h : 87 + h));
{
  let p: u64 = 1;
  let f: f64 = 1;
  for (let k = 0; k < 23; k++) {
    if (k < 20) store<u64>(POW10 + (<usize>k << 3), p);
    store<f64>(POW10F + (<usize>k << 3), f);
    p *= 10;
    f *= 10;
  }
}

/** Where the JS side's own data may start (after the tables above). */
export function heapBase(): usize {
  return __heap_base;
}

/** The text JS `String(x)` gives for a double (with `json`: exponent form from 1e16), written at `out`; returns the end. */
@external("env", "floatText")
declare function floatText(x: f64, json: i32, out: usize): usize;

// ---- small writers

@inline function bitAt(p: usize, bit: i32): i32 {
  return (<i32>load<u8>(p + <usize>(bit >>> 3)) >> (bit & 7)) & 1;
}

/** A constant run (readable 8 bytes past its end) at out. */
@inline function putConst(out: usize, at: usize, len: i32): usize {
  if (len <= 8) store<u64>(out, load<u64>(at));
  else memory.copy(out, at, <usize>len);
  return out + <usize>len;
}

@inline function putPair(out: usize, v: u32): void {
  store<u16>(out, load<u16>(PAIRS + (<usize>v << 1)));
}

/** 0 <= v < 10000 as exactly four digits. */
@inline function putQuad(out: usize, v: u32): void {
  const high = v / 100;
  putPair(out, high);
  putPair(out + 2, v - high * 100);
}

/** Decimal digits of v (1..20). */
@inline function digitCount(v: u64): i32 {
  if (v < 10) return 1;
  const t = ((64 - <i32>clz<u64>(v)) * 1233) >> 12;
  return t + 1 - (v < load<u64>(POW10 + (<usize>t << 3)) ? 1 : 0);
}

function writeU32(out: usize, v: u32): usize {
  const end = out + <usize>digitCount(v);
  let p = end;
  while (v >= 100) {
    const q = v / 100;
    p -= 2;
    putPair(p, v - q * 100);
    v = q;
  }
  if (v >= 10) putPair(p - 2, v);
  else store<u8>(p - 1, <u8>(48 + v));
  return end;
}

function writeU64(out: usize, v: u64): usize {
  if (v <= 0xffffffff) return writeU32(out, <u32>v);
  const q = v / 100000000;
  const r = <u32>(v - q * 100000000);
  out = writeU64(out, q);
  const high = r / 10000;
  putQuad(out, high);
  putQuad(out + 4, r - high * 10000);
  return out + 8;
}

function writeI64(out: usize, v: i64): usize {
  if (v < 0) {
    store<u8>(out, 45);
    return writeU64(out + 1, <u64>0 - <u64>v); // exact for -2^63 too
  }
  return writeU64(out, <u64>v);
}

/** v < 10^width as exactly `width` digits, zero-padded on the left. */
function writePadded(out: usize, v: u64, width: i32): usize {
  const end = out + <usize>width;
  let p = end;
  while (p - out >= 2) {
    const q = v / 100;
    p -= 2;
    putPair(p, <u32>(v - q * 100));
    v = q;
  }
  if (p > out) store<u8>(out, <u8>(48 + v));
  return end;
}

// ---- doubles

/** 2^50: below it, |x|·10^k and its rounding are exact enough for the test in writeFinite. */
const SCALED_LIMIT: f64 = 1125899906842624;
/** From 1e-6 down, String uses exponent form. */
const PLAIN_MIN: f64 = 1e-6;

/**
 * A finite double, byte for byte what JS `String(x)` gives except `-0` (and, for JSON, `-0.0`).
 * `String(x)` costs 200–300 ns a value, so most values take a fast path: the fewest fraction
 * digits k for which m = round(|x|·10^k) satisfies m / 10^k == |x|. While |x|·10^k < 2^50
 * this is exact and yields String's digits:
 * - a k-digit decimal c that reads back to x lies within ulp(x)/2 of x, so |fl(|x|·10^k) −
 *   c·10^k| ≤ |x|·10^k·2^-52 < 1/4 and rounding to the nearest integer finds c·10^k;
 * - two k-digit decimals are 10^-k apart, more than ulp(x), so at most one reads back to x,
 *   which makes "closest to x" (the spec's tie rule) moot;
 * - m < 2^50 and 10^k (k ≤ 22) are exact, so m / 10^k is correctly rounded and the test is
 *   exact; the smallest k gives the fewest significant digits.
 * |x| ≥ 1e-6 keeps to where String uses plain decimal notation (ECMA-262 Number::toString:
 * exponent n > -6). Everything else (full 17-digit doubles, huge or tiny values, and for JSON
 * the exponent form from 1e16, which the fast path never reaches) is written by the JS side.
 */
function writeFinite(out: usize, x: f64, json: bool): usize {
  if (x == 0) {
    if (1 / x > 0) {
      store<u8>(out, 48);
      return out + 1;
    }
    if (json) {
      store<u32>(out, 0x302e302d); // "-0.0"
      return out + 4;
    }
    store<u16>(out, 0x302d); // "-0"
    return out + 2;
  }
  const a = abs<f64>(x);
  if (a >= PLAIN_MIN) {
    for (let k = 0; k < 23; k++) {
      const scale = load<f64>(POW10F + (<usize>k << 3));
      const scaled = a * scale;
      if (scaled >= SCALED_LIMIT) break;
      const m = floor(scaled + 0.5);
      if (m / scale == a) {
        let p = out;
        if (x < 0) store<u8>(p++, 45);
        if (k == 0) return writeU64(p, <u64>m);
        // a and m·10^-k differ by less than 1, so floor(a) is the whole part or one off; the
        // products and differences are exact integers below 2^51.
        let whole = floor(a);
        let fraction = m - whole * scale;
        if (fraction < 0) {
          whole -= 1;
          fraction += scale;
        } else if (fraction >= scale) {
          whole += 1;
          fraction -= scale;
        }
        p = writeU64(p, <u64>whole);
        store<u8>(p, 46);
        return writePadded(p + 1, <u64>fraction, k);
      }
    }
  }
  return floatText(x, json ? 1 : 0, out);
}

// ---- dates and times

/** 0001-01-01 and 9999-12-31 in days since 1970-01-01: the years four digits can write. */
const MIN_DAYS = -719162;
const MAX_DAYS = 2932896;
const MICROS_PER_DAY: i64 = 86400000000;

/** `YYYY-MM-DD` for MIN_DAYS <= days <= MAX_DAYS (H. Hinnant's civil_from_days, proleptic Gregorian). */
function writeDate(out: usize, days: i32): usize {
  const z = <u32>(days + 719468);
  const era = z / 146097;
  const doe = z - era * 146097;
  const yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const mp = (5 * doy + 2) / 153;
  const day = doy - (153 * mp + 2) / 5 + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  putQuad(out, year);
  store<u8>(out + 4, 45);
  putPair(out + 5, month);
  store<u8>(out + 7, 45);
  putPair(out + 8, day);
  return out + 10;
}

/** `HH:MM:SS[.ffffff]` for 0 <= micros < MICROS_PER_DAY. */
function writeTime(out: usize, micros: i64): usize {
  const seconds = <u32>(micros / 1000000);
  const fraction = <u32>(micros - <i64>seconds * 1000000);
  const hours = seconds / 3600;
  const rest = seconds - hours * 3600;
  const minutes = rest / 60;
  putPair(out, hours);
  store<u8>(out + 2, 58);
  putPair(out + 3, minutes);
  store<u8>(out + 5, 58);
  putPair(out + 6, rest - minutes * 60);
  if (fraction == 0) return out + 8;
  store<u8>(out + 8, 46);
  const high = fraction / 10000;
  putPair(out + 9, high);
  putQuad(out + 11, fraction - high * 10000);
  return out + 15;
}

/** `YYYY-MM-DDTHH:MM:SS[.ffffff]`, or 0 when the date is outside 0001..9999. */
function writeDateTime(out: usize, micros: i64): usize {
  let days = micros / MICROS_PER_DAY;
  let rest = micros - days * MICROS_PER_DAY;
  if (rest < 0) {
    days -= 1;
    rest += MICROS_PER_DAY;
  }
  if (days < MIN_DAYS || days > MAX_DAYS) return 0;
  const p = writeDate(out, <i32>days);
  store<u8>(p, 84);
  return writeTime(p + 1, rest);
}

// ---- strings: eight bytes at a time, checked while they are copied

const ONES: u64 = 0x0101010101010101;
const HIGHS: u64 = 0x8080808080808080;

/** Non-zero exactly when some byte of v is 0 (which high bits are set past the first is not exact). */
@inline function zeroBytes(v: u64): u64 {
  return (v - ONES) & ~v & HIGHS;
}

/** The first `rest` (1..7) bytes of a word kept, the others replaced by a byte that never matches. */
@inline function maskTail(v: u64, rest: usize, filler: u64): u64 {
  const keep = (<u64>1 << (<u64>rest << 3)) - 1;
  return (v & keep) | (filler & ~keep);
}

/** Non-zero when a byte of v is `"`, LF, CR or the delimiter (its byte repeated in `dpat`). */
@inline function quoting(v: u64, dpat: u64): u64 {
  return zeroBytes(v ^ 0x2222222222222222) | zeroBytes(v ^ 0x0a0a0a0a0a0a0a0a) | zeroBytes(v ^ 0x0d0d0d0d0d0d0d0d) | zeroBytes(v ^ dpat);
}

/**
 * len bytes at src as one csv field: copied as they are unless one of them is `"`, CR, LF or
 * the delimiter, then quoted with `"` doubled; a non-null empty string is `""` (null is an empty
 * field). UTF-8 is copied as is: no byte of a multi-byte character is ASCII.
 */
export function csvField(out: usize, src: usize, len: i32, delimiter: i32): usize {
  if (len == 0) {
    store<u16>(out, 0x2222);
    return out + 2;
  }
  const dpat = <u64>delimiter * ONES;
  const n = <usize>len;
  let i: usize = 0;
  for (; i + 8 <= n; i += 8) {
    const v = load<u64>(src + i);
    if (quoting(v, dpat) != 0) return csvQuoted(out, src, n);
    store<u64>(out + i, v);
  }
  if (i < n) {
    const v = load<u64>(src + i);
    const filler = delimiter == 0x41 ? 0x4242424242424242 : 0x4141414141414141; // 'A', or 'B' when 'A' is the delimiter
    if (quoting(maskTail(v, n - i, filler), dpat) != 0) return csvQuoted(out, src, n);
    store<u64>(out + i, v);
  }
  return out + n;
}

function csvQuoted(out: usize, src: usize, n: usize): usize {
  store<u8>(out++, 34);
  let i: usize = 0;
  for (; i + 8 <= n; i += 8) {
    const v = load<u64>(src + i);
    if (zeroBytes(v ^ 0x2222222222222222) == 0) {
      store<u64>(out, v);
      out += 8;
      continue;
    }
    for (let k = i; k < i + 8; k++) {
      const b = load<u8>(src + k);
      if (b == 34) store<u8>(out++, 34);
      store<u8>(out++, b);
    }
  }
  for (; i < n; i++) {
    const b = load<u8>(src + i);
    if (b == 34) store<u8>(out++, 34);
    store<u8>(out++, b);
  }
  store<u8>(out, 34);
  return out + 1;
}

/** Non-zero when a byte of v is below 0x20, `"` or `\`. */
@inline function escaping(v: u64): u64 {
  return ((v - 0x2020202020202020) & ~v & HIGHS) | zeroBytes(v ^ 0x2222222222222222) | zeroBytes(v ^ 0x5c5c5c5c5c5c5c5c);
}

/**
 * len bytes at src as a quoted JSON string: `"` and `\` escaped, control characters as \b \f \n
 * \r \t or \u00XX, everything else (non-ASCII included) copied as raw UTF-8. Input is valid
 * UTF-8 (Arrow Utf8), so no lone surrogate can reach the output.
 */
export function jsonString(out: usize, src: usize, len: i32): usize {
  store<u8>(out++, 34);
  const n = <usize>len;
  let i: usize = 0;
  for (; i + 8 <= n; i += 8) {
    const v = load<u64>(src + i);
    if (escaping(v) == 0) {
      store<u64>(out, v);
      out += 8;
    } else {
      out = jsonEscaped(out, src + i, 8);
    }
  }
  if (i < n) {
    const v = load<u64>(src + i);
    if (escaping(maskTail(v, n - i, 0x4141414141414141)) == 0) {
      store<u64>(out, v);
      out += n - i;
    } else {
      out = jsonEscaped(out, src + i, n - i);
    }
  }
  store<u8>(out, 34);
  return out + 1;
}

function jsonEscaped(out: usize, src: usize, n: usize): usize {
  for (let i: usize = 0; i < n; i++) {
    const b = load<u8>(src + i);
    const escape = load<u8>(ESCAPES + b);
    if (escape == 0) {
      store<u8>(out++, b);
      continue;
    }
    store<u8>(out, 92);
    store<u8>(out + 1, escape);
    out += 2;
    if (escape == 117) {
      store<u16>(out, 0x3030);
      store<u8>(out + 2, load<u8>(HEX + (b >> 4)));
      store<u8>(out + 3, load<u8>(HEX + (b & 15)));
      out += 4;
    }
  }
  return out;
}

// ---- the row loop

let errorRowAt: i32 = -1;
let errorColumnAt: i32 = -1;

/** After encodeRows returned 0: the row (within the batch) and the column of the value that has no text. */
export function errorRow(): i32 {
  return errorRowAt;
}
export function errorColumn(): i32 {
  return errorColumnAt;
}

@inline function quoteMark(out: usize, quote: bool): usize {
  if (quote) store<u8>(out++, 34);
  return out;
}

/**
 * Rows start..end-1 of the loaded batch under the layout at `lay`, written at out; returns the
 * end, or 0 when a value has no text (a date outside 0001..9999, a time outside the day): then
 * errorRow and errorColumn say where.
 */
export function encodeRows(lay: usize, start: i32, end: i32, out: usize): usize {
  const columns = load<i32>(lay, H_COLUMNS);
  const flags = load<i32>(lay, H_FLAGS);
  const quote = (flags & QUOTE_TEMPORAL) != 0;
  const json = (flags & JSON_FLOATS) != 0;
  const delimiter = load<i32>(lay, H_DELIMITER);
  const rowEnd = <usize>load<u32>(lay, H_ROW_END);
  const rowEndLen = load<i32>(lay, H_ROW_END + 4);
  for (let row = start; row < end; row++) {
    let d = lay + H_BYTES;
    for (let c = 0; c < columns; c++, d += D_BYTES) {
      out = putConst(out, <usize>load<u32>(d, D_PREFIX), load<i32>(d, D_PREFIX + 4));
      const valid = <usize>load<u32>(d, D_VALID);
      if (valid != 0 && bitAt(valid, load<i32>(d, D_BIT_OFF) + row) == 0) {
        out = putConst(out, <usize>load<u32>(d, D_NULL), load<i32>(d, D_NULL + 4));
        continue;
      }
      const vals = <usize>load<u32>(d, D_VALS);
      const kind = load<i32>(d, D_KIND);
      switch (kind) {
        case K_INTEGER: {
          out = writeI64(out, load<i64>(vals + (<usize>row << 3)));
          break;
        }
        case K_FLOAT: {
          const x = load<f64>(vals + (<usize>row << 3));
          if (x - x == 0) out = writeFinite(out, x, json); // finite: Inf − Inf and NaN are NaN
          else {
            const at = x != x ? H_NAN : x > 0 ? H_INF : H_NEG_INF;
            out = putConst(out, <usize>load<u32>(lay + at), load<i32>(lay + at, 4));
          }
          break;
        }
        case K_BOOLEAN: {
          if (bitAt(vals, load<i32>(d, D_BIT_OFF) + row) != 0) {
            store<u32>(out, 0x65757274); // "true"
            out += 4;
          } else {
            store<u32>(out, 0x736c6166); // "fals"
            store<u8>(out + 4, 101);
            out += 5;
          }
          break;
        }
        case K_DATE: {
          const days = load<i32>(vals + (<usize>row << 2));
          if (days < MIN_DAYS || days > MAX_DAYS) return fail(row, c);
          out = quoteMark(writeDate(quoteMark(out, quote), days), quote);
          break;
        }
        case K_DATETIME: {
          const end = writeDateTime(quoteMark(out, quote), load<i64>(vals + (<usize>row << 3)));
          if (end == 0) return fail(row, c);
          out = quoteMark(end, quote);
          break;
        }
        case K_TIME: {
          const micros = load<i64>(vals + (<usize>row << 3));
          if (micros < 0 || micros >= MICROS_PER_DAY) return fail(row, c);
          out = quoteMark(writeTime(quoteMark(out, quote), micros), quote);
          break;
        }
        case K_CSV_STRING:
        case K_JSON_STRING: {
          const offs = <usize>load<u32>(d, D_OFFS) + (<usize>row << 2);
          const from = load<i32>(offs);
          const src = <usize>load<u32>(d, D_BASE) + <usize>from;
          const len = load<i32>(offs, 4) - from;
          out = kind == K_CSV_STRING ? csvField(out, src, len, delimiter) : jsonString(out, src, len);
          break;
        }
      }
    }
    out = putConst(out, rowEnd, rowEndLen);
  }
  return out;
}

function fail(row: i32, column: i32): usize {
  errorRowAt = row;
  errorColumnAt = column;
  return 0;
}
