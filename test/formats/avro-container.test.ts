/**
 * The avro object container as bytes: a byte-exact golden (fixed sync marker, null codec),
 * decoding with avsc as an extra, independent check, block sizing, and errors naming column and
 * row. fastavro judges every fixture and codec in test/roundtrip/avro.test.ts.
 */
import avsc from 'avsc';
import type { RecordBatch } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { ExportError } from '../../src/errors.js';
import { avroEncoder } from '../../src/formats/avro/index.js';
import type { AvroOptions } from '../../src/formats/avro/options.js';
import type { Table, Variable } from '../../src/table/types.js';
import type { ArrowValue } from '../helpers/canonical.js';
import { makeBatches } from '../fixtures/build.js';
import { allTypes, emptyTable, unevenBatches } from '../fixtures/tables.js';
import { MemorySink } from '../helpers/memory-sink.js';

const SYNC = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);

async function encode(table: Table, batches: readonly RecordBatch[], options: AvroOptions): Promise<Buffer> {
  const sink = new MemorySink();
  const file = await avroEncoder.prepare(table, options).beginFile(sink);
  let row = 0;
  for (const batch of batches) {
    await file.writeBatch(batch, row);
    row += batch.numRows;
  }
  expect(await file.endFile()).toEqual([]);
  return sink.bytes();
}

/** avsc with longs as BigInt, so int64 extremes decode exactly. */
const BIG_LONG = avsc.types.LongType.__with({
  fromBuffer: (buf: Buffer) => buf.readBigInt64LE(),
  toBuffer: (n: bigint) => {
    const buf = Buffer.alloc(8);
    buf.writeBigInt64LE(n);
    return buf;
  },
  fromJSON: (x: number) => BigInt(x),
  toJSON: (n: bigint) => Number(n),
  isValid: (n: unknown) => typeof n === 'bigint',
  compare: (a: bigint, b: bigint) => (a === b ? 0 : a < b ? -1 : 1),
});

/** Every long, plain or under a logical type (avsc leaves those it does not know to the base type). */
function bigLongs(schema: avsc.Schema): avsc.Type | undefined {
  const type = typeof schema === 'object' && schema !== null && 'type' in schema ? schema.type : schema;
  return type === 'long' ? BIG_LONG : undefined;
}

function decodeWithAvsc(bytes: Buffer): Promise<{ records: Record<string, unknown>[]; codec: string; schema: unknown }> {
  return new Promise((resolve, reject) => {
    const records: Record<string, unknown>[] = [];
    let codec = '';
    let schema: unknown = null;
    const decoder = new avsc.streams.BlockDecoder({ parseHook: (s) => avsc.Type.forSchema(s, { typeHook: bigLongs }) });
    decoder.on('metadata', (type: avsc.Type, c: string) => {
      codec = c;
      schema = type.schema();
    });
    decoder.on('data', (record: Record<string, unknown>) => records.push(record));
    decoder.on('error', reject);
    decoder.on('end', () => resolve({ records, codec, schema }));
    decoder.end(bytes);
  });
}

function countSync(bytes: Buffer, sync: Uint8Array): number {
  let n = 0;
  for (let i = bytes.indexOf(sync); i >= 0; i = bytes.indexOf(sync, i + 1)) n++;
  return n;
}

const hex = (text: string): number[] => text.split(/\s+/).filter(Boolean).map((h) => parseInt(h, 16));
const ascii = (text: string): number[] => [...Buffer.from(text, 'utf8')];

describe('avro container bytes', () => {
  it('golden: a tiny table, null codec, fixed sync marker', async () => {
    const variables: Variable[] = [{ name: 'n', type: 'integer' }, { name: 's', type: 'string' }];
    const batches = makeBatches(variables, { n: [1n, -1n, null], s: ['a', null, 'é'] }, [2, 1]);
    const bytes = await encode({ name: 'tiny', variables }, batches, { codec: 'null', syncMarker: SYNC });
    const schema = '{"type":"record","name":"tiny","fields":[{"name":"n","type":["null","long"],"default":null},'
      + '{"name":"s","type":["null","string"],"default":null}]}';
    expect(schema).toHaveLength(146);
    expect([...bytes]).toEqual([
      ...ascii('Obj'), 0x01, // magic
      0x04, // metadata map: one block of 2 entries
      0x16, ...ascii('avro.schema'), ...hex('a4 02'), ...ascii(schema), // key (11 chars), value (146 bytes)
      0x14, ...ascii('avro.codec'), 0x08, ...ascii('null'),
      0x00, // end of map
      ...SYNC,
      0x06, 0x1a, // block: 3 objects, 13 bytes
      ...hex('02 02  02 02 61'), // n = 1 (branch 1, zigzag 2), s = "a"
      ...hex('02 01  00'), // n = -1, s = null (branch 0)
      ...hex('00  02 04 c3 a9'), // n = null, s = "é" (2 UTF-8 bytes)
      ...SYNC,
    ]);
  });

  it.each(['null', 'deflate'] as const)('%s: avsc decodes every type exactly (int64 extremes, NaN, -0, nulls)', async (codec) => {
    const bytes = await encode(allTypes.table, allTypes.batches, { codec });
    const { records, codec: stored } = await decodeWithAvsc(bytes);
    expect(stored).toBe(codec);
    expect(records).toHaveLength(14);
    for (const v of allTypes.table.variables) {
      const got = records.map((r) => r[v.name] as ArrowValue);
      expect(got, v.name).toEqual(allTypes.values[v.name]);
    }
  });

  it('an empty table is a header that decodes to no records', async () => {
    const bytes = await encode(emptyTable.table, emptyTable.batches, { codec: 'deflate', syncMarker: SYNC });
    expect(countSync(bytes, SYNC)).toBe(1);
    const { records, schema } = await decodeWithAvsc(bytes);
    expect(records).toEqual([]);
    expect(schema).toMatchObject({ type: 'record', name: 'empty_table' });
  });

  it('closes blocks at blockRows, across batch boundaries', async () => {
    const bytes = await encode(unevenBatches.table, unevenBatches.batches, { codec: 'null', syncMarker: SYNC, blockRows: 100 });
    expect(countSync(bytes, SYNC)).toBe(1 + 3); // header + 261 rows in blocks of 100, 100, 61
    expect((await decodeWithAvsc(bytes)).records).toHaveLength(261);
  });

  it('closes blocks at about 1 MiB of data, a large row going past it', async () => {
    const variables: Variable[] = [{ name: 'text', type: 'string' }];
    const big = 'x'.repeat(600_000);
    const bytes = await encode({ name: 'big', variables }, makeBatches(variables, { text: [big, big, big, 'y'] }, [4]), { codec: 'null', syncMarker: SYNC });
    expect(countSync(bytes, SYNC)).toBe(1 + 2); // [600k, 600k] passes 1 MiB; [600k, "y"]
    expect((await decodeWithAvsc(bytes)).records.map((r) => (r.text as string).length)).toEqual([600_000, 600_000, 600_000, 1]);
  });

  it('writes a new random sync marker per file unless one is given', async () => {
    const header = async (options: AvroOptions): Promise<Buffer> => (await encode(emptyTable.table, [], options)).subarray(-16);
    const [a, b] = [await header({}), await header({})];
    expect(a.equals(b)).toBe(false);
    expect([...(await header({ syncMarker: SYNC }))]).toEqual([...SYNC]);
  });
});

describe('avro values Avro cannot hold', () => {
  it('refuses a time outside one day, naming the column and the row in the whole table', async () => {
    const variables: Variable[] = [{ name: 'id', type: 'integer' }, { name: 'at', type: 'time' }];
    const batches = makeBatches(variables, { id: [1n, 2n, 3n], at: [0n, 86_399_999_999n, 86_400_000_000n] }, [3]);
    const file = await avroEncoder.prepare({ name: 't', variables }, {}).beginFile(new MemorySink());
    const error = await file.writeBatch(batches[0], 1000).then(() => null, (err: unknown) => err);
    expect(error).toBeInstanceOf(ExportError);
    expect(error).toMatchObject({ code: 'VALUE_OUT_OF_RANGE', format: 'avro', column: 'at', row: 1002 });
    expect((error as ExportError).message).toMatch(/time 86400000000 µs is outside 00:00:00..23:59:59.999999/);
  });

  it('refuses a negative time', async () => {
    const variables: Variable[] = [{ name: 'at', type: 'time' }];
    const file = await avroEncoder.prepare({ name: 't', variables }, {}).beginFile(new MemorySink());
    await expect(file.writeBatch(makeBatches(variables, { at: [null, -1n] }, [2])[0], 0)).rejects.toMatchObject({ column: 'at', row: 1 });
  });
});
