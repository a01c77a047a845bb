/**
 * How each column becomes SPSS variables: type, declared width, print/write format, the
 * 8-byte slots it takes in a case, and its very-long-string segments (fact sheet B3, B4, B9,
 * DESIGN.md type table). Everything here is fixed before the first byte (B11).
 */
import { ExportError } from '../../errors.js';
import type { Table, Variable, VariableType } from '../../table/types.js';
import { assignLongNames, assignShortNames } from './names.js';
import type { Rename } from '../protocol.js';
import { cutUtf8, encodeText } from './record-writer.js';

/** B3 format type codes. */
export const FORMAT_A = 1;
export const FORMAT_F = 5;
export const FORMAT_DATE = 20;
export const FORMAT_TIME = 21;
export const FORMAT_DATETIME = 22;

/** B10: string widths are 1..32,767 bytes. */
export const MAX_STRING_WIDTH = 32767;
/** B3: a variable record holds a string of at most 255 bytes; wider ones are segmented (B4). */
export const MAX_SEGMENT_WIDTH = 255;
/** B10: variable labels ≤ 255 bytes. */
export const MAX_VARIABLE_LABEL_BYTES = 255;

/** (type << 16) | (width << 8) | decimals, top byte 0 (B3). */
export function formatCode(type: number, width: number, decimals: number): number {
  return (type << 16) | (Math.min(width, 255) << 8) | decimals;
}

/** One variable record and its continuations: a whole short variable, or one VLS segment. */
export interface SavSegment {
  shortName: string;
  /** The record's `type` field: 0 numeric, else the segment's string width 1..255. */
  width: number;
  format: number;
  /** 8-byte slots the segment takes in a case. */
  slots: number;
  /** Index of its first slot in the case (0-based; the type-4 index is this + 1, B5). */
  firstSlot: number;
}

/** A column as an SPSS variable. */
export interface SavVariable {
  /** Index of the column in the table. */
  column: number;
  source: Variable;
  /** Long name (subtype 13), after renames. */
  name: string;
  type: VariableType;
  /** 0 for numeric; the declared string width in bytes otherwise. */
  width: number;
  format: number;
  segments: SavSegment[];
  firstSlot: number;
  slots: number;
  /** Variable label bytes (UTF-8, ≤ 255), or null. */
  label: Uint8Array | null;
  /** Subtype 11: 1 nominal, 3 scale; 0 left, 1 right. */
  measure: number;
  alignment: number;
}

export interface SavLayout {
  variables: SavVariable[];
  /** Slots per case (header `nominal_case_size`, B2). */
  nominal_case_size: number;
  renames: Rename[];
  warnings: string[];
}

/** B4: n = floor((w + 251) / 252) segments; all but the last are 255 wide. */
export function segmentWidths(width: number): number[] {
  if (width <= MAX_SEGMENT_WIDTH) return [width];
  const n = Math.floor((width + 251) / 252);
  const widths = new Array<number>(n).fill(MAX_SEGMENT_WIDTH);
  widths[n - 1] = width - 252 * (n - 1);
  return widths;
}

/** Slots a segment takes: a 255-wide one uses 32 (256 bytes, one spare byte, B4). */
export function segmentSlots(width: number): number {
  return Math.ceil(Math.max(width, 1) / 8);
}

const isText = (type: VariableType): boolean => type === 'string' || type === 'geography';

/** Decimal digits (with sign) of an integer, for F{w}.0. */
function digitsOf(value: bigint): number {
  return value.toString().length;
}

/** The numeric format of a column (DESIGN.md type table; widths from the first pass). */
function numericFormat(variable: Variable, table: Table): number {
  switch (variable.type) {
    case 'integer': {
      // F{w}.0, w from the column's range so SPSS shows every digit; no range (all null) → F8.0.
      const s = table.statistics?.[variable.name];
      const w = s?.min !== undefined && s.max !== undefined ? Math.max(digitsOf(s.min), digitsOf(s.max)) : 8;
      return formatCode(FORMAT_F, Math.min(Math.max(w, 1), 40), 0);
    }
    // Doubles: F8.2 as haven and pyreadstat write; it is only how SPSS shows a value, the full
    // double is stored.
    case 'float': return formatCode(FORMAT_F, 8, 2);
    case 'boolean': return formatCode(FORMAT_F, 1, 0);
    case 'date': return formatCode(FORMAT_DATE, 11, 0);
    // dd-mmm-yyyy hh:mm:ss.ffffff is 27 wide; hh:mm:ss.ffffff 15 (B9: DATETIME23.2 for hundredths).
    case 'dateTime': return formatCode(FORMAT_DATETIME, 27, 6);
    case 'time': return formatCode(FORMAT_TIME, 15, 6);
    default: throw new Error(`internal: ${variable.type} is not numeric`);
  }
}

/** The declared width of a string column: its largest value in UTF-8 bytes, at least 1 (B10). */
function stringWidth(variable: Variable, table: Table): number {
  const max = table.statistics?.[variable.name]?.maxByteLength;
  if (max === undefined) {
    throw new ExportError('SCHEMA_MISMATCH', 'the string width is unknown: give statistics.maxByteLength or let the pipeline run its first pass',
      { format: 'sav', column: variable.name });
  }
  if (max > MAX_STRING_WIDTH) {
    throw new ExportError('STRING_TOO_LONG', `a value is ${max} bytes long in UTF-8; SPSS strings hold at most ${MAX_STRING_WIDTH} bytes`,
      { format: 'sav', column: variable.name });
  }
  return Math.max(1, max);
}

/** The variables of a table, names assigned and slots laid out; throws before the first byte. */
export function planLayout(table: Table): SavLayout {
  const warnings: string[] = [];
  const widths = table.variables.map((v) => (isText(v.type) ? stringWidth(v, table) : 0));
  const { names, renames } = assignLongNames(table.variables.map((v) => v.name));
  const segmentSets = widths.map((w) => (w === 0 ? [0] : segmentWidths(w)));
  const short = assignShortNames(names, segmentSets.map((s) => s.length));
  let slot = 0;
  const variables = table.variables.map((source, column): SavVariable => {
    const width = widths[column];
    const format = width === 0 ? numericFormat(source, table) : formatCode(FORMAT_A, width, 0);
    const firstSlot = slot;
    const segments = segmentSets[column].map((w, k): SavSegment => {
      const segment: SavSegment = {
        shortName: k === 0 ? short.names[column] : short.segments[column][k - 1],
        width: w,
        format: w === 0 ? format : formatCode(FORMAT_A, w, 0),
        slots: w === 0 ? 1 : segmentSlots(w),
        firstSlot: slot,
      };
      slot += segment.slots;
      return segment;
    });
    const labelled = (source.valueLabels?.length ?? 0) > 0;
    return {
      column, source, name: names[column], type: source.type, width, format, segments, firstSlot,
      slots: slot - firstSlot,
      label: variableLabel(source, warnings),
      measure: width > 0 || labelled || source.type === 'boolean' ? 1 : 3,
      alignment: width > 0 ? 0 : 1,
    };
  });
  for (const v of variables) {
    const s = table.statistics?.[v.source.name];
    if (v.type === 'integer' && s && ((s.max ?? 0n) > 2n ** 53n || (s.min ?? 0n) < -(2n ** 53n))) {
      warnings.push(`sav, column "${v.source.name}": integers beyond ±2^53 are stored as the nearest double (SPSS numbers are doubles); they lose their last digits`);
    }
  }
  return { variables, nominal_case_size: slot, renames, warnings };
}

function variableLabel(variable: Variable, warnings: string[]): Uint8Array | null {
  if (!variable.label) return null;
  const bytes = encodeText(variable.label);
  const cut = cutUtf8(bytes, MAX_VARIABLE_LABEL_BYTES);
  if (cut.length < bytes.length) {
    warnings.push(`sav, column "${variable.name}": the variable label was cut to ${cut.length} bytes (SPSS allows ${MAX_VARIABLE_LABEL_BYTES})`);
  }
  return cut;
}
