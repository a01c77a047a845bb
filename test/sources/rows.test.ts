import { Type } from 'apache-arrow';
import type { RecordBatch } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { ExportError } from '../../src/errors.js';
import { fromRows } from '../../src/sources/rows.js';
import { bindSchema } from '../../src/table/normalize.js';
import type { Table } from '../../src/table/types.js';
import { drain } from './helpers.js';

const table: Table = {
  name: 'all',
  variables: [
    { name: 'int', type: 'integer', label: 'An integer', valueLabels: [{ value: '1', label: 'one' }] },
    { name: 'num', type: 'float', description: 'A float' },
    { name: 'flag', type: 'boolean' },
    { name: 'day', type: 'date' },
    { name: 'at', type: 'dateTime' },
    { name: 'clock', type: 'time' },
    { name: 'text', type: 'string' },
    { name: 'place', type: 'geography' },
  ],
};

async function build(rows: Record<string, unknown>[], t: Table = table, batchSize?: number): Promise<RecordBatch[]> {
  return (await drain(await fromRows(rows, t, { batchSize }).open())).batches;
}

function column(batches: RecordBatch[], name: string): unknown[] {
  return batches.flatMap((b) => [...(b.getChild(name) ?? [])]);
}

describe('fromRows', () => {
  it('builds canonical Arrow types with variable metadata in the fields', async () => {
    const opened = await fromRows([], table).open();
    const fields = opened.schema?.fields ?? [];
    expect(fields.map((f) => f.type.typeId)).toEqual([Type.Int, Type.Float, Type.Bool, Type.Date, Type.Timestamp, Type.Time, Type.Utf8, Type.Utf8]);
    expect(fields.map((f) => String(f.type))).toEqual(['Int64', 'Float64', 'Bool', 'Date32<DAY>', 'Timestamp<MICROSECOND>', 'Time64<MICROSECOND>', 'Utf8', 'Utf8']);
    expect(fields[0].metadata.get('label')).toBe('An integer');
    expect(JSON.parse(fields[0].metadata.get('valueLabels') ?? '')).toEqual([{ value: '1', label: 'one' }]);
    expect(fields[1].metadata.get('description')).toBe('A float');
    expect(fields[7].metadata.get('type')).toBe('geography');
    expect(opened.numRows).toBe(0);
    expect((await drain(opened)).batches).toEqual([]);
  });

  it('keeps edge values exactly', async () => {
    const batches = await build([
      { int: '-9223372036854775808', num: Number.NaN, flag: true, day: '0001-01-01', at: '0001-01-01T00:00:00', clock: '00:00:00', text: '', place: 'POINT(0 0)' },
      { int: 9223372036854775807n, num: Number.POSITIVE_INFINITY, flag: false, day: '9999-12-31', at: '9999-12-31T23:59:59.999999', clock: '23:59:59.999999', text: 'é😀\u0000', place: null },
      { int: Number.MAX_SAFE_INTEGER, num: -0, day: new Date(Date.UTC(2024, 1, 29, 23, 59)), at: new Date(Date.UTC(1969, 11, 31, 23, 59, 59, 999)), clock: '12:34:56.5' },
      { int: '+42', num: '-1.5e-300', flag: null, day: '1970-01-01', at: '1970-01-01T00:00:00.000001', clock: '00:00:00.000001', text: undefined },
      { int: -1, num: '-Infinity' },
    ]);
    expect(column(batches, 'int')).toEqual([-(2n ** 63n), 2n ** 63n - 1n, 9007199254740991n, 42n, -1n]);
    const num = column(batches, 'num') as number[];
    expect(num[0]).toBeNaN();
    expect(num.slice(1)).toEqual([Infinity, -0, -1.5e-300, -Infinity]);
    expect(Object.is(num[2], -0)).toBe(true);
    expect(column(batches, 'flag')).toEqual([true, false, null, null, null]);
    // Date32 values read back as epoch milliseconds; compare the days.
    expect(batches[0].getChild('day')?.data[0].values.slice(0, 4)).toEqual(Int32Array.from([-719162, 2932896, 19782, 0]));
    const at = batches[0].getChild('at')?.data[0].values as BigInt64Array;
    expect([...at.slice(0, 4)]).toEqual([-62135596800000000n, 253402300799999999n, -1000n, 1n]);
    const clock = batches[0].getChild('clock')?.data[0].values as BigInt64Array;
    expect([...clock.slice(0, 4)]).toEqual([0n, 86399999999n, 45296500000n, 1n]);
    expect(column(batches, 'text')).toEqual(['', 'é😀\u0000', null, null, null]);
    expect(column(batches, 'place')).toEqual(['POINT(0 0)', null, null, null, null]);
    expect(batches[0].getChild('at')?.nullCount).toBe(1);
  });

  it('builds batches the normalizer accepts as canonical, values unchanged', async () => {
    const [batch] = await build([{ int: 1, num: 2, flag: true, day: '2020-01-01', at: '2020-01-01T00:00:00', clock: '01:00:00', text: 'a', place: 'b' }]);
    const normalized = bindSchema(table, batch.schema, 0)(batch, 0);
    batch.data.children.forEach((child, i) => expect(normalized.data.children[i].values).toEqual(child.values));
  });

  it('cuts batches of batchSize rows and counts rows across them', async () => {
    const rows = Array.from({ length: 10 }, (_, i) => ({ int: i, text: `r${i}` }));
    const batches = await build(rows, table, 4);
    expect(batches.map((b) => b.numRows)).toEqual([4, 4, 2]);
    expect(column(batches, 'int')).toEqual(rows.map((r) => BigInt(r.int)));
    expect(column(batches, 'text')).toEqual(rows.map((r) => r.text));
  });

  it('reads a one-shot async iterable once, an array as often as asked', async () => {
    async function* generate(): AsyncGenerator<Record<string, unknown>> {
      for (let i = 0; i < 3; i++) yield { int: i };
    }
    const once = fromRows(generate(), table);
    expect(once.reopenable).toBe(false);
    const opened = await once.open();
    expect(opened.numRows).toBeNull();
    expect(column((await drain(opened)).batches, 'int')).toEqual([0n, 1n, 2n]);
    await expect(once.open()).rejects.toThrow(/already opened/);
    const again = fromRows([{ int: 5 }], table);
    expect(again.reopenable).toBe(true);
    for (let pass = 0; pass < 2; pass++) expect(column((await drain(await again.open())).batches, 'int')).toEqual([5n]);
  });

  const bad: { column: string; value: unknown; code: string; message: RegExp }[] = [
    { column: 'int', value: 1.5, code: 'SCHEMA_MISMATCH', message: /expected a safe-integer number, a bigint or a decimal integer string.*got the number 1.5/ },
    { column: 'int', value: 2 ** 60, code: 'VALUE_OUT_OF_RANGE', message: /bigint or a decimal string/ },
    { column: 'int', value: '9223372036854775808', code: 'VALUE_OUT_OF_RANGE', message: /64-bit/ },
    { column: 'int', value: -(2n ** 63n) - 1n, code: 'VALUE_OUT_OF_RANGE', message: /64-bit/ },
    { column: 'int', value: '12a', code: 'SCHEMA_MISMATCH', message: /got the string "12a"/ },
    { column: 'int', value: Number.NaN, code: 'SCHEMA_MISMATCH', message: /got the number NaN/ },
    { column: 'num', value: '', code: 'SCHEMA_MISMATCH', message: /expected a number or a numeric string/ },
    { column: 'num', value: 1n, code: 'SCHEMA_MISMATCH', message: /got the bigint 1/ },
    { column: 'flag', value: 'true', code: 'SCHEMA_MISMATCH', message: /expected true or false/ },
    { column: 'day', value: '2023-02-29', code: 'SCHEMA_MISMATCH', message: /expected a date 'YYYY-MM-DD'/ },
    { column: 'day', value: '0000-12-31', code: 'SCHEMA_MISMATCH', message: /0001-01-01 to 9999-12-31/ },
    { column: 'day', value: new Date(Number.NaN), code: 'SCHEMA_MISMATCH', message: /invalid or out-of-range Date/ },
    { column: 'day', value: 19000, code: 'SCHEMA_MISMATCH', message: /got the number 19000/ },
    { column: 'at', value: '2024-01-01T10:00:00Z', code: 'SCHEMA_MISMATCH', message: /without zone/ },
    { column: 'at', value: '2024-01-01 10:00:00', code: 'SCHEMA_MISMATCH', message: /YYYY-MM-DDTHH:MM:SS/ },
    { column: 'at', value: '2024-01-01T10:00:00.1234567', code: 'SCHEMA_MISMATCH', message: /ffffff/ },
    { column: 'clock', value: '24:00:00', code: 'SCHEMA_MISMATCH', message: /expected a time 'HH:MM:SS\[.ffffff\]'/ },
    { column: 'clock', value: new Date(0), code: 'SCHEMA_MISMATCH', message: /expected a time/ },
    { column: 'text', value: 7, code: 'SCHEMA_MISMATCH', message: /expected a string.*got the number 7/ },
    { column: 'place', value: { type: 'Point' }, code: 'SCHEMA_MISMATCH', message: /expected a string.*got an object/ },
  ];
  for (const { column: name, value, code, message } of bad) {
    it(`refuses ${String(value)} in the ${name} column, naming column and row`, async () => {
      // Row 5 of the table, in the second batch: the row number is global, not per batch.
      const rows: Record<string, unknown>[] = [{}, {}, {}, {}, {}, { [name]: value }];
      const error = await build(rows, table, 4).then(() => null, (err: unknown) => err);
      expect(error).toBeInstanceOf(ExportError);
      expect(error).toMatchObject({ code, column: name, row: 5 });
      expect((error as Error).message).toMatch(new RegExp(`^column "${name}", row 5: `));
      expect((error as Error).message).toMatch(message);
    });
  }

  it('refuses a row that is not an object, and a bad batchSize', async () => {
    await expect(build([{}, null as unknown as Record<string, unknown>])).rejects.toMatchObject({ code: 'SCHEMA_MISMATCH', row: 1 });
    expect(() => fromRows([], table, { batchSize: 0 })).toThrow(/batchSize/);
  });
});
