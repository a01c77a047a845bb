import type { Rename } from '../protocol.js';

/**
 * Avro names (spec 1.11, "Names"): record and field names match [A-Za-z_][A-Za-z0-9_]*, and a
 * named type may not take a primitive type's name. Names that break these rules are renamed
 * deterministically, in a way a reader of the original can follow:
 * - accents and compatibility forms are folded (NFKD, marks dropped: "café" → "cafe", "ﬁ" → "fi");
 * - every other character outside A-Z a-z 0-9 _ becomes `_` (one per code point: "中文" → "__");
 * - a leading digit gets a `_` prefix ("2024 total" → "_2024_total");
 * - a name already taken gets the first free suffix `_2`, `_3`, … Valid names are never
 *   changed, so a renamed column can never take the name of a column that needed no rename.
 */

const VALID = /^[A-Za-z_][A-Za-z0-9_]*$/;
const PRIMITIVE_TYPES = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string']);

export interface AvroName {
  name: string;
  /** Why the name differs from the original; empty when it is unchanged. */
  reasons: string[];
}

export function isValidAvroName(name: string): boolean {
  return VALID.test(name);
}

/** The nearest valid Avro name to `original` (before collisions are resolved). */
export function makeAvroName(original: string): AvroName {
  if (VALID.test(original)) return { name: original, reasons: [] };
  const reasons: string[] = [];
  let name = original.normalize('NFKD').replace(/\p{M}/gu, '');
  if (/[^A-Za-z0-9_]/u.test(name)) {
    name = name.replace(/[^A-Za-z0-9_]/gu, '_');
    reasons.push('Avro names allow only A-Z, a-z, 0-9 and _ (other characters become _)');
  } else if (name !== original) {
    reasons.push('Avro names allow only A-Z, a-z, 0-9 and _ (accents were dropped)');
  }
  if (name === '') name = '_';
  if (/^[0-9]/.test(name)) {
    name = `_${name}`;
    reasons.push('an Avro name cannot start with a digit (prefixed with _)');
  }
  return { name, reasons };
}

/** The record's name: a valid Avro name that is not a primitive type's name. */
export function nameRecord(tableName: string): AvroName {
  const fixed = makeAvroName(tableName);
  if (!PRIMITIVE_TYPES.has(fixed.name)) return fixed;
  return { name: `_${fixed.name}`, reasons: [...fixed.reasons, `"${fixed.name}" is an Avro primitive type name (prefixed with _)`] };
}

export interface FieldNames {
  /** The Avro name of each column, in table order. */
  names: string[];
  renames: Rename[];
}

/** Valid, unique Avro field names for the columns, and a Rename for every one that changed. */
export function nameFields(columns: readonly string[]): FieldNames {
  const taken = new Set(columns.filter(isValidAvroName));
  const renames: Rename[] = [];
  const names = columns.map((original) => {
    if (isValidAvroName(original)) return original;
    const { name, reasons } = makeAvroName(original);
    let unique = name;
    for (let k = 2; taken.has(unique); k++) unique = `${name}_${k}`;
    if (unique !== name) reasons.push(`"${name}" is the name of another column (suffixed)`);
    taken.add(unique);
    renames.push({ from: original, to: unique, reason: reasons.join('; ') });
    return unique;
  });
  return { names, renames };
}
