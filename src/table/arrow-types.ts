import {
  Bool, DataType, DateDay, Field, Float64, Int64, Schema, TimeMicrosecond, TimestampMicrosecond, Type, Utf8,
} from 'apache-arrow';
import { ExportError } from '../errors.js';
import type { Table, ValueLabel, Variable, VariableType } from './types.js';
import { VARIABLE_TYPES } from './types.js';

/** Field-metadata keys that carry a variable's platform metadata through Arrow files. */
export const META = { type: 'type', label: 'label', description: 'description', valueLabels: 'valueLabels' } as const;

/**
 * The platform type an Arrow type stands for, or null when its meaning is not clear.
 * Accepted beyond the canonical types (issue #2): int8–int64 and uint8–uint32, float32,
 * date64, timestamps of any unit and zone, time32/time64 of any unit, large_utf8 and
 * dictionary-encoded strings.
 */
export function variableTypeOfArrow(type: DataType): VariableType | null {
  switch (type.typeId) {
    case Type.Int: {
      const t = type as unknown as { bitWidth: number; isSigned: boolean };
      return t.isSigned || t.bitWidth < 64 ? 'integer' : null;
    }
    case Type.Float: {
      const precision = (type as unknown as { precision: number }).precision;
      return precision >= 1 ? 'float' : null; // HALF (0) has no clear use here
    }
    case Type.Bool: return 'boolean';
    case Type.Date: return 'date';
    case Type.Timestamp: return 'dateTime';
    case Type.Time: return 'time';
    case Type.Utf8:
    case Type.LargeUtf8: return 'string';
    case Type.Dictionary: {
      const value = (type as unknown as { dictionary: DataType }).dictionary;
      return value.typeId === Type.Utf8 || value.typeId === Type.LargeUtf8 ? 'string' : null;
    }
    default: return null;
  }
}

/** The canonical Arrow type of each platform type (spec/export-resource.md). */
export function arrowTypeOf(type: VariableType): DataType {
  switch (type) {
    case 'integer': return new Int64();
    case 'float': return new Float64();
    case 'boolean': return new Bool();
    case 'date': return new DateDay();
    case 'dateTime': return new TimestampMicrosecond();
    case 'time': return new TimeMicrosecond();
    case 'string':
    case 'geography': return new Utf8();
  }
}

function parseValueLabels(text: string, column: string): ValueLabel[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ExportError('SCHEMA_MISMATCH', 'field metadata "valueLabels" is not JSON', { column });
  }
  if (!Array.isArray(parsed)) throw new ExportError('SCHEMA_MISMATCH', 'field metadata "valueLabels" must be a JSON array', { column });
  return parsed.map((entry: unknown) => {
    const e = entry as { value?: unknown; label?: unknown };
    if (e === null || typeof e !== 'object' || e.label === undefined || e.value === undefined) {
      throw new ExportError('SCHEMA_MISMATCH', 'each valueLabels entry needs "value" and "label"', { column });
    }
    return { value: String(e.value), label: String(e.label) };
  });
}

/** A variable from an Arrow field; its metadata may refine the type (geography) and carry labels. */
export function variableFromField(field: Field): Variable {
  const base = variableTypeOfArrow(field.type);
  if (base === null) {
    throw new ExportError('UNSUPPORTED_TYPE', `Arrow type ${String(field.type)} has no platform type; ` +
      'use int8–int64, uint8–uint32, float32/64, bool, date32/64, timestamp, time32/64, utf8 or large_utf8', { column: field.name });
  }
  const meta = field.metadata;
  let type: VariableType = base;
  const declared = meta.get(META.type);
  if (declared !== undefined) {
    if (!(VARIABLE_TYPES as readonly string[]).includes(declared)) {
      throw new ExportError('UNSUPPORTED_TYPE', `field metadata type "${declared}" is not a platform type`, { column: field.name });
    }
    // Only refinements that keep the physical type are honoured (string ↔ geography).
    const physical = declared === 'geography' ? 'string' : declared;
    if (physical !== base) {
      throw new ExportError('SCHEMA_MISMATCH', `field metadata says ${declared} but the Arrow type is ${String(field.type)}`, { column: field.name });
    }
    type = declared as VariableType;
  }
  const variable: Variable = { name: field.name, type };
  const label = meta.get(META.label);
  if (label) variable.label = label;
  const description = meta.get(META.description);
  if (description) variable.description = description;
  const labels = meta.get(META.valueLabels);
  if (labels) variable.valueLabels = parseValueLabels(labels, field.name);
  return variable;
}

/** A table definition derived from an Arrow schema. */
export function tableFromSchema(schema: Schema, name: string, numRows?: number | null): Table {
  const table: Table = { name, variables: schema.fields.map(variableFromField) };
  const description = schema.metadata.get(META.description);
  if (description) table.description = description;
  if (numRows !== undefined && numRows !== null) table.numRows = numRows;
  return table;
}

/** The canonical Arrow schema of a table, variable metadata in field metadata. */
export function schemaOfTable(table: Table): Schema {
  const fields = table.variables.map((v) => {
    const meta = new Map<string, string>();
    if (v.type === 'geography') meta.set(META.type, v.type);
    if (v.label) meta.set(META.label, v.label);
    if (v.description) meta.set(META.description, v.description);
    if (v.valueLabels?.length) meta.set(META.valueLabels, JSON.stringify(v.valueLabels));
    return new Field(v.name, arrowTypeOf(v.type), true, meta);
  });
  const meta = new Map<string, string>();
  if (table.description) meta.set(META.description, table.description);
  return new Schema(fields, meta);
}
