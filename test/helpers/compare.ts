/**
 * Value-by-value comparison of what an independent reader returned with what the fixture
 * says, with failure messages that name the reader, column, row, expected and got, and a
 * hint at the usual cause (rounded through a double, lost sign of zero, lost microseconds).
 */
import type { VariableType } from '../../src/table/types.js';
import type { Cell } from './canonical.js';
import { cellsEqual, describeCell, floatOf, isFloatCell } from './canonical.js';
import type { Expectation } from './reader-quirks.js';

/** What read_back.py printed, plus which reader and format produced it. */
export interface ReadBack {
  reader: string;
  format: string;
  paths: string[];
  columns: string[];
  /** The reader's own dtype per column (pandas "Int64", DuckDB "BIGINT", ...). */
  dtypes: Record<string, string>;
  rows: number;
  values: Record<string, Cell[]>;
}

/**
 * null when `got` is exactly `expected`, else why it differs. integer: decimal strings,
 * equal as bigints; float: bitwise, NaN equal to NaN, -0 distinct from 0; date, dateTime, time:
 * ISO text (microseconds only when not 0); string: exact code units.
 */
export function compareCanonical(type: VariableType | undefined, expected: Cell, got: Cell): string | null {
  if (cellsEqual(expected, got)) return null;
  if (expected === null || got === null) return got === null ? 'value lost (read as null)' : 'null read as a value';
  if (type === 'integer' && typeof expected === 'string') {
    if (isFloatCell(got)) return 'integer read as a float';
    if (typeof got === 'string' && /^-?\d+$/.test(got)) {
      const off = BigInt(got) - BigInt(expected);
      return Number(BigInt(expected)) === Number(BigInt(got)) ? `off by ${off}: rounded through a double` : `off by ${off}`;
    }
  }
  if (type === 'float' && isFloatCell(expected) && isFloatCell(got)) {
    const a = floatOf(expected);
    const b = floatOf(got);
    if (a === 0 && b === 0) return 'sign of zero lost';
    if (Number.isFinite(a) && Number.isFinite(b)) return `differs by ${Math.abs(a - b) / Math.abs(a || 1)} relative`;
  }
  if ((type === 'dateTime' || type === 'time') && typeof expected === 'string' && typeof got === 'string') {
    if (got.startsWith(expected.split('.')[0])) return 'fraction of a second differs';
  }
  if (typeof expected === 'string' && typeof got === 'string') {
    const at = [...expected].findIndex((ch, i) => ch !== [...got][i]);
    return `text differs at code point ${at === -1 ? [...expected].length : at} (lengths ${expected.length} vs ${got.length})`;
  }
  return 'different value';
}

const MAX_REPORTED = 20;

function clip(text: string): string {
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/** Throws an Error listing every difference (the first 20 in full) between got and want. */
export function expectValuesEqual(got: ReadBack, want: Expectation, types: Record<string, VariableType> = {}): void {
  const where = `${got.reader}/${got.format} reading ${got.paths.map((p) => p.split('/').pop()).join(', ')}`;
  const problems: string[] = [];
  if (JSON.stringify(got.columns) !== JSON.stringify(want.columns)) {
    problems.push(`columns: expected ${JSON.stringify(want.columns)}, got ${JSON.stringify(got.columns)}`);
  }
  if (got.rows !== want.rows) problems.push(`rows: expected ${want.rows}, got ${got.rows}`);
  let differences = 0;
  for (const name of want.columns) {
    const cells = got.values[name];
    if (!cells) continue; // reported with the columns
    const expected = want.values[name];
    const n = Math.max(expected.length, cells.length);
    for (let row = 0; row < n; row++) {
      const e = row < expected.length ? expected[row] : null;
      const g = row < cells.length ? cells[row] : null;
      const why = row >= cells.length ? 'row missing' : row >= expected.length ? 'extra row' : compareCanonical(types[name], e, g);
      if (why === null) continue;
      differences++;
      if (differences <= MAX_REPORTED) {
        problems.push(`column "${name}" (${got.dtypes[name] ?? '?'}) row ${row}: expected ${clip(describeCell(e))}, `
          + `got ${clip(describeCell(g))} — ${why}`);
      }
    }
  }
  if (differences > MAX_REPORTED) problems.push(`... and ${differences - MAX_REPORTED} more differences`);
  if (problems.length === 0) return;
  const notes = want.notes.length ? `\nknown reader quirks already applied:\n  ${want.notes.join('\n  ')}` : '';
  throw new Error(`${where}: ${problems.length} problem(s)\n  ${problems.join('\n  ')}${notes}`);
}
