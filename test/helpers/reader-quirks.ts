/**
 * What each independent reader is known to return instead of the exact table: a declarative
 * table of quirks, each with the reader, format and reason. The tests then expect exactly
 * what the reader gives — a quirk never skips a check, it states the reader's known loss.
 * Everything not listed here must come back exactly (test/helpers/canonical.ts).
 */
import type { Variable } from '../../src/table/types.js';
import type { Fixture } from '../fixtures/build.js';
import type { ArrowValue, Cell } from './canonical.js';
import { canonicalOf, floatOf, isFloatCell, pyFloatRepr } from './canonical.js';

export interface Expectation {
  columns: string[];
  rows: number;
  values: Record<string, Cell[]>;
  /** Set when the reader cannot read the file at all: readBack must reject with this. */
  error?: RegExp;
  /** One line per quirk applied, for failure messages. */
  notes: string[];
}

interface ColumnContext {
  variable: Variable;
  values: readonly ArrowValue[];
  expected: readonly Cell[];
  /** [start, end) row range of each file of the export, in order. */
  parts: readonly [number, number][];
}

interface Quirk {
  readers: readonly string[];
  formats: readonly string[];
  why: string;
  /** Rewrites one column's expected cells; null when it does not apply to this column. */
  column?: (ctx: ColumnContext) => Cell[] | null;
  /** Rewrites the whole expectation; null when it does not apply. */
  table?: (fixture: Fixture, expectation: Expectation) => Expectation | null;
}

const MIN_NORMAL = 2.2250738585072014e-308;
const TWO_63 = 9223372036854775808; // exactly 2^63 as a double

const isText = (v: Variable): boolean => v.type === 'string' || v.type === 'geography';

const QUIRKS: readonly Quirk[] = [
  {
    readers: ['pandas'], formats: ['csv'],
    why: 'pandas read_csv reads a quoted empty field ("") as NA, like an empty one: empty strings come back null',
    column: ({ variable, expected }) => (isText(variable) ? expected.map((c) => (c === '' ? null : c)) : null),
  },
  {
    readers: ['pandas'], formats: ['csv', 'jsonl', 'parquet'],
    why: 'pandas float64 has no null apart from NaN: a null float comes back as NaN',
    column: ({ variable, expected }) => (variable.type === 'float' ? expected.map((c) => c ?? { f: 'nan' }) : null),
  },
  {
    readers: ['pandas'], formats: ['jsonl'],
    why: 'pandas read_json builds an integer column holding a null as float64 before applying dtype Int64: '
      + 'its values round to the nearest double, and when one leaves the int64 range the column stays float',
    column: pandasJsonIntegers,
  },
  {
    readers: ['pandas'], formats: ['jsonl'],
    why: 'an empty JSON Lines file names no columns: pandas returns a frame without columns',
    table: (_fixture, e) => (e.rows === 0 ? { ...e, columns: [], values: {} } : null),
  },
  {
    readers: ['pandas'], formats: ['jsonl'],
    why: 'pandas read_json(precise_float=True) fails on subnormal doubles ("Range error when decoding numeric as double")',
    table: (fixture, e) => (hasSubnormal(fixture) ? { ...e, error: /Range error when decoding numeric as double/ } : null),
  },
  {
    readers: ['pandas'], formats: ['parquet'],
    why: 'pandas read_parquet (numpy dtypes, the default) turns an int64 column holding a null into float64, '
      + 'and concatenating the parts makes the whole column float64: every value rounds to the nearest double',
    column: ({ variable, values }) => (variable.type === 'integer' && values.some((v) => v === null)
      ? values.map((v) => (v === null ? null : { f: pyFloatRepr(Number(v as bigint)) })) : null),
  },
  // dta: the first four are the writer's documented design (DESIGN.md, dta column), the same for every reader.
  {
    readers: ['pandas', 'readstat'], formats: ['dta'],
    why: 'dta by design: Stata doubles have no NaN or Infinity and end at ±8.988e307 (facts A8), so NaN, ±Infinity '
      + 'and larger magnitudes are written as `.` and read back as null',
    column: ({ variable, values, expected }) => (variable.type === 'float'
      ? values.map((v, i) => (typeof v === 'number' && !(Math.abs(v) <= DTA_DOUBLE_MAX) ? null : expected[i])) : null),
  },
  {
    readers: ['pandas', 'readstat'], formats: ['dta'],
    why: 'dta by design: Stata strings have no missing value, so a null string is written as ""',
    column: ({ variable, expected }) => (isText(variable) ? expected.map((c) => c ?? '') : null),
  },
  {
    readers: ['pandas', 'readstat'], formats: ['dta'],
    why: "dta by design: an integer column whose range leaves Stata's long (-2147483647..2147483620) is stored as "
      + 'double, so its values round to the nearest double',
    column: dtaIntegersAsDouble,
  },
  {
    readers: ['pandas', 'readstat'], formats: ['dta'],
    why: 'dta by design: %tc counts milliseconds, so microseconds round to the nearest millisecond (ties to the later '
      + 'instant); a time of day stays at or before 23:59:59.999',
    column: dtaMilliseconds,
  },
  {
    readers: ['readstat'], formats: ['dta'],
    why: 'the ReadStat CLI prints a double with printf "%.14f" when that shows more than 6 decimals, else "%f" '
      + '(src/bin/modules/mod_csv.c, double_decimals.c): exact decimal rounding, ties to even',
    column: ({ variable, expected }) => (variable.type === 'float'
      ? expected.map((c) => (c !== null && isFloatCell(c) ? { f: pyFloatRepr(Number(readstatNumberText(floatOf(c)))) } : c)) : null),
  },
  {
    readers: ['readstat'], formats: ['dta'],
    why: 'ReadStat strips trailing ASCII spaces from str# values (readstat_convert: "programs use ASCII space padding"); '
      + 'strL values (a column with a value over 2045 UTF-8 bytes) keep them',
    column: ({ variable, values, expected }) => (isText(variable) && !values.some((v) => typeof v === 'string' && Buffer.byteLength(v) > 2045)
      ? expected.map((c) => (typeof c === 'string' ? c.replace(/ +$/, '') : c)) : null),
  },
  // sav: A–D are the writer's documented design (DESIGN.md, sav column), the same for every reader.
  {
    readers: ['readstat', 'pspp'], formats: ['sav'],
    why: 'sav by design: NaN and ±Infinity are written as SYSMIS, and −DBL_MAX is SYSMIS\'s own bit pattern: all read back as null',
    column: ({ variable, values, expected }) => (variable.type === 'float'
      ? values.map((v, i) => (typeof v === 'number' && (v - v !== 0 || v === -Number.MAX_VALUE) ? null : expected[i])) : null),
  },
  {
    readers: ['readstat', 'pspp'], formats: ['sav'],
    why: 'sav by design: strings are space-padded to the column width and have no null, so a null reads back as "" '
      + 'and trailing spaces (indistinguishable from padding) are removed',
    column: ({ variable, expected }) => (isText(variable)
      ? expected.map((c) => (typeof c === 'string' ? c.replace(/ +$/, '') : '')) : null),
  },
  {
    readers: ['readstat', 'pspp'], formats: ['sav'],
    why: 'sav by design: SPSS numbers are doubles, so integers beyond ±2^53 come back as the nearest double',
    column: ({ variable, values }) => (variable.type === 'integer'
      ? values.map((v) => (v === null ? null : BigInt(Number(v as bigint)).toString())) : null),
  },
  {
    readers: ['readstat'], formats: ['sav'],
    why: 'sav by design: a dateTime is a double of seconds since 1582-10-14, which resolves ~2 µs today and ~30 µs in '
      + 'year 9999; ReadStat prints that double, read here to the nearest microsecond (ties to even)',
    column: ({ variable, values }) => (variable.type === 'dateTime'
      ? values.map((v) => (v === null ? null : canonicalOf('dateTime', scaledHalfEven(savDateTimeDouble(v as bigint), 6) - SAV_EPOCH_MICROS)))
      : null),
  },
  {
    readers: ['readstat'], formats: ['sav'],
    why: 'the ReadStat CLI prints a double by printf "%lf" when "%.14f" shows at most 6 decimals, else "%.14f" '
      + '(exact decimal rounding, ties to even): digits beyond the 14th decimal are lost; and it reads DBL_MAX '
      + '(SPSS\'s HIGHEST) as missing',
    column: ({ variable, expected }) => (variable.type === 'float'
      ? expected.map((c) => (c !== null && isFloatCell(c)
        ? (floatOf(c) === Number.MAX_VALUE ? null : { f: pyFloatRepr(Number(readstatNumberText(floatOf(c)))) }) : c))
      : null),
  },
  {
    readers: ['readstat'], formats: ['sav'],
    why: 'ReadStat 1.1.8 returns at most 32,766 bytes of a string: a 32,767-byte value loses its last byte',
    column: ({ variable, expected }) => (isText(variable)
      ? expected.map((c) => (typeof c === 'string' && Buffer.byteLength(c) > 32_766
        ? Buffer.from(c).subarray(0, 32_766).toString('utf8') : c)) : null),
  },
  {
    readers: ['pspp'], formats: ['sav'],
    why: 'pspp-convert writes CR LF inside a string as LF (PSPP itself holds both bytes)',
    column: ({ variable, expected }) => (isText(variable)
      ? expected.map((c) => (typeof c === 'string' ? c.replace(/\r\n/g, '\n') : c)) : null),
  },
  {
    readers: ['pspp'], formats: ['sav'],
    why: 'pspp-convert (plain csv) prints DATE, DATETIME and TIME values without the fraction of a second (cut off '
      + 'with PSPP\'s own double arithmetic), and a date or dateTime before 1582-10-14 (a negative value) as blank',
    column: ({ variable, values }) => {
      const type = variable.type;
      if (type !== 'date' && type !== 'dateTime' && type !== 'time') return null;
      return values.map((v) => (v === null ? null : psppCell(type, v as number | bigint)));
    },
  },
];

function hasSubnormal(fixture: Fixture): boolean {
  return fixture.table.variables.some((v) => v.type === 'float' && fixture.values[v.name].some(
    (x) => typeof x === 'number' && x !== 0 && Math.abs(x) < MIN_NORMAL));
}

/** dta: the largest double that is not a missing code (facts A8). */
const DTA_DOUBLE_MAX = 8.98846567431158e307;

function dtaIntegersAsDouble({ variable, values }: ColumnContext): Cell[] | null {
  if (variable.type !== 'integer') return null;
  const fitsLong = values.every((v) => v === null || ((v as bigint) >= -2147483647n && (v as bigint) <= 2147483620n));
  return fitsLong ? null : values.map((v) => (v === null ? null : BigInt(Number(v as bigint)).toString()));
}

/** floor((µs + 500) / 1000) in µs: the nearest millisecond, ties to the later instant. */
function roundToMillis(micros: bigint): bigint {
  const shifted = micros + 500n;
  const ms = shifted / 1000n - (shifted % 1000n < 0n ? 1n : 0n);
  return ms * 1000n;
}

function dtaMilliseconds({ variable, values }: ColumnContext): Cell[] | null {
  if (variable.type !== 'dateTime' && variable.type !== 'time') return null;
  return values.map((v) => {
    if (v === null) return null;
    const rounded = roundToMillis(v as bigint);
    const kept = variable.type === 'time' && rounded > 86_399_999_000n ? 86_399_999_000n : rounded;
    return canonicalOf(variable.type, kept);
  });
}

/** sav (facts B9): µs from 1582-10-14 (SPSS's day 0) to 1970-01-01. */
const SAV_EPOCH_MICROS = 12_219_379_200_000_000n;

/** The double a sav file holds for a dateTime: seconds since 1582-10-14, correctly rounded. */
function savDateTimeDouble(micros: bigint): number {
  const total = micros + SAV_EPOCH_MICROS;
  const abs = total < 0n ? -total : total;
  return Number(`${total < 0n ? '-' : ''}${abs / 1_000_000n}.${(abs % 1_000_000n).toString().padStart(6, '0')}`);
}

/** x · 10^digits rounded to an integer, ties to even, from the exact binary value of x. */
function scaledHalfEven(x: number, digits: number): bigint {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const negative = hi >>> 31 === 1;
  const biased = (hi >>> 20) & 0x7ff;
  let mantissa = (BigInt(hi & 0xfffff) << 32n) | BigInt(view.getUint32(4));
  if (biased !== 0) mantissa |= 1n << 52n;
  const exponent = (biased === 0 ? 1 : biased) - 1075;
  const scale = 10n ** BigInt(digits);
  let scaled: bigint;
  if (exponent >= 0) {
    scaled = (mantissa << BigInt(exponent)) * scale;
  } else {
    const numerator = mantissa * scale;
    const denominator = 1n << BigInt(-exponent);
    scaled = numerator / denominator;
    const twice = (numerator % denominator) * 2n;
    if (twice > denominator || (twice === denominator && (scaled & 1n) === 1n)) scaled += 1n;
  }
  return negative ? -scaled : scaled;
}

/** C's printf("%.{digits}f", x) (glibc: exact value, ties to even); the sign of −0 kept. */
function printfFixed(x: number, digits: number): string {
  const scaled = scaledHalfEven(x, digits);
  const negative = scaled < 0n || Object.is(x, -0) || (scaled === 0n && x < 0);
  const abs = scaled < 0n ? -scaled : scaled;
  const scale = 10n ** BigInt(digits);
  return `${negative ? '-' : ''}${abs / scale}.${(abs % scale).toString().padStart(digits, '0')}`;
}

/** What the ReadStat CLI prints for a double in a sav: "%lf" if "%.14f" has ≤ 6 significant decimals. */
function readstatNumberText(x: number): string {
  const long = printfFixed(x, 14);
  const decimals = long.slice(long.indexOf('.') + 1).replace(/0+$/, '').length;
  return decimals <= 6 ? printfFixed(x, 6) : long;
}

/**
 * pspp-convert's plain csv text of a date, dateTime or time, with PSPP's double arithmetic
 * (csv-file-writer.c extract_date/extract_time: day = ⌊x/60/60/24⌋, then fmod and floor).
 */
function psppCell(type: 'date' | 'dateTime' | 'time', value: number | bigint): Cell {
  const x = type === 'date' ? ((value as number) + 141_428) * 86_400
    : type === 'time' ? Number(value as bigint) / 1e6 : savDateTimeDouble(value as bigint);
  if (type !== 'time' && x < 0) return null;
  const clock = (s: number): bigint => {
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    return BigInt(h * 3600 + m * 60 + Math.floor((s % 3600) % 60)) * 1_000_000n;
  };
  if (type === 'time') return canonicalOf('time', clock(Math.abs(x)));
  const days = Math.floor(x / 60 / 60 / 24) - 141_428;
  if (type === 'date') return canonicalOf('date', days);
  return canonicalOf('dateTime', BigInt(days) * 86_400_000_000n + clock(x % 86_400));
}

/** Per file: a file whose column holds a null goes through float64; see the quirk's `why`. */
function pandasJsonIntegers({ variable, values, parts }: ColumnContext): Cell[] | null {
  if (variable.type !== 'integer') return null;
  const partOf = new Int32Array(values.length);
  parts.forEach(([start, end], p) => partOf.fill(p, start, end));
  const viaDouble = parts.map(([start, end]) => values.slice(start, end).some((v) => v === null));
  if (!viaDouble.some(Boolean)) return null;
  const leavesInt64 = values.some((v, i) => v !== null && viaDouble[partOf[i]] && !(Number(v) >= -TWO_63 && Number(v) < TWO_63));
  return values.map((v, i) => {
    if (v === null) return null;
    const x = Number(v as bigint);
    if (leavesInt64) return { f: pyFloatRepr(x) }; // float64 column (Float64 after concat)
    return viaDouble[partOf[i]] ? BigInt(x).toString() : (v as bigint).toString();
  });
}

/** [start, end) ranges of consecutive parts with these row counts. */
export function partRanges(partRows: readonly number[]): [number, number][] {
  let start = 0;
  return partRows.map((n) => {
    const range: [number, number] = [start, start + n];
    start += n;
    return range;
  });
}

/**
 * What `reader` returns for `fixture` written as `format`, split into files of `partRows` rows
 * (default: one file). Starts from fixture.expected and applies the matching quirks.
 */
export function expectationFor(fixture: Fixture, reader: string, format: string, partRows?: readonly number[]): Expectation {
  const rows = fixture.table.variables.length ? fixture.values[fixture.table.variables[0].name].length : 0;
  const parts = partRanges(partRows ?? [rows]);
  const total = parts.length ? parts[parts.length - 1][1] : 0;
  if (total !== rows) throw new Error(`part row counts add up to ${total}, but ${fixture.name} has ${rows} rows`);
  let expectation: Expectation = {
    columns: fixture.table.variables.map((v) => v.name),
    rows,
    values: { ...fixture.expected },
    notes: [],
  };
  for (const quirk of QUIRKS) {
    if (!quirk.readers.includes(reader) || !quirk.formats.includes(format)) continue;
    let applied = false;
    if (quirk.column) {
      for (const variable of fixture.table.variables) {
        const values = fixture.values[variable.name];
        const adjusted = quirk.column({ variable, values, expected: expectation.values[variable.name], parts });
        if (adjusted) {
          expectation.values[variable.name] = adjusted;
          applied = true;
        }
      }
    }
    const replaced = quirk.table?.(fixture, expectation) ?? null;
    if (replaced) {
      expectation = replaced;
      applied = true;
    }
    if (applied) expectation.notes.push(`${reader}/${format}: ${quirk.why}`);
  }
  return expectation;
}
