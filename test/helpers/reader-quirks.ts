/**
 * What each independent reader is known to return instead of the exact table: a declarative
 * table of quirks, each with the reader, format and reason. The tests then expect exactly
 * what the reader gives — a quirk never skips a check, it states the reader's known loss.
 * Everything not listed here must come back exactly (test/helpers/canonical.ts).
 */
import type { Variable } from '../../src/table/types.js';
import type { Fixture } from '../fixtures/build.js';
import type { ArrowValue, Cell } from './canonical.js';
import { pyFloatRepr } from './canonical.js';

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
    readers: ['pandas'], formats: ['csv', 'jsonl'],
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
];

function hasSubnormal(fixture: Fixture): boolean {
  return fixture.table.variables.some((v) => v.type === 'float' && fixture.values[v.name].some(
    (x) => typeof x === 'number' && x !== 0 && Math.abs(x) < MIN_NORMAL));
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
