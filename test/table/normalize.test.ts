import {
  Bool, DateMillisecond, Dictionary, Field, Float32, Int16, Int32, Int8, LargeUtf8, RecordBatch, Schema, Struct,
  TimeMillisecond, TimeNanosecond, TimeSecond, TimestampMillisecond, TimestampNanosecond, TimestampSecond, Uint32, Uint64, Uint8,
  Utf8, makeData, vectorFromArray, Float16, Null, Binary, type DataType, type Vector,
} from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { ExportError } from '../../src/errors.js';
import { tableFromSchema } from '../../src/table/arrow-types.js';
import { bindSchema } from '../../src/table/normalize.js';

function batchOf(columns: Record<string, Vector>): RecordBatch {
  const fields = Object.entries(columns).map(([name, v]) => new Field(name, v.type as DataType, true));
  const schema = new Schema(fields);
  const length = Object.values(columns)[0].length;
  const data = makeData({ type: new Struct(fields), length, nullCount: 0, children: Object.values(columns).map((v) => v.data[0]) });
  return new RecordBatch(schema, data);
}

function normalized(batch: RecordBatch): Record<string, unknown[]> {
  const table = tableFromSchema(batch.schema, 't');
  const out = bindSchema(table, batch.schema, 0)(batch, 0);
  // Raw values for 64-bit and date columns: Vector.get turns them into epoch milliseconds.
  return Object.fromEntries(out.schema.fields.map((f, i) => {
    const vector = out.getChildAt(i) as Vector;
    const data = vector.data[0];
    const raw = data.values instanceof BigInt64Array || String(data.type).startsWith('Date32') ? data.values : null;
    const cells = Array.from({ length: vector.length }, (_, r) => (!vector.isValid(r) ? null : raw ? raw[r] : vector.get(r)));
    return [`${f.name}:${String(f.type)}`, cells];
  }));
}

describe('Arrow inputs of clear meaning are brought to canonical types', () => {
  it('integers of every accepted width become int64', () => {
    const b = batchOf({
      i8: vectorFromArray([-128, null, 127], new Int8()),
      i16: vectorFromArray([-32768, 0, 32767], new Int16()),
      i32: vectorFromArray([-2147483648, 5, null], new Int32()),
      u8: vectorFromArray([0, 255, null], new Uint8()),
      u32: vectorFromArray([0, 4294967295, 7], new Uint32()),
    });
    expect(normalized(b)).toEqual({
      'i8:Int64': [-128n, null, 127n],
      'i16:Int64': [-32768n, 0n, 32767n],
      'i32:Int64': [-2147483648n, 5n, null],
      'u8:Int64': [0n, 255n, null],
      'u32:Int64': [0n, 4294967295n, 7n],
    });
  });

  it('float32 becomes float64 exactly; date64 becomes days; every time unit becomes microseconds', () => {
    const b = batchOf({
      f: vectorFromArray([0.5, null, -1.25], new Float32()),
      d: vectorFromArray([new Date(Date.UTC(1969, 11, 31)), null, new Date(Date.UTC(2024, 1, 29))], new DateMillisecond()),
      tss: vectorFromArray([new Date(-1000), new Date(0), null], new TimestampSecond('Europe/Paris')),
      tsms: vectorFromArray([new Date(1500), null, new Date(-1)], new TimestampMillisecond()),
      t32s: vectorFromArray([0, 86399, null], new TimeSecond()),
      t32ms: vectorFromArray([1, null, 86399999], new TimeMillisecond()),
    });
    expect(normalized(b)).toEqual({
      'f:Float64': [0.5, null, -1.25],
      'd:Date32<DAY>': [-1, null, 19782],
      'tss:Timestamp<MICROSECOND>': [-1_000_000n, 0n, null],
      'tsms:Timestamp<MICROSECOND>': [1_500_000n, null, -1000n],
      't32s:Time64<MICROSECOND>': [0n, 86_399_000_000n, null],
      't32ms:Time64<MICROSECOND>': [1000n, null, 86_399_999_000n],
    });
  });

  it('nanosecond timestamps and times floor to microseconds, before 1970 too', () => {
    const ts = makeData({ type: new TimestampNanosecond(), length: 3, nullCount: 0, data: BigInt64Array.from([1_999n, -1n, -1_000n]) });
    const tm = makeData({ type: new TimeNanosecond(), length: 3, nullCount: 0, data: BigInt64Array.from([999n, 1_000n, 86_399_999_999_999n]) });
    const fields = [new Field('ts', ts.type, true), new Field('tm', tm.type, true)];
    const b = new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: 3, nullCount: 0, children: [ts, tm] }));
    const n = normalized(b);
    expect(n['ts:Timestamp<MICROSECOND>']).toEqual([1n, -1n, -1n]);
    expect(n['tm:Time64<MICROSECOND>']).toEqual([0n, 1n, 86_399_999_999n]);
  });

  it('large_utf8 and dictionary-encoded strings become utf8 with nulls kept', () => {
    const b = batchOf({
      large: vectorFromArray(['a', null, 'ünïcödé 漢'], new LargeUtf8()),
      dict: vectorFromArray(['x', 'y', null], new Dictionary(new Utf8(), new Int32())),
      flag: vectorFromArray([true, null, false], new Bool()),
    });
    expect(normalized(b)).toEqual({
      'large:Utf8': ['a', null, 'ünïcödé 漢'],
      'dict:Utf8': ['x', 'y', null],
      'flag:Bool': [true, null, false],
    });
  });

  it('sliced inputs keep their rows and nulls', () => {
    const b = batchOf({ i: vectorFromArray([1, null, 3, null, 5], new Int16()), s: vectorFromArray(['a', 'b', null, 'd', 'e'], new Utf8()) }).slice(1, 4);
    expect(normalized(b)).toEqual({ 'i:Int64': [null, 3n, null], 's:Utf8': ['b', null, 'd'] });
  });

  it('an Arrow null column (all nulls) fits whatever type the table gives the column', () => {
    const b = batchOf({ n: vectorFromArray([null, null], new Null()), s: vectorFromArray([null, null], new Null()) });
    const table = { name: 't', variables: [{ name: 'n', type: 'dateTime' as const }, { name: 's', type: 'string' as const }] };
    const out = bindSchema(table, b.schema, 0)(b, 0);
    expect(out.schema.fields.map((f) => String(f.type))).toEqual(['Timestamp<MICROSECOND>', 'Utf8']);
    expect(out.getChildAt(0)?.nullCount).toBe(2);
    expect([...(out.getChildAt(1) as Vector)]).toEqual([null, null]);
    expect((out.getChildAt(1) as Vector).data[0].valueOffsets).toEqual(new Int32Array(3));
  });

  it('types without a clear meaning are refused naming the column and its Arrow type', () => {
    for (const [type, text] of [[new Uint64(), 'Uint64'], [new Float16(), 'Float16'], [new Binary(), 'Binary']] as const) {
      const schema = new Schema([new Field('ok', new Int32(), true), new Field('weird', type, true)]);
      try {
        tableFromSchema(schema, 't');
        expect.unreachable();
      } catch (err) {
        expect(err).toBeInstanceOf(ExportError);
        expect((err as ExportError).code).toBe('UNSUPPORTED_TYPE');
        expect((err as ExportError).message).toContain(`column "weird": Arrow type ${text}`);
      }
    }
  });

  it('field metadata carries labels, value labels and the geography type', () => {
    const meta = new Map([['label', 'Region'], ['description', 'Where'], ['valueLabels', '[{"value":"1","label":"North"}]']]);
    const schema = new Schema([new Field('region', new Int32(), true, meta), new Field('wkt', new Utf8(), true, new Map([['type', 'geography']]))]);
    expect(tableFromSchema(schema, 'survey', 12)).toEqual({
      name: 'survey', numRows: 12,
      variables: [
        { name: 'region', type: 'integer', label: 'Region', description: 'Where', valueLabels: [{ value: '1', label: 'North' }] },
        { name: 'wkt', type: 'geography' },
      ],
    });
  });
});
