import { ExportError } from '../errors.js';
import type { Table } from './types.js';
import { VARIABLE_TYPES } from './types.js';

/**
 * Checks every format relies on, before the first byte: a name, a known type, and no empty or
 * duplicate column names (csv, jsonl and parquet keep names exactly, so these cannot be renamed
 * away). Format-specific rules (length, reserved words, case) live in each format's folder.
 */
export function validateTable(table: Table, format: string): void {
  if (!table.name || table.name.trim() === '') {
    throw new ExportError('INVALID_NAME', 'the table has no name', { format });
  }
  const seen = new Set<string>();
  table.variables.forEach((v, i) => {
    if (typeof v.name !== 'string' || v.name === '') {
      throw new ExportError('INVALID_NAME', `column ${i + 1} has an empty name; every column needs a unique, non-empty name`, { format });
    }
    if (seen.has(v.name)) {
      throw new ExportError('DUPLICATE_NAME', 'the name is used by two columns; every column needs a unique name', { format, column: v.name });
    }
    seen.add(v.name);
    if (!(VARIABLE_TYPES as readonly string[]).includes(v.type)) {
      throw new ExportError('UNSUPPORTED_TYPE', `type "${String(v.type)}" is not one of ${VARIABLE_TYPES.join(', ')}`, { format, column: v.name });
    }
  });
  if (table.variables.length === 0) {
    throw new ExportError('SCHEMA_MISMATCH', 'the table has no columns', { format });
  }
}

/** Characters that are unsafe in file names on common systems become "_" (in file names only). */
export function safeFileName(name: string): string {
  // eslint-disable-next-line no-control-regex
  const cleaned = name.replace(/[\u0000-\u001f\u007f/\\:*?"<>|]/g, '_').replace(/^\.+/, '_');
  return cleaned === '' ? 'table' : cleaned;
}
