import { ExportError } from '../../errors.js';
import type { Table, Variable, VariableStatistics } from '../../table/types.js';
import {
  BYTE_MAX, BYTE_MIN, INT_MAX, INT_MIN, LONG_MAX, LONG_MIN, STR_MAX_WIDTH, STRL_MAX_BYTES, TYPE_BYTE, TYPE_DOUBLE,
  TYPE_INT, TYPE_LONG, TYPE_STRL,
} from './spec.js';

/**
 * How each platform type is stored (DESIGN.md, dta column; facts A4, A8, A9): the Stata type
 * code, the bytes it takes in a row, its display format, and which cell writer fills it.
 */

/** The cell writer of a column (src/formats/dta/data.ts), chosen once per export. */
export type CellKind =
  | 'integerByte' | 'integerInt' | 'integerLong' | 'integerDouble'
  | 'float' | 'boolean' | 'date' | 'dateTime' | 'time' | 'str' | 'strL';

export interface DtaColumn {
  /** The table's name of the column (for errors and warnings). */
  source: string;
  /** The Stata variable name (names.ts). */
  name: string;
  kind: CellKind;
  /** variable_types entry: 1..2045 for str#, else TYPE_*. */
  typeCode: number;
  /** Bytes in a row. */
  width: number;
  format: string;
  label: string;
  /** The value-label set's name, or "" when none. */
  valueLabelName: string;
}

interface Storage {
  kind: CellKind;
  typeCode: number;
  width: number;
  format: string;
}

const TWO_53 = 9007199254740992n;

/**
 * The smallest of byte/int/long whose valid range (outside the missing codes, facts A8/C3)
 * holds [min, max], else double. An all-null column (no range) is a byte of `.`s.
 */
export function chooseIntegerStorage(min: bigint | undefined, max: bigint | undefined): Storage {
  if (min === undefined || max === undefined || (min >= BigInt(BYTE_MIN) && max <= BigInt(BYTE_MAX))) {
    return { kind: 'integerByte', typeCode: TYPE_BYTE, width: 1, format: '%8.0g' };
  }
  if (min >= BigInt(INT_MIN) && max <= BigInt(INT_MAX)) return { kind: 'integerInt', typeCode: TYPE_INT, width: 2, format: '%8.0g' };
  if (min >= BigInt(LONG_MIN) && max <= BigInt(LONG_MAX)) return { kind: 'integerLong', typeCode: TYPE_LONG, width: 4, format: '%12.0g' };
  // %20.0g shows every digit a double holds of an integer.
  return { kind: 'integerDouble', typeCode: TYPE_DOUBLE, width: 8, format: '%20.0g' };
}

/** str# sized in UTF-8 bytes (facts C2; at least 1), strL beyond 2045 bytes. */
export function chooseStringStorage(maxByteLength: number): Storage {
  if (maxByteLength > STR_MAX_WIDTH) return { kind: 'strL', typeCode: TYPE_STRL, width: 8, format: '%9s' };
  const width = Math.max(1, maxByteLength);
  return { kind: 'str', typeCode: width, width, format: `%${width}s` };
}

/** The storage of one column, with warnings about what it cannot hold exactly. */
function chooseStorage(variable: Variable, stats: VariableStatistics | undefined, numRows: number | undefined,
  warnings: string[]): Storage {
  const where = `column "${variable.name}"`;
  switch (variable.type) {
    case 'integer': {
      const allNull = stats?.nullCount !== undefined && numRows !== undefined && stats.nullCount >= numRows;
      if ((stats?.min === undefined || stats.max === undefined) && !allNull) {
        // Only reachable when prepare() is called without the pipeline's first pass.
        warnings.push(`${where}: no integer range was known, so it is stored as double (exact to 2^53)`);
        return chooseIntegerStorage(-TWO_53 * 2n, TWO_53 * 2n);
      }
      const storage = chooseIntegerStorage(stats?.min, stats?.max);
      const { min, max } = stats ?? {};
      if (storage.kind === 'integerDouble' && min !== undefined && max !== undefined && (max > TWO_53 || min < -TWO_53)) {
        warnings.push(`${where}: values from ${min} to ${max} exceed Stata's long, so they are stored as double, which is `
          + 'exact only to ±2^53 (9007199254740992); larger values are rounded to the nearest double');
      }
      return storage;
    }
    case 'float': return { kind: 'float', typeCode: TYPE_DOUBLE, width: 8, format: '%10.0g' };
    case 'boolean': return { kind: 'boolean', typeCode: TYPE_BYTE, width: 1, format: '%8.0g' };
    case 'date': return { kind: 'date', typeCode: TYPE_LONG, width: 4, format: '%td' };
    // %tc must be double (facts A9); milliseconds are shown since they are kept.
    case 'dateTime': return { kind: 'dateTime', typeCode: TYPE_DOUBLE, width: 8, format: '%tcCCYY-NN-DD_HH:MM:SS.sss' };
    case 'time': return { kind: 'time', typeCode: TYPE_DOUBLE, width: 8, format: '%tcHH:MM:SS.sss' };
    case 'string':
    case 'geography': {
      const maxByteLength = stats?.maxByteLength;
      if (maxByteLength === undefined) {
        // Facts A11: of unknown length, a string must be strL (only without the first pass).
        return chooseStringStorage(STR_MAX_WIDTH + 1);
      }
      if (maxByteLength > STRL_MAX_BYTES) {
        throw new ExportError('STRING_TOO_LONG', `a value is ${maxByteLength} bytes long, but a Stata strL holds at most `
          + `${STRL_MAX_BYTES} bytes`, { format: 'dta', column: variable.name });
      }
      return chooseStringStorage(maxByteLength);
    }
  }
}

/** Every column's storage, name, format and labels, in table order. */
export function planColumns(table: Table, names: readonly string[], labels: readonly string[],
  valueLabelNames: readonly string[], warnings: string[]): DtaColumn[] {
  return table.variables.map((variable, i) => {
    const storage = chooseStorage(variable, table.statistics?.[variable.name], table.numRows, warnings);
    return { source: variable.name, name: names[i], ...storage, label: labels[i], valueLabelName: valueLabelNames[i] };
  });
}
