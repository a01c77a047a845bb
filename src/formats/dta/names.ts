import type { Rename } from '../protocol.js';
import { NAME_MAX_CHARS, isReservedName } from './spec.js';

/**
 * Stata variable names (facts A10): 1–32 characters of `[A-Za-z_][A-Za-z0-9_]*`, not a reserved
 * word (including `str<digits>`), unique (case-sensitive). 118 would accept Unicode letters, but
 * the facts sheet advises ASCII for portability, and so does this writer.
 *
 * Renames are deterministic and depend only on the list of names:
 *  1. accents are dropped (NFKD, combining marks removed: "café" → "cafe"); every other character
 *     outside [A-Za-z0-9_] becomes "_" (as Stata's own strtoname() does);
 *  2. a name that would start with a digit gets a "_" prefix (strtoname() again); a name with no
 *     ASCII letter or digit left becomes "v<position>" (1-based), which says more than "___";
 *  3. a reserved word gets a "_" suffix ("int" → "int_", "_n" → "_n_", "str80" → "str80_");
 *  4. the result is cut to 32 characters;
 *  5. a name already taken gets "_2", "_3", ... (cutting the stem so the whole stays ≤ 32).
 * Names that are valid as given are claimed first, so a renamed column never takes a name away
 * from a column that did not need renaming.
 */
export interface NameAssignment {
  names: string[];
  renames: Rename[];
}

const VALID_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** True when Stata accepts `name` as it is. */
export function isValidStataName(name: string): boolean {
  return name.length <= NAME_MAX_CHARS && VALID_NAME.test(name) && !isReservedName(name);
}

/** Stata names for `names` (in column order), and the renames to report. */
export function assignStataNames(names: readonly string[]): NameAssignment {
  const taken = new Set<string>();
  const result: (string | null)[] = names.map((name) => {
    if (!isValidStataName(name) || taken.has(name)) return null;
    taken.add(name);
    return name;
  });
  const renames: Rename[] = [];
  names.forEach((original, i) => {
    if (result[i] !== null) return;
    const { candidate, reasons } = cleanName(original, i);
    let name = candidate;
    if (taken.has(name)) {
      reasons.push(`"${candidate}" is the Stata name of another column`);
      name = uniqueName(candidate, taken);
    }
    taken.add(name);
    result[i] = name;
    renames.push({ from: original, to: name, reason: reasons.join('; ') });
  });
  return { names: result as string[], renames };
}

/** Steps 1–4: a valid, not necessarily unique, name and why it differs from the original. */
function cleanName(original: string, index: number): { candidate: string; reasons: string[] } {
  const reasons: string[] = [];
  const stripped = original.normalize('NFKD').replace(/\p{M}/gu, '');
  let name = stripped.replace(/[^A-Za-z0-9_]/gu, '_');
  if (name !== original) reasons.push('Stata names use only the letters A-Z and a-z, digits and "_"');
  if (!/[A-Za-z0-9]/.test(name)) {
    name = `v${index + 1}`;
  } else if (/^[0-9]/.test(name)) {
    name = `_${name}`;
    reasons.push('Stata names cannot start with a digit');
  }
  if (isReservedName(name)) {
    name = `${name}_`;
    reasons.push(`"${original}" is a reserved word in Stata`);
  }
  if (name.length > NAME_MAX_CHARS) {
    name = name.slice(0, NAME_MAX_CHARS);
    reasons.push(`Stata names have at most ${NAME_MAX_CHARS} characters`);
  }
  // A 32-character cut can leave "str123..." digits only, which is reserved again.
  if (isReservedName(name)) name = `${name.slice(0, NAME_MAX_CHARS - 1)}_`;
  return { candidate: name, reasons };
}

/** Step 5: the first `<stem>_<n>` (n = 2, 3, ...) that is free, at most 32 characters. */
function uniqueName(candidate: string, taken: ReadonlySet<string>): string {
  for (let n = 2; ; n++) {
    const suffix = `_${n}`;
    const name = `${candidate.slice(0, NAME_MAX_CHARS - suffix.length)}${suffix}`;
    if (!taken.has(name) && !isReservedName(name)) return name;
  }
}
