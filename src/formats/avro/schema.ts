import type avscModule from 'avsc';
import { lazyRequire } from '../../lazy-require.js';
import { ExportError } from '../../errors.js';
import type { Table, Variable, VariableType } from '../../table/types.js';
import type { Rename } from '../protocol.js';
import { nameFields, nameRecord } from './names.js';

/**
 * The record schema of a table (DESIGN.md type table, avro column): one field per column, every
 * field `["null", T]` with default null, as the table does not say which columns hold nulls and
 * every part of a split export must carry the same schema. The variable label is the field's
 * `doc`; what Avro has no place for (original name, description, value labels, geography) goes
 * in attributes under TABULAR_EXPORT_ATTRIBUTE, which the spec allows as metadata and readers ignore.
 */

export type AvroPrimitive = 'long' | 'double' | 'boolean' | 'string';
export interface AvroLogical {
  type: 'int' | 'long';
  logicalType: 'date' | 'local-timestamp-micros' | 'time-micros';
}
export type AvroValueType = AvroPrimitive | AvroLogical;

export interface AvroField {
  name: string;
  type: ['null', AvroValueType];
  default: null;
  doc?: string;
  [attribute: `tabular_export.${string}`]: unknown;
}

export interface AvroRecordSchema {
  type: 'record';
  name: string;
  namespace?: string;
  doc?: string;
  fields: AvroField[];
  [attribute: `tabular_export.${string}`]: unknown;
}

export interface BuiltSchema {
  schema: AvroRecordSchema;
  /** The schema as stored in the file header's `avro.schema`. */
  json: string;
  renames: Rename[];
}

export const ORIGINAL_NAME = 'tabular_export.original_name';
export const DESCRIPTION = 'tabular_export.description';
export const VALUE_LABELS = 'tabular_export.value_labels';
export const PLATFORM_TYPE = 'tabular_export.type';

/** The Avro type of each platform type (DESIGN.md). */
export function avroTypeOf(type: VariableType): AvroValueType {
  switch (type) {
    case 'integer': return 'long';
    case 'float': return 'double';
    case 'boolean': return 'boolean';
    case 'date': return { type: 'int', logicalType: 'date' };
    case 'dateTime': return { type: 'long', logicalType: 'local-timestamp-micros' };
    case 'time': return { type: 'long', logicalType: 'time-micros' };
    case 'string':
    case 'geography': return 'string';
  }
}

/** Builds the schema, reports every renamed name, and has avsc check it (cheap insurance). */
export function buildAvroSchema(table: Table, namespace: string | null): BuiltSchema {
  const record = nameRecord(table.name);
  const { names, renames } = nameFields(table.variables.map((v) => v.name));
  const schema: AvroRecordSchema = {
    type: 'record',
    name: record.name,
    ...(namespace ? { namespace } : {}),
    ...(table.description ? { doc: table.description } : {}),
    fields: table.variables.map((v, i) => describeField(v, names[i])),
  };
  if (record.name !== table.name) {
    schema[ORIGINAL_NAME] = table.name;
    renames.unshift({ from: table.name, to: record.name, reason: `table name (the record's name): ${record.reasons.join('; ')}` });
  }
  checkWithAvsc(schema);
  return { schema, json: JSON.stringify(schema), renames };
}

function describeField(v: Variable, name: string): AvroField {
  const field: AvroField = { name, type: ['null', avroTypeOf(v.type)], default: null };
  // The label is what users see as the column's caption; a description alone serves too.
  const doc = v.label ?? v.description;
  if (doc) field.doc = doc;
  if (name !== v.name) field[ORIGINAL_NAME] = v.name;
  if (v.description && v.label) field[DESCRIPTION] = v.description;
  if (v.valueLabels?.length) field[VALUE_LABELS] = v.valueLabels.map(({ value, label }) => ({ value, label }));
  if (v.type === 'geography') field[PLATFORM_TYPE] = 'geography';
  return field;
}

/**
 * Fields per record handed to avsc: it compiles a record into a function of one parameter per
 * field, which V8 caps at 65,534, while Avro puts no limit on fields (issue #10: 40,000 columns).
 */
const AVSC_FIELDS_PER_CHECK = 1000;

const loadAvsc = lazyRequire<typeof avscModule>('avsc');

/**
 * avsc checks the record (name, namespace) and every field's name, type and default, the
 * fields in slices of AVSC_FIELDS_PER_CHECK under the record's own name; uniqueness of the
 * names across slices is nameFields' to keep.
 */
function checkWithAvsc(schema: AvroRecordSchema): void {
  try {
    const plain = JSON.parse(JSON.stringify(schema)) as AvroRecordSchema;
    for (let at = 0; at === 0 || at < plain.fields.length; at += AVSC_FIELDS_PER_CHECK) {
      loadAvsc().Type.forSchema({ ...plain, fields: plain.fields.slice(at, at + AVSC_FIELDS_PER_CHECK) } as avscModule.Schema);
    }
  } catch (cause) {
    const text = cause instanceof Error ? cause.message : String(cause);
    throw new ExportError('INTERNAL', `the Avro schema built for the table is invalid (${text})`, { format: 'avro' }, { cause });
  }
}
