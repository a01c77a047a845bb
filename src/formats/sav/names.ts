/**
 * Variable names for a system file (fact sheet B3, B4, B10, C8, C12): a long name per
 * variable (subtype 13) and an 8-byte short name per variable record, with extra short names
 * for the segments of very long strings. Every rename is deterministic and reported.
 */
import type { Rename } from '../protocol.js';
import { cutUtf8, encodeText } from './record-writer.js';

/** B10: the words SPSS reserves; no name (long or short) may be one of them, in any case. */
export const RESERVED_WORDS: ReadonlySet<string> = new Set(['ALL', 'AND', 'BY', 'EQ', 'GE', 'GT', 'LE', 'LT', 'NE', 'NOT', 'OR', 'TO', 'WITH']);

/** B10: long names are at most 64 bytes (UTF-8 here). */
export const MAX_LONG_NAME_BYTES = 64;
/** B3: short names are at most 8 bytes. */
export const MAX_SHORT_NAME_BYTES = 8;

const FIRST_CHAR = /^[\p{L}@]$/u;
const LATER_CHAR = /^[\p{L}\p{M}\p{Nd}._$#@]$/u;
const decoder = new TextDecoder();

/** Names compare ignoring case (B10, C12: "Age" and "AGE" clash). */
export function nameKey(name: string): string {
  return name.toUpperCase();
}

/** Why `name` is not a valid long name as it is, or null when it is. */
export function longNameProblem(name: string): string | null {
  const chars = [...name];
  if (chars.length === 0) return 'empty';
  if (!FIRST_CHAR.test(chars[0])) return 'must start with a letter or @';
  if (chars.some((c, i) => i > 0 && !LATER_CHAR.test(c))) return 'only letters, digits and . _ $ # @ are allowed';
  if (name.endsWith('.')) return 'must not end with a period';
  if (RESERVED_WORDS.has(nameKey(name))) return 'is a reserved word in SPSS';
  if (encodeText(name).length > MAX_LONG_NAME_BYTES) return `longer than ${MAX_LONG_NAME_BYTES} bytes`;
  return null;
}

/** A valid long name made from `name`: bad characters become `_`, then prefix, suffix, cut. */
function sanitizeLongName(name: string): string {
  let chars = [...name].map((c) => (LATER_CHAR.test(c) ? c : '_'));
  if (chars.length === 0 || !FIRST_CHAR.test(chars[0])) chars = ['v', ...chars];
  let text = fitLongName(chars.join(''), '');
  if (RESERVED_WORDS.has(nameKey(text))) text = `${text}_`;
  return text;
}

/** `base` cut so that base + suffix fits in 64 bytes, never ending in a period. */
function fitLongName(base: string, suffix: string): string {
  const room = MAX_LONG_NAME_BYTES - encodeText(suffix).length;
  const cut = decoder.decode(cutUtf8(encodeText(base), room));
  return `${cut.replace(/\.+$/, (dots) => '_'.repeat(dots.length))}${suffix}`;
}

export interface LongNames {
  names: string[];
  renames: Rename[];
}

/**
 * The long name of each column. Names valid as they are keep them, the first of a case-
 * insensitive clash winning; then, in column order, invalid names are sanitized and clashing
 * ones get `_2`, `_3`, ... (cut to fit 64 bytes).
 */
export function assignLongNames(columns: readonly string[]): LongNames {
  const names: (string | null)[] = columns.map(() => null);
  const reasons: string[] = columns.map(() => '');
  const taken = new Map<string, string>();
  columns.forEach((name, i) => {
    const problem = longNameProblem(name);
    if (problem !== null) {
      reasons[i] = problem;
      return;
    }
    const clash = taken.get(nameKey(name));
    if (clash !== undefined) {
      reasons[i] = `same name as "${clash}" ignoring case (SPSS names are case-insensitive)`;
      return;
    }
    taken.set(nameKey(name), name);
    names[i] = name;
  });
  const renames: Rename[] = [];
  columns.forEach((name, i) => {
    if (names[i] !== null) return;
    const base = sanitizeLongName(name);
    let candidate = base;
    for (let n = 2; taken.has(nameKey(candidate)); n++) candidate = fitLongName(base, `_${n}`);
    taken.set(nameKey(candidate), candidate);
    names[i] = candidate;
    renames.push({ from: name, to: candidate, reason: `SPSS variable name ${reasons[i]}` });
  });
  return { names: names as string[], renames };
}

/** The short name a long name suggests: ASCII, uppercase, ≤ 8 bytes, starting A-Z or @. */
function shortCandidate(longName: string): string {
  let text = '';
  for (const c of longName.toUpperCase()) {
    if (/^[A-Z0-9@#$_.]$/.test(c)) text += c;
  }
  if (!/^[A-Z@]/.test(text)) text = `V${text}`;
  return text.slice(0, MAX_SHORT_NAME_BYTES).replace(/\.+$/, '');
}

/** PSPP's collision scheme (short-names.c): BASE_A, BASE_B, ... BASE_Z, BASE_AA, cut to fit. */
function suffixedShortName(base: string, trial: number): string {
  let letters = '';
  for (let n = trial; n > 0; n = Math.floor((n - 1) / 26)) letters = String.fromCharCode(65 + ((n - 1) % 26)) + letters;
  const suffix = `_${letters}`;
  return base.slice(0, MAX_SHORT_NAME_BYTES - suffix.length) + suffix;
}

/** Base-36 digits (0-9A-Z) of n, for segment suffixes. */
function base36(n: number): string {
  return n.toString(36).toUpperCase();
}

export interface ShortNames {
  /** Per variable, the short name of its first (or only) variable record. */
  names: string[];
  /** Per variable, the short names of its very-long-string segments after the first. */
  segments: string[][];
}

/**
 * Short names, unique ignoring case and never reserved (B3). A long name that is itself a
 * valid short name claims it first (as PSPP does), so `id` stays `ID`; the rest are cut from
 * their long names, with _A, _B ... on a clash. Segments of a very long string are named
 * after the first 5 bytes of their variable's short name plus a base-36 counter, which SPSS
 * needs to rejoin them (B4, C8), skipping any name already taken.
 */
export function assignShortNames(longNames: readonly string[], segmentCounts: readonly number[]): ShortNames {
  const taken = new Set<string>(RESERVED_WORDS);
  const names: (string | null)[] = longNames.map(() => null);
  longNames.forEach((long, i) => {
    const key = nameKey(long);
    if (key === shortCandidate(long) && !taken.has(key)) {
      taken.add(key);
      names[i] = key;
    }
  });
  longNames.forEach((long, i) => {
    if (names[i] !== null) return;
    const base = shortCandidate(long);
    let candidate = base;
    for (let trial = 1; taken.has(candidate); trial++) candidate = suffixedShortName(base, trial);
    taken.add(candidate);
    names[i] = candidate;
  });
  const segments = longNames.map((_, i) => {
    const stem = (names[i] as string).slice(0, 5);
    const out: string[] = [];
    let counter = 0;
    for (let k = 1; k < segmentCounts[i]; k++) {
      let candidate = stem + base36(counter++);
      while (taken.has(candidate)) candidate = stem + base36(counter++);
      taken.add(candidate);
      out.push(candidate);
    }
    return out;
  });
  return { names: names as string[], segments };
}
