import {
  Bool, Data, DataType, DateDay, Float64, RecordBatch, Schema, Struct, TimeUnit, Type, Utf8, makeData,
} from 'apache-arrow';
import { ExportError } from '../errors.js';
import { arrowTypeOf, schemaOfTable, variableTypeOfArrow } from './arrow-types.js';
import type { Table, VariableType } from './types.js';

type Convert = (data: Data) => Data;

const MICROS_PER: Record<number, bigint> = {
  [TimeUnit.SECOND]: 1_000_000n, [TimeUnit.MILLISECOND]: 1_000n, [TimeUnit.MICROSECOND]: 1n,
};

/** A batch normalizer bound to one input schema: chosen once per schema, applied per batch. */
export type Normalize = (batch: RecordBatch, firstRow: number) => RecordBatch;

/**
 * Binds a table to the schema of incoming batches. Every field of the table must be present
 * with a type of the same meaning; each column's converter to the canonical Arrow type is
 * chosen here, once (identity when it is canonical already, which is the common case).
 */
export function bindSchema(table: Table, schema: Schema, firstRow: number): Normalize {
  const byName = new Map(schema.fields.map((f, i) => [f.name, i]));
  if (schema.fields.length !== table.variables.length) {
    const extra = schema.fields.find((f) => !table.variables.some((v) => v.name === f.name));
    const missing = table.variables.find((v) => !byName.has(v.name));
    const what = missing ? `column "${missing.name}" is missing from the batch`
      : `the batch has column "${extra?.name}", which the table does not define`;
    throw new ExportError('SCHEMA_MISMATCH', `${what} (batch has ${schema.fields.length} columns, table ${table.variables.length})`, { row: firstRow });
  }
  const plan = table.variables.map((v) => {
    const index = byName.get(v.name);
    if (index === undefined) {
      throw new ExportError('SCHEMA_MISMATCH', 'column is missing from the batch', { column: v.name, row: firstRow });
    }
    const inputType = schema.fields[index].type;
    // An Arrow null column (what writers infer for an all-null column) fits any type.
    if (inputType.typeId === Type.Null) return { index, convert: nullsOf(arrowTypeOf(v.type)) };
    const meaning = variableTypeOfArrow(inputType);
    const expected = v.type === 'geography' ? 'string' : v.type;
    if (meaning !== expected) {
      throw new ExportError('SCHEMA_MISMATCH', `batch has Arrow type ${String(inputType)} but the table says ${v.type}`, { column: v.name, row: firstRow });
    }
    return { index, convert: converterFor(inputType, v.type) };
  });
  const canonical = schemaOfTable(table);
  const structType = new Struct(canonical.fields);
  return (batch) => {
    const children = plan.map(({ index, convert }) => convert(batch.data.children[index]));
    const data = makeData({ type: structType, length: batch.numRows, nullCount: 0, children });
    return new RecordBatch(canonical, data);
  };
}

function converterFor(input: DataType, type: VariableType): Convert {
  const target = arrowTypeOf(type);
  switch (input.typeId) {
    case Type.Int: {
      const bits = (input as unknown as { bitWidth: number }).bitWidth;
      return bits === 64 ? relabel(target) : widenToInt64(target);
    }
    case Type.Float: {
      const precision = (input as unknown as { precision: number }).precision;
      return precision === 2 ? relabel(target) : mapValues(target, (v) => Float64Array.from(v as Float32Array));
    }
    case Type.Bool: return relabel(target);
    case Type.Date: {
      const unit = (input as unknown as { unit: number }).unit;
      if (unit === 0) return relabel(target); // DateUnit.DAY
      return mapValues(target, (v) => convertDateMillis(v as BigInt64Array | Float64Array | Int32Array));
    }
    case Type.Timestamp:
    case Type.Time: {
      const unit = (input as unknown as { unit: number }).unit;
      // Microseconds already (timestamp[us] with or without a zone, time64[us]): same buffers.
      if (unit === TimeUnit.MICROSECOND) return relabel(target);
      return mapValues(target, (v) => toMicros(v as BigInt64Array | Int32Array, unit));
    }
    case Type.Utf8: return relabel(target);
    case Type.LargeUtf8: return narrowLargeUtf8;
    case Type.Dictionary: return decodeDictionary;
    default:
      throw new ExportError('UNSUPPORTED_TYPE', `no conversion from Arrow type ${String(input)}`);
  }
}

/** An all-null column of the canonical type, with full-size zeroed buffers encoders can index. */
function nullsOf(target: DataType): Convert {
  return (data) => {
    const n = data.length;
    const nullBitmap = new Uint8Array(Math.ceil(n / 8));
    switch (target.typeId) {
      case Type.Utf8:
        return makeData({ type: target as Utf8, length: n, nullCount: n, nullBitmap, valueOffsets: new Int32Array(n + 1), data: new Uint8Array(0) });
      case Type.Bool:
        return makeData({ type: target as Bool, length: n, nullCount: n, nullBitmap, data: new Uint8Array(Math.ceil(n / 8)) });
      case Type.Float:
        return makeData({ type: target as Float64, length: n, nullCount: n, nullBitmap, data: new Float64Array(n) });
      case Type.Date:
        return makeData({ type: target as DateDay, length: n, nullCount: n, nullBitmap, data: new Int32Array(n) });
      default: // int64, timestamp[us], time64[us]
        return new Data(target, 0, n, n, [undefined, new BigInt64Array(n), nullBitmap]);
    }
  };
}

/** Same buffers, canonical type object (drops a timestamp's zone, keeps everything else). */
function relabel(target: DataType): Convert {
  const name = String(target);
  return (data) => (String(data.type) === name ? data : data.clone(target));
}

function mapValues(target: DataType, map: (values: Data['values']) => Data['values']): Convert {
  return (data) => new Data(target, data.offset, data.length, data.nullCount,
    [undefined, map(data.values.subarray(0, data.length)), data.nullBitmap]);
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * 8–32-bit integers to int64 by writing the two 32-bit halves (low word, then the sign), which
 * spares a BigInt allocation per cell (about 60 ms per million values here).
 */
function widenToInt64(target: DataType): Convert {
  return mapValues(target, (values) => {
    const src = values as Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array | Uint8Array;
    const out = new BigInt64Array(src.length);
    if (!LITTLE_ENDIAN) {
      for (let i = 0; i < src.length; i++) out[i] = BigInt(src[i]);
      return out;
    }
    const words = new Int32Array(out.buffer, out.byteOffset, src.length * 2);
    for (let i = 0; i < src.length; i++) {
      const v = src[i]; // a uint32 above 2^31 is still a positive number here
      words[2 * i] = v | 0;
      words[2 * i + 1] = v < 0 ? -1 : 0;
    }
    return out;
  });
}

function convertDateMillis(values: BigInt64Array | Float64Array | Int32Array): Int32Array {
  const out = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = Math.floor(Number(values[i]) / 86_400_000);
  return out;
}

/** Any time unit to microseconds; nanoseconds floor (Arrow's own cast truncates, floor keeps order). */
function toMicros(values: BigInt64Array | Int32Array, unit: number): BigInt64Array {
  const out = new BigInt64Array(values.length);
  if (unit === TimeUnit.NANOSECOND) {
    for (let i = 0; i < values.length; i++) {
      const ns = BigInt(values[i]);
      out[i] = ns >= 0n ? ns / 1000n : -((-ns + 999n) / 1000n);
    }
    return out;
  }
  const factor = MICROS_PER[unit];
  for (let i = 0; i < values.length; i++) out[i] = BigInt(values[i]) * factor;
  return out;
}

function narrowLargeUtf8(data: Data): Data {
  const big = data.valueOffsets as unknown as BigInt64Array;
  const offsets = new Int32Array(data.length + 1);
  for (let i = 0; i <= data.length; i++) {
    const o = Number(big[i]);
    if (o > 0x7fffffff) throw new ExportError('VALUE_OUT_OF_RANGE', 'large_utf8 batch holds more than 2 GiB of text; send smaller batches');
    offsets[i] = o;
  }
  return makeData({ type: new Utf8(), offset: data.offset, length: data.length, nullCount: data.nullCount,
    nullBitmap: data.nullBitmap, valueOffsets: offsets, data: data.values as Uint8Array });
}

/** Dictionary-encoded strings are materialized: encoders then see one layout only. */
function decodeDictionary(data: Data): Data {
  const dictionary = data.dictionary;
  if (!dictionary) throw new ExportError('SCHEMA_MISMATCH', 'dictionary-encoded column without a dictionary');
  const dict = dictionary.data.length === 1 ? dictionary.data[0] : narrowDict(dictionary.data);
  const dictData = dict.type.typeId === Type.LargeUtf8 ? narrowLargeUtf8(dict) : dict;
  const dOffsets = dictData.valueOffsets as Int32Array;
  const dBytes = dictData.values as Uint8Array;
  const keys = data.values as Int32Array;
  const offsets = new Int32Array(data.length + 1);
  let total = 0;
  for (let i = 0; i < data.length; i++) {
    const k = Number(keys[i]);
    offsets[i] = total;
    if (isValidAt(data, i)) total += dOffsets[k + 1] - dOffsets[k];
  }
  offsets[data.length] = total;
  const bytes = new Uint8Array(total);
  for (let i = 0; i < data.length; i++) {
    if (offsets[i + 1] === offsets[i]) continue;
    const k = Number(keys[i]);
    bytes.set(dBytes.subarray(dOffsets[k], dOffsets[k + 1]), offsets[i]);
  }
  return makeData({ type: new Utf8(), offset: data.offset, length: data.length, nullCount: data.nullCount,
    nullBitmap: data.nullBitmap, valueOffsets: offsets, data: bytes });
}

function narrowDict(chunks: readonly Data[]): Data {
  throw new ExportError('UNSUPPORTED_TYPE', `dictionary split into ${chunks.length} chunks is not supported`);
}

function isValidAt(data: Data, i: number): boolean {
  const bitmap = data.nullBitmap;
  if (data.nullCount === 0 || !bitmap || bitmap.length === 0) return true;
  const bit = data.offset + i;
  return ((bitmap[bit >> 3] >> (bit & 7)) & 1) === 1;
}
