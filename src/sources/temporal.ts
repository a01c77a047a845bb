/**
 * Text and Date values to Arrow's temporal units: days since 1970-01-01 (date32) and
 * microseconds (timestamp, time64). Text is parsed with integer arithmetic on the proleptic
 * Gregorian calendar, never through Date, so years 0001..9999 and microseconds come out exact.
 * Each parser returns null when the text is not of its form, and the caller names the column.
 */

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const MS_PER_DAY = 86_400_000;
const MICROS_PER_SECOND = 1_000_000n;
const MICROS_PER_DAY = 86_400_000_000n;

/** First and last days a date may take (0001-01-01, 9999-12-31), as days since 1970. */
export const MIN_DAY = daysFromCivil(1, 1, 1);
export const MAX_DAY = daysFromCivil(9999, 12, 31);

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIME = /^(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$/;

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = (month + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

function checkedDays(year: number, month: number, day: number): number | null {
  if (year < 1 || month < 1 || month > 12 || day < 1) return null;
  const last = month === 2 && isLeapYear(year) ? 29 : DAYS_IN_MONTH[month - 1];
  return day <= last ? daysFromCivil(year, month, day) : null;
}

function checkedMicrosOfDay(hour: number, minute: number, second: number, fraction: string | undefined): bigint | null {
  if (hour > 23 || minute > 59 || second > 59) return null;
  const micros = fraction === undefined ? 0n : BigInt(fraction.padEnd(6, '0'));
  return BigInt((hour * 60 + minute) * 60 + second) * MICROS_PER_SECOND + micros;
}

/** 'YYYY-MM-DD' to days since 1970, or null when it is not a real date in 0001..9999. */
export function parseDate(text: string): number | null {
  const m = DATE.exec(text);
  return m ? checkedDays(Number(m[1]), Number(m[2]), Number(m[3])) : null;
}

/** 'HH:MM:SS[.ffffff]' to microseconds since midnight, or null. */
export function parseTime(text: string): bigint | null {
  const m = TIME.exec(text);
  return m ? checkedMicrosOfDay(Number(m[1]), Number(m[2]), Number(m[3]), m[4]) : null;
}

/** 'YYYY-MM-DDTHH:MM:SS[.ffffff]' (no zone) to microseconds since 1970-01-01T00:00:00, or null. */
export function parseDateTime(text: string): bigint | null {
  const m = DATE_TIME.exec(text);
  if (!m) return null;
  const days = checkedDays(Number(m[1]), Number(m[2]), Number(m[3]));
  const micros = checkedMicrosOfDay(Number(m[4]), Number(m[5]), Number(m[6]), m[7]);
  return days === null || micros === null ? null : BigInt(days) * MICROS_PER_DAY + micros;
}

/** A Date's UTC calendar day, or null for an invalid Date or one outside 0001..9999. */
export function daysOfDate(date: Date): number | null {
  const ms = date.getTime();
  if (Number.isNaN(ms)) return null;
  const days = Math.floor(ms / MS_PER_DAY);
  return days >= MIN_DAY && days <= MAX_DAY ? days : null;
}

/** A Date's instant as microseconds since 1970 (its UTC reading), or null for an invalid or out-of-range Date. */
export function microsOfDate(date: Date): bigint | null {
  return daysOfDate(date) === null ? null : BigInt(date.getTime()) * 1000n;
}
