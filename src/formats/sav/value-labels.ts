/**
 * Value labels (fact sheet B5, B6 subtype 21, C9): numeric variables and strings of at most
 * 8 bytes in type 3/4 record pairs; wider strings in subtype 21, keyed by long name and
 * declared width. The platform gives every value as a string; it is parsed per column type.
 */
import { ExportError } from '../../errors.js';
import type { VariableType } from '../../table/types.js';
import type { SavVariable } from './layout.js';
import { RecordWriter, cutUtf8, encodeText } from './record-writer.js';

/** B5/B10: value labels ≤ 120 bytes (the documented SPSS limit). */
export const MAX_VALUE_LABEL_BYTES = 120;
/** B5: values of 3/4 labels are 8 bytes; wider strings go to subtype 21. */
const SHORT_STRING_MAX = 8;
/** B9: seconds from 1582-10-14 to 1970-01-01. */
export const SPSS_EPOCH_OFFSET_SECONDS = 12_219_379_200;

export interface LabelEntry<Key> {
  value: Key;
  label: Uint8Array;
}

/** Labels of one variable; `value` is a double for numerics, the space-padded key for strings. */
export type LabelSet =
  | { kind: 'numeric'; variable: SavVariable; entries: LabelEntry<number>[] }
  | { kind: 'string'; variable: SavVariable; entries: LabelEntry<Uint8Array>[] };

export interface ValueLabelPlan {
  /** Written as type 3/4 pairs, one per variable. */
  records: LabelSet[];
  /** Written in subtype 21 (strings wider than 8 bytes). */
  longStrings: LabelSet[];
}

const decoder = new TextDecoder();
const DATE_RE = /^(-?\d{1,6})-(\d{2})-(\d{2})$/;
const TIME_RE = /^(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$/;

/** Days since 1970-01-01 of a proleptic Gregorian date. */
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  return era * 146097 + yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy - 719468;
}

function parseTimeSeconds(text: string): number | null {
  const m = TIME_RE.exec(text);
  if (!m) return null;
  return Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) + Number(`0.${m[4] ?? '0'}`);
}

/** The SPSS number a label's value text stands for, in the column's encoding (B9), or null. */
export function parseLabelValue(type: VariableType, text: string): number | null {
  const t = text.trim();
  switch (type) {
    case 'boolean':
      if (t === 'true') return 1;
      if (t === 'false') return 0;
      break;
    case 'date': {
      const m = DATE_RE.exec(t);
      return m ? (daysFromCivil(Number(m[1]), Number(m[2]), Number(m[3])) * 86400) + SPSS_EPOCH_OFFSET_SECONDS : null;
    }
    case 'dateTime': {
      const [date, time] = t.split(/[T ]/);
      const m = DATE_RE.exec(date ?? '');
      const seconds = parseTimeSeconds(time ?? '');
      if (!m || seconds === null) return null;
      return daysFromCivil(Number(m[1]), Number(m[2]), Number(m[3])) * 86400 + SPSS_EPOCH_OFFSET_SECONDS + seconds;
    }
    case 'time': return parseTimeSeconds(t);
    default: break;
  }
  if (t === '') return null;
  const x = Number(t);
  return Number.isFinite(x) ? x : null;
}

function labelBytes(v: SavVariable, label: string, warnings: string[]): Uint8Array {
  const full = encodeText(label);
  const cut = cutUtf8(full, MAX_VALUE_LABEL_BYTES);
  if (cut.length < full.length) {
    warnings.push(`sav, column "${v.source.name}": value label "${label}" was cut to ${cut.length} bytes (SPSS allows ${MAX_VALUE_LABEL_BYTES})`);
  }
  return cut;
}

/** Space-padded key of a string label, or null when it is longer than the variable (C9). */
function stringKey(v: SavVariable, text: string, warnings: string[]): Uint8Array | null {
  const bytes = encodeText(text);
  if (bytes.length > v.width) {
    // C9: a key wider than the variable made files unreadable (pyreadstat #164); no cell can equal it.
    warnings.push(`sav, column "${v.source.name}": value label for "${text}" dropped: ${bytes.length} bytes is wider than the column (${v.width})`);
    return null;
  }
  const size = v.width <= SHORT_STRING_MAX ? SHORT_STRING_MAX : v.width;
  const key = new Uint8Array(size).fill(0x20);
  key.set(bytes);
  return key;
}

/** Checks and converts every variable's value labels; throws for a value its column cannot hold. */
export function planValueLabels(variables: readonly SavVariable[], warnings: string[]): ValueLabelPlan {
  const plan: ValueLabelPlan = { records: [], longStrings: [] };
  for (const v of variables) {
    const given = v.source.valueLabels ?? [];
    if (given.length === 0) continue;
    const seen = new Set<string>();
    const duplicate = (key: string, value: string): boolean => {
      if (!seen.has(key)) {
        seen.add(key);
        return false;
      }
      warnings.push(`sav, column "${v.source.name}": a second label for value "${value}" was dropped`);
      return true;
    };
    if (v.width === 0) {
      const entries: LabelEntry<number>[] = [];
      for (const { value, label } of given) {
        const x = parseLabelValue(v.type, value);
        if (x === null) {
          throw new ExportError('SCHEMA_MISMATCH', `value label key "${value}" is not a valid ${v.type} value; SPSS labels values of a numeric column by number`,
            { format: 'sav', column: v.source.name });
        }
        if (!duplicate(String(x), value)) entries.push({ value: x, label: labelBytes(v, label, warnings) });
      }
      plan.records.push({ kind: 'numeric', variable: v, entries });
      continue;
    }
    const entries: LabelEntry<Uint8Array>[] = [];
    for (const { value, label } of given) {
      const key = stringKey(v, value, warnings);
      if (key !== null && !duplicate(decoder.decode(key), value)) entries.push({ value: key, label: labelBytes(v, label, warnings) });
    }
    if (entries.length === 0) continue;
    (v.width <= SHORT_STRING_MAX ? plan.records : plan.longStrings).push({ kind: 'string', variable: v, entries });
  }
  return plan;
}

/** Type 3 then type 4, one pair per variable (B5: 4 must follow 3 immediately). */
export function writeValueLabelRecords(out: RecordWriter, sets: readonly LabelSet[]): void {
  for (const set of sets) {
    out.writeInt32(3);
    out.writeInt32(set.entries.length);
    for (const entry of set.entries) {
      if (set.kind === 'numeric') out.writeFloat64(entry.value as number);
      else out.writeBytes(entry.value as Uint8Array);
      out.writeUint8(entry.label.length);
      out.writeBytes(entry.label);
      // B5: 1 + len + padding is a multiple of 8, counted from the length byte.
      out.writePadded(new Uint8Array(0), (8 - ((1 + entry.label.length) % 8)) % 8, 0x20);
    }
    out.writeInt32(4);
    out.writeInt32(1);
    out.writeInt32(set.variable.firstSlot + 1); // B5: 1-based slot index of the variable
  }
}

/** The payload of subtype 21 (B6): per variable name, declared width, labels; no padding. */
export function writeLongStringLabels(out: RecordWriter, sets: readonly LabelSet[]): void {
  for (const set of sets) {
    const name = encodeText(set.variable.name);
    out.writeInt32(name.length);
    out.writeBytes(name);
    out.writeInt32(set.variable.width);
    out.writeInt32(set.entries.length);
    for (const entry of set.entries) {
      const key = entry.value as Uint8Array;
      out.writeInt32(key.length);
      out.writeBytes(key);
      out.writeInt32(entry.label.length);
      out.writeBytes(entry.label);
    }
  }
}
