import { writeMicros, writePair, writeQuad } from './digits.js';

/**
 * Dates and times as ISO 8601 text (DESIGN.md: `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM:SS[.ffffff]`,
 * `HH:MM:SS[.ffffff]`, fraction only when the microseconds are not 0). Integer civil-calendar
 * arithmetic (proleptic Gregorian, H. Hinnant's civil_from_days) rather than `Date`: it is
 * many times faster and right for years below 100, which `Date` maps to 19xx.
 */

/** 0001-01-01 and 9999-12-31 in days since 1970-01-01: the years four digits can write. */
export const MIN_DAYS = -719162;
export const MAX_DAYS = 2932896;
export const MICROS_PER_DAY = 86_400_000_000;
const MICROS_PER_DAY_BIG = 86_400_000_000n;
const DAYS_PER_MICRO = 1 / MICROS_PER_DAY;

export const DATE_CHARS = 10;
export const TIME_CHARS = 15;
export const DATETIME_CHARS = DATE_CHARS + 1 + TIME_CHARS;

/** Writes `YYYY-MM-DD` for MIN_DAYS <= days <= MAX_DAYS. */
export function writeDate(out: DataView, pos: number, days: number): number {
  // Shift the epoch to 0000-03-01 so leap days fall at the end of each 400-year era;
  // within the accepted range z is positive, so `| 0` truncation is floor division. Every
  // step is `| 0` so V8 keeps to 32-bit integers (divisions by constants become products).
  const z = (days + 719468) | 0;
  const era = (z / 146097) | 0;
  const doe = (z - era * 146097) | 0;
  const yoe = ((doe - ((doe / 1460) | 0) + ((doe / 36524) | 0) - ((doe / 146096) | 0)) / 365) | 0;
  const doy = (doe - (365 * yoe + ((yoe / 4) | 0) - ((yoe / 100) | 0))) | 0;
  const mp = ((5 * doy + 2) / 153) | 0;
  const day = (doy - (((153 * mp + 2) / 5) | 0) + 1) | 0;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = (yoe + era * 400 + (month <= 2 ? 1 : 0)) | 0;
  pos = writeQuad(out, pos, year);
  out.setUint8(pos++, 45);
  pos = writePair(out, pos, month);
  out.setUint8(pos++, 45);
  return writePair(out, pos, day);
}

/** Writes `HH:MM:SS[.ffffff]` for 0 <= micros < MICROS_PER_DAY. */
export function writeTimeOfDay(out: DataView, pos: number, micros: number): number {
  // A product for the quotient (a division costs several times more), corrected below:
  // its error is far below one. Below 2^31 from here on, `| 0` lets V8 use integer arithmetic.
  let seconds = Math.floor(micros * 1e-6) | 0;
  let fraction = micros - seconds * 1e6;
  if (fraction < 0) {
    seconds -= 1;
    fraction += 1e6;
  } else if (fraction >= 1e6) {
    seconds += 1;
    fraction -= 1e6;
  }
  const hours = (seconds / 3600) | 0;
  const rest = seconds - hours * 3600;
  const minutes = (rest / 60) | 0;
  pos = writePair(out, pos, hours);
  out.setUint8(pos++, 58);
  pos = writePair(out, pos, minutes);
  out.setUint8(pos++, 58);
  pos = writePair(out, pos, rest - minutes * 60);
  if (fraction === 0) return pos;
  out.setUint8(pos++, 46);
  return writeMicros(out, pos, fraction | 0);
}

/**
 * Writes `YYYY-MM-DDTHH:MM:SS[.ffffff]` for microseconds since 1970 given as an exact double
 * (|micros| <= 2^53, years 1685–2255). Returns -1 when the date is outside 0001–9999.
 */
export function writeDateTime(out: DataView, pos: number, micros: number): number {
  // Floor division, so instants before 1970 land on the previous day with a positive time.
  // A product for the quotient (cheaper than a division) may be one off at a day boundary,
  // hence the fix-ups.
  let days = Math.floor(micros * DAYS_PER_MICRO);
  let rest = micros - days * MICROS_PER_DAY;
  if (rest < 0) {
    days -= 1;
    rest += MICROS_PER_DAY;
  } else if (rest >= MICROS_PER_DAY) {
    days += 1;
    rest -= MICROS_PER_DAY;
  }
  if (days < MIN_DAYS || days > MAX_DAYS) return -1;
  pos = writeDate(out, pos, days | 0);
  out.setUint8(pos++, 84);
  return writeTimeOfDay(out, pos, rest);
}

/** writeDateTime for any int64 microseconds (the BigInt path, for values beyond ±2^53). */
export function writeBigDateTime(out: DataView, pos: number, micros: bigint): number {
  let days = micros / MICROS_PER_DAY_BIG;
  let rest = micros - days * MICROS_PER_DAY_BIG;
  if (rest < 0n) {
    days -= 1n;
    rest += MICROS_PER_DAY_BIG;
  }
  if (days < BigInt(MIN_DAYS) || days > BigInt(MAX_DAYS)) return -1;
  pos = writeDate(out, pos, Number(days));
  out.setUint8(pos++, 84);
  return writeTimeOfDay(out, pos, Number(rest));
}
