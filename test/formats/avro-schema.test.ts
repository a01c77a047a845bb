/**
 * The avro record schema: names made valid (spec 1.11 "Names"), renames reported, types and
 * logical types per DESIGN.md, labels as doc; and the options' validation. A declarative case
 * table for the names: original → expected Avro name.
 */
import avsc from 'avsc';
import { describe, expect, it } from 'vitest';
import { ExportError } from '../../src/errors.js';
import { avroEncoder } from '../../src/formats/avro/index.js';
import { makeAvroName, nameFields, nameRecord } from '../../src/formats/avro/names.js';
import { resolveAvroOptions, type AvroOptions } from '../../src/formats/avro/options.js';
import { buildAvroSchema } from '../../src/formats/avro/schema.js';
import type { Table, Variable } from '../../src/table/types.js';
import { ALL_TYPE_VARIABLES } from '../fixtures/tables.js';

const NAME_CASES: [string, string][] = [
  ['plain_name', 'plain_name'],
  ['_x9', '_x9'],
  ['with space', 'with_space'],
  ['  padded  ', '__padded__'],
  ['2024 total', '_2024_total'],
  ['9', '_9'],
  ['a-b.c/d', 'a_b_c_d'],
  ['café', 'cafe'],
  ['Ünïcödé', 'Unicode'],
  ['ﬁle²', 'file2'],
  ['中文', '__'],
  ['😀', '_'],
  ['naïve 😀 x', 'naive___x'],
  ['\u0301', '_'],
];

describe('avro names', () => {
  it.each(NAME_CASES)('%j → %j', (original, expected) => {
    const { name, reasons } = makeAvroName(original);
    expect(name).toBe(expected);
    expect(name).toMatch(/^[A-Za-z_][A-Za-z0-9_]*$/);
    expect(reasons.length > 0).toBe(original !== expected);
  });

  it('keeps valid names and resolves collisions after renaming with the first free suffix', () => {
    const { names, renames } = nameFields(['a b', 'a_b', 'a-b', 'a_b_2', 'A B', '1x', '_1x']);
    // Valid originals (a_b, a_b_2, _1x) never change; renamed ones skip every taken name.
    expect(names).toEqual(['a_b_3', 'a_b', 'a_b_4', 'a_b_2', 'A_B', '_1x_2', '_1x']);
    expect(new Set(names).size).toBe(names.length);
    expect(renames.map((r) => [r.from, r.to])).toEqual([['a b', 'a_b_3'], ['a-b', 'a_b_4'], ['A B', 'A_B'], ['1x', '_1x_2']]);
    expect(renames[0].reason).toMatch(/only A-Z, a-z, 0-9 and _.*"a_b" is the name of another column/);
    expect(renames[3].reason).toMatch(/cannot start with a digit.*"_1x" is the name of another column/);
  });

  it('is deterministic: the same columns give the same names', () => {
    const columns = ['x y', 'x_y', 'x.y', 'é', 'e', '3'];
    expect(nameFields(columns)).toEqual(nameFields([...columns]));
  });

  it('never names the record after a primitive type', () => {
    expect(nameRecord('string').name).toBe('_string');
    expect(nameRecord('my table').name).toBe('my_table');
    expect(nameRecord('Record').name).toBe('Record');
  });
});

const table = (variables: Variable[], extra: Partial<Table> = {}): Table => ({ name: 'survey 2024', variables, ...extra });

describe('avro schema', () => {
  it('writes every platform type as DESIGN.md says, nullable with default null, labels as doc', () => {
    const { schema } = buildAvroSchema(table(ALL_TYPE_VARIABLES, { description: 'All types.' }), null);
    expect(schema.name).toBe('survey_2024');
    expect(schema.doc).toBe('All types.');
    expect(schema.fields.map((f) => [f.name, f.type, f.default, f.doc])).toEqual([
      ['int_col', ['null', 'long'], null, 'An integer (int64)'],
      ['float_col', ['null', 'double'], null, 'A double'],
      ['bool_col', ['null', 'boolean'], null, 'Yes or no'],
      ['date_col', ['null', { type: 'int', logicalType: 'date' }], null, 'A calendar date'],
      ['datetime_col', ['null', { type: 'long', logicalType: 'local-timestamp-micros' }], null, 'A civil date-time'],
      ['time_col', ['null', { type: 'long', logicalType: 'time-micros' }], null, 'A time of day'],
      ['string_col', ['null', 'string'], null, 'Free text'],
      ['geo_col', ['null', 'string'], null, 'A WKT geometry'],
    ]);
    expect(schema.fields[7]['tabular_export.type']).toBe('geography');
  });

  it('keeps original names, descriptions and value labels in tabular_export.* attributes', () => {
    const { schema, renames, json } = buildAvroSchema(table([
      { name: 'Q1 answer', type: 'integer', label: 'First answer', description: 'Asked first.', valueLabels: [{ value: '1', label: 'Yes' }] },
      { name: 'note', type: 'string', description: 'Only a description' },
    ]), 'org.example');
    expect(schema.namespace).toBe('org.example');
    expect(schema.fields[0]).toMatchObject({
      name: 'Q1_answer', doc: 'First answer', 'tabular_export.original_name': 'Q1 answer',
      'tabular_export.description': 'Asked first.', 'tabular_export.value_labels': [{ value: '1', label: 'Yes' }],
    });
    expect(schema.fields[1]).toMatchObject({ name: 'note', doc: 'Only a description' });
    expect(schema['tabular_export.original_name']).toBe('survey 2024');
    expect(renames.map((r) => [r.from, r.to])).toEqual([['survey 2024', 'survey_2024'], ['Q1 answer', 'Q1_answer']]);
    expect(renames[0].reason).toMatch(/^table name/);
    // The stored JSON is what avsc (and so any reader) parses back into the same names.
    const parsed = avsc.Type.forSchema(JSON.parse(json) as avsc.Schema) as avsc.types.RecordType;
    expect(parsed.fields.map((f) => f.name)).toEqual(['Q1_answer', 'note']);
  });

  it('reports the renames through the prepared encoder', () => {
    const prepared = avroEncoder.prepare(table([{ name: 'a b', type: 'integer' }, { name: 'a_b', type: 'float' }]), {});
    expect(prepared.renames.map((r) => [r.from, r.to])).toEqual([['survey 2024', 'survey_2024'], ['a b', 'a_b_2']]);
  });
});

describe('avro options', () => {
  const bad: [string, AvroOptions | Record<string, unknown>, RegExp][] = [
    ['unknown codec', { codec: 'zstd' }, /codec must be one of deflate, null, snappy/],
    ['level too high', { deflateLevel: 10 }, /deflateLevel must be an integer from 0 to 9/],
    ['fractional level', { deflateLevel: 1.5 }, /deflateLevel/],
    ['zero block rows', { blockRows: 0 }, /blockRows must be a positive integer/],
    ['bad namespace', { namespace: 'org.2x' }, /namespace must be dot-separated names/],
    ['short sync marker', { syncMarker: new Uint8Array(15) }, /syncMarker must be 16 bytes or 32 hex digits, not 15 bytes/],
    ['non-hex sync marker', { syncMarker: 'z'.repeat(32) }, /syncMarker/],
  ];
  it.each(bad)('refuses %s with INVALID_OPTION', (_what, options, message) => {
    let error: unknown;
    try {
      resolveAvroOptions(options as AvroOptions);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ExportError);
    expect((error as ExportError).code).toBe('INVALID_OPTION');
    expect((error as ExportError).format).toBe('avro');
    expect((error as ExportError).message).toMatch(message);
  });

  it('defaults to deflate with random sync markers, and takes a marker as hex or bytes', () => {
    expect(resolveAvroOptions({})).toMatchObject({ codec: 'deflate', syncMarker: null, namespace: null });
    const hex = resolveAvroOptions({ syncMarker: '000102030405060708090a0b0c0d0e0f' }).syncMarker;
    expect(hex).toEqual(Uint8Array.from({ length: 16 }, (_, i) => i));
    expect(resolveAvroOptions({ syncMarker: hex ?? undefined }).syncMarker).toEqual(hex);
  });
});
