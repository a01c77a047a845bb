/**
 * The lossless cell encoding shared by test/readers/read_back.py and the fixtures, and how two
 * cells compare. A cell is what an independent reader returned, in JSON:
 *   integer          decimal string, never through a double ("9223372036854775807")
 *   float            { f: Python repr } ("nan", "inf", "-inf", "-0.0", "5e-324", "0.1")
 *   boolean          true / false
 *   date             "YYYY-MM-DD"
 *   dateTime, time   Python isoformat(): ".ffffff" only when the microseconds are not 0
 *   string, geography the string
 *   null             null
 */
import type { VariableType } from '../../src/table/types.js';

export interface FloatCell {
  f: string;
}
export type Cell = string | boolean | null | FloatCell;

/** A value as the canonical Arrow column holds it (src/table/columns.ts layouts). */
export type ArrowValue = bigint | number | boolean | string | null;

const MICROS_PER_DAY = 86_400_000_000n;

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** The inverse of daysFromCivil. */
export function civilFromDays(days: number): [number, number, number] {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (month <= 2 ? 1 : 0), month, day];
}

const pad = (n: number | bigint, width: number): string => String(n).padStart(width, '0');

export function isoDate(days: number): string {
  const [y, m, d] = civilFromDays(days);
  return `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}`;
}

/** "HH:MM:SS[.ffffff]" of microseconds since midnight (0 ≤ micros < one day). */
export function isoTime(micros: bigint): string {
  const seconds = micros / 1_000_000n;
  const fraction = micros % 1_000_000n;
  const text = `${pad(seconds / 3600n, 2)}:${pad((seconds / 60n) % 60n, 2)}:${pad(seconds % 60n, 2)}`;
  return fraction === 0n ? text : `${text}.${pad(fraction, 6)}`;
}

export function isoDateTime(micros: bigint): string {
  let days = micros / MICROS_PER_DAY;
  let rest = micros % MICROS_PER_DAY;
  if (rest < 0n) {
    days -= 1n;
    rest += MICROS_PER_DAY;
  }
  return `${isoDate(Number(days))}T${isoTime(rest)}`;
}

export function parseDate(text: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) throw new Error(`not a YYYY-MM-DD date: ${text}`);
  return daysFromCivil(Number(m[1]), Number(m[2]), Number(m[3]));
}

export function parseTime(text: string): bigint {
  const m = /^(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$/.exec(text);
  if (!m) throw new Error(`not an HH:MM:SS[.ffffff] time: ${text}`);
  const fraction = BigInt((m[4] ?? '').padEnd(6, '0'));
  return (BigInt(m[1]) * 3600n + BigInt(m[2]) * 60n + BigInt(m[3])) * 1_000_000n + fraction;
}

export function parseDateTime(text: string): bigint {
  const [date, time] = text.split('T');
  if (time === undefined) throw new Error(`not a YYYY-MM-DDTHH:MM:SS date-time: ${text}`);
  return BigInt(parseDate(date)) * MICROS_PER_DAY + parseTime(time);
}

/** Python's repr() of a double: shortest round-trip digits, exponent when exp < -4 or ≥ 16. */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const sign = x < 0 ? '-' : '';
  const [mantissa, exponent] = Math.abs(x).toExponential().split('e'); // shortest digits
  const digits = mantissa.replace('.', '');
  const exp = Number(exponent);
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${pad(Math.abs(exp), 2)}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  if (digits.length <= exp + 1) return `${sign}${digits}${'0'.repeat(exp + 1 - digits.length)}.0`;
  return `${sign}${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
}

/** The double a float cell stands for ("nan", "inf", "-inf" or a repr). */
export function floatOf(cell: FloatCell): number {
  switch (cell.f) {
    case 'nan': return NaN;
    case 'inf': return Infinity;
    case '-inf': return -Infinity;
    default: return Number(cell.f);
  }
}

/** The cell read_back.py emits for a value of the canonical Arrow column of this type. */
export function canonicalOf(type: VariableType, value: ArrowValue): Cell {
  if (value === null) return null;
  switch (type) {
    case 'integer': return (value as bigint).toString();
    case 'float': return { f: pyFloatRepr(value as number) };
    case 'boolean': return value as boolean;
    case 'date': return isoDate(value as number);
    case 'dateTime': return isoDateTime(value as bigint);
    case 'time': return isoTime(value as bigint);
    case 'string':
    case 'geography': return value as string;
  }
}

export function isFloatCell(cell: Cell): cell is FloatCell {
  return typeof cell === 'object' && cell !== null;
}

/** Exact equality: floats bitwise (NaN equals NaN, -0 differs from 0), everything else ===. */
export function cellsEqual(expected: Cell, got: Cell): boolean {
  if (isFloatCell(expected) || isFloatCell(got)) {
    if (!isFloatCell(expected) || !isFloatCell(got)) return false;
    const a = floatOf(expected);
    const b = floatOf(got);
    return Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));
  }
  return expected === got;
}

export function describeCell(cell: Cell): string {
  if (cell === null) return 'null';
  if (isFloatCell(cell)) return `float ${cell.f}`;
  return JSON.stringify(cell);
}
