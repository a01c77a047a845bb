/**
 * Canonical Arrow batches built straight from typed arrays (not through the library), for the
 * text encoders' exact-output tests.
 */
import { makeData, RecordBatch, Struct, type Data } from 'apache-arrow';
import { arrowTypeOf, schemaOfTable } from '../../src/table/arrow-types.js';
import type { Table, VariableType } from '../../src/table/types.js';

export type Value = bigint | number | boolean | string | null;

function bitmap(flags: boolean[]): Uint8Array {
  const bits = new Uint8Array(Math.ceil(flags.length / 8) + 1);
  flags.forEach((set, i) => { if (set) bits[i >> 3] |= 1 << (i & 7); });
  return bits;
}

/** One column as canonical Arrow data; `tight` leaves no spare bytes after the UTF-8 data. */
export function column(type: VariableType, values: Value[], tight = false): Data {
  const length = values.length;
  const nullCount = values.filter((v) => v === null).length;
  const base = { type: arrowTypeOf(type), length, nullCount, nullBitmap: bitmap(values.map((v) => v !== null)) };
  switch (type) {
    case 'integer': case 'dateTime': case 'time':
      return makeData({ ...base, data: BigInt64Array.from(values, (v) => (v ?? 0n) as bigint) } as never);
    case 'float': return makeData({ ...base, data: Float64Array.from(values, (v) => (v ?? 0) as number) } as never);
    case 'date': return makeData({ ...base, data: Int32Array.from(values, (v) => (v ?? 0) as number) } as never);
    case 'boolean': return makeData({ ...base, data: bitmap(values.map((v) => v === true)) } as never);
    case 'string': case 'geography': {
      const encoded = values.map((v) => new TextEncoder().encode((v ?? '') as string));
      const valueOffsets = new Int32Array(length + 1);
      encoded.forEach((e, i) => { valueOffsets[i + 1] = valueOffsets[i] + e.length; });
      const data = new Uint8Array(valueOffsets[length] + (tight ? 0 : 7));
      encoded.forEach((e, i) => data.set(e, valueOffsets[i]));
      return makeData({ ...base, valueOffsets, data } as never);
    }
  }
}

export function tableOf(columns: Record<string, VariableType>): Table {
  return { name: 't', variables: Object.entries(columns).map(([name, type]) => ({ name, type })) };
}

export function batchOf(table: Table, columns: Data[]): RecordBatch {
  const schema = schemaOfTable(table);
  const length = columns[0]?.length ?? 0;
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length, nullCount: 0, children: columns }));
}

