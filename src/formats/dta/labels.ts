import type { Variable } from '../../table/types.js';
import { encodeUtf8, type SectionWriter } from './section-writer.js';
import { NAME_SLOT, VALUE_LABEL_MAX_BYTES, VALUE_LABEL_MAX_ENTRIES } from './spec.js';

/**
 * Labels: variable and dataset labels (≤ 80 characters, facts A2/A4) and value-label sets
 * (facts A7: int32 keys only, strictly ascending, each label ≤ 32,000 bytes, ≤ 65,536 per set).
 */

/** `text` cut to `max` characters (code points, never half a surrogate pair), or as is. */
export function truncateChars(text: string, max: number): string {
  if (text.length <= max) return text; // UTF-16 units ≥ code points
  const points = Array.from(text);
  return points.length <= max ? text : points.slice(0, max).join('');
}

/** UTF-8 bytes of `text`, cut to at most `maxBytes` on a character boundary. */
export function truncateUtf8(text: string, maxBytes: number): Uint8Array {
  const bytes = encodeUtf8(text);
  if (bytes.length <= maxBytes) return bytes;
  let end = maxBytes;
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--; // back to a lead byte
  return bytes.subarray(0, end);
}

/** One value-label set, named after its (renamed) column as Stata does (facts C5). */
export interface ValueLabelSet {
  name: string;
  /** Keys, strictly ascending. */
  values: Int32Array;
  /** UTF-8 label of each key, without the NUL. */
  texts: Uint8Array[];
}

const INT32_MIN = -2147483648n;
const INT32_MAX = 2147483647n;

/** The int32 a value-label key stands for ("7", "-3", "7.0"), or null. */
function parseKey(value: string): number | null {
  const m = /^\s*([+-]?\d+)(?:\.0*)?\s*$/.exec(value);
  if (!m) return null;
  const key = BigInt(m[1]);
  return key >= INT32_MIN && key <= INT32_MAX ? Number(key) : null;
}

/**
 * The value-label set of an integer column, or null when it has none. Keys that are not whole
 * numbers within int32 are skipped with a warning (Stata cannot label them; the other labels
 * are still worth keeping), as are repeated keys (the first wins).
 */
export function collectValueLabels(variable: Variable, stataName: string, warnings: string[]): ValueLabelSet | null {
  const labels = variable.valueLabels ?? [];
  if (labels.length === 0) return null;
  const where = `column "${variable.name}"`;
  if (variable.type !== 'integer') {
    warnings.push(`${where}: value labels dropped: Stata attaches value labels to integer columns only, and this column is ${variable.type}`);
    return null;
  }
  const byKey = new Map<number, string>();
  const invalid: string[] = [];
  let repeated = 0;
  for (const { value, label } of labels) {
    const key = parseKey(value);
    if (key === null) invalid.push(value);
    else if (byKey.has(key)) repeated++;
    else byKey.set(key, label);
  }
  if (invalid.length > 0) {
    const shown = invalid.slice(0, 3).map((v) => JSON.stringify(v)).join(', ');
    warnings.push(`${where}: ${invalid.length} value label(s) skipped (${shown}${invalid.length > 3 ? ', ...' : ''}): `
      + 'Stata labels only whole numbers from -2147483648 to 2147483647');
  }
  if (repeated > 0) warnings.push(`${where}: ${repeated} value label(s) repeat a value already labelled; the first label of each value is kept`);
  let keys = [...byKey.keys()].sort((a, b) => a - b);
  if (keys.length > VALUE_LABEL_MAX_ENTRIES) {
    warnings.push(`${where}: ${keys.length} value labels, but a Stata label set holds at most ${VALUE_LABEL_MAX_ENTRIES}; the smallest values are kept`);
    keys = keys.slice(0, VALUE_LABEL_MAX_ENTRIES);
  }
  if (keys.length === 0) return null;
  let cut = 0;
  const texts = keys.map((k) => {
    const text = byKey.get(k) as string;
    const bytes = truncateUtf8(text, VALUE_LABEL_MAX_BYTES);
    if (bytes.length < encodeUtf8(text).length) cut++;
    return bytes;
  });
  if (cut > 0) warnings.push(`${where}: ${cut} value label(s) longer than ${VALUE_LABEL_MAX_BYTES} bytes were cut on a character boundary`);
  return { name: stataName, values: Int32Array.from(keys), texts };
}

/**
 * The `<value_labels>` section (facts A7): per set `<lbl>` i32 len, name[129], 3 padding bytes,
 * i32 n, i32 txtlen, i32 off[n], i32 val[n], txt (NUL-terminated labels), `</lbl>`;
 * len = 8 + 8n + txtlen.
 */
export function writeValueLabels(w: SectionWriter, sets: readonly ValueLabelSet[]): void {
  w.ascii('<value_labels>');
  for (const set of sets) {
    const n = set.values.length;
    const txtlen = set.texts.reduce((sum, t) => sum + t.length + 1, 0);
    w.ascii('<lbl>');
    w.i32(8 + 8 * n + txtlen);
    w.slot(encodeUtf8(set.name), NAME_SLOT);
    w.zeros(3);
    w.i32(n);
    w.i32(txtlen);
    let off = 0;
    for (const t of set.texts) {
      w.i32(off);
      off += t.length + 1;
    }
    for (const v of set.values) w.i32(v);
    for (const t of set.texts) {
      w.raw(t);
      w.u8(0);
    }
    w.ascii('</lbl>');
  }
  w.ascii('</value_labels>');
}
