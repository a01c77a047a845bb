// Thrift compact protocol (apache/thrift doc/specs/thrift-compact-protocol.md), as much as a
// Parquet footer needs, read into a generic tree that keeps every field with its wire type, so
// a footer read and written again loses nothing this code does not know about.

/** Compact protocol type codes; booleans in a field header carry their value (1 true, 2 false). */
export const enum TType {
  Stop = 0,
  True = 1,
  False = 2,
  Byte = 3,
  I16 = 4,
  I32 = 5,
  I64 = 6,
  Double = 7,
  Binary = 8,
  List = 9,
  Set = 10,
  Map = 11,
  Struct = 12,
}

export type ThriftValue =
  | { type: TType.True | TType.False; value: boolean }
  | { type: TType.Byte | TType.I16 | TType.I32; value: number }
  | { type: TType.I64; value: bigint }
  | { type: TType.Double; value: number }
  | { type: TType.Binary; value: Uint8Array }
  | { type: TType.List | TType.Set; value: ThriftList }
  | { type: TType.Map; value: ThriftMap }
  | { type: TType.Struct; value: ThriftStruct; encoded?: Uint8Array };

/** A list's element type and items; booleans in a list are written as one byte each. */
export interface ThriftList {
  elementType: TType;
  items: ThriftValue[];
}

export interface ThriftMap {
  keyType: TType;
  valueType: TType;
  entries: [ThriftValue, ThriftValue][];
}

export type ThriftField = ThriftValue & { id: number };

/** A struct: its fields in wire order. */
export interface ThriftStruct {
  fields: ThriftField[];
}

/** Nesting deeper than this is a damaged footer, not a Parquet one (which nests about 6 deep). */
const MAX_DEPTH = 64;

/** Reads compact-protocol values from `bytes`, moving forward; every length is checked against the end. */
export class ThriftReader {
  offset: number;
  private readonly view: DataView;

  constructor(private readonly bytes: Uint8Array, offset = 0) {
    this.offset = offset;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  readStruct(depth = 0): ThriftStruct {
    if (depth > MAX_DEPTH) throw new Error('Thrift: structs nested too deeply');
    const fields: ThriftField[] = [];
    let lastId = 0;
    for (;;) {
      const header = this.readByte();
      const type = header & 0x0f;
      if (type === TType.Stop) return { fields };
      const delta = header >> 4;
      const id = delta === 0 ? this.readZigzag32() : lastId + delta;
      lastId = id;
      if (type === TType.True || type === TType.False) {
        fields.push({ id, type, value: type === TType.True });
      } else {
        fields.push({ id, ...this.readValue(type, depth) } as ThriftField);
      }
    }
  }

  private readValue(type: number, depth: number): ThriftValue {
    switch (type) {
      case TType.Byte: {
        const b = this.readByte();
        return { type, value: b > 127 ? b - 256 : b };
      }
      case TType.I16:
      case TType.I32:
        return { type, value: this.readZigzag32() };
      case TType.I64:
        return { type, value: this.readZigzag64() };
      case TType.Double: {
        this.need(8);
        const value = this.view.getFloat64(this.offset, true);
        this.offset += 8;
        return { type, value };
      }
      case TType.Binary: {
        const length = this.readVarint();
        this.need(length);
        // A copy, not a view: the stitcher keeps every row group's metadata (statistics,
        // paths) to the end of the file, and a view kept each part's whole bytes alive (a
        // 10M-row export held ~300 MB of encoded row groups).
        const value = this.bytes.slice(this.offset, this.offset + length);
        this.offset += length;
        return { type, value };
      }
      case TType.List:
      case TType.Set:
        return { type, value: this.readList(depth) };
      case TType.Map:
        return { type, value: this.readMap(depth) };
      case TType.Struct:
        return { type, value: this.readStruct(depth + 1) };
      default:
        throw new Error(`Thrift: unknown type ${type} at byte ${this.offset}`);
    }
  }

  /** A list element: booleans are a byte each (1 true; 2, or 0 from old writers, false). */
  private readElement(type: number, depth: number): ThriftValue {
    if (type === TType.True || type === TType.False) {
      const value = this.readByte() === TType.True;
      return { type: value ? TType.True : TType.False, value };
    }
    return this.readValue(type, depth + 1);
  }

  private readList(depth: number): ThriftList {
    const header = this.readByte();
    const elementType = header & 0x0f;
    const size = (header >> 4) === 0x0f ? this.readVarint() : header >> 4;
    // Each element takes at least one byte: a larger count is a damaged footer.
    this.need(size);
    const items: ThriftValue[] = [];
    for (let i = 0; i < size; i++) items.push(this.readElement(elementType, depth));
    return { elementType, items };
  }

  private readMap(depth: number): ThriftMap {
    const size = this.readVarint();
    if (size === 0) return { keyType: TType.Stop, valueType: TType.Stop, entries: [] };
    const types = this.readByte();
    this.need(size);
    const keyType = types >> 4;
    const valueType = types & 0x0f;
    const entries: [ThriftValue, ThriftValue][] = [];
    for (let i = 0; i < size; i++) entries.push([this.readElement(keyType, depth), this.readElement(valueType, depth)]);
    return { keyType, valueType, entries };
  }

  private need(n: number): void {
    if (n > this.bytes.length - this.offset) throw new Error(`Thrift: ${n} bytes needed at byte ${this.offset}, past the end`);
  }

  private readByte(): number {
    this.need(1);
    return this.bytes[this.offset++];
  }

  /** An unsigned varint of at most 32 bits, as a number. */
  private readVarint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.readByte();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
      if (shift > 35) throw new Error('Thrift: varint too long');
    }
  }

  private readZigzag32(): number {
    const n = this.readVarint();
    return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
  }

  private readZigzag64(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = this.readByte();
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) break;
      shift += 7n;
      if (shift > 63n) throw new Error('Thrift: varint too long');
    }
    return (result >> 1n) ^ -(result & 1n);
  }
}

/** Writes compact-protocol values into a growing buffer. */
export class ThriftWriter {
  private buffer = new Uint8Array(1024);
  private length = 0;

  /** The bytes written so far (a view; copy before writing more if kept). */
  finish(): Uint8Array {
    return this.buffer.subarray(0, this.length);
  }

  writeStruct(struct: ThriftStruct): void {
    let lastId = 0;
    for (const field of struct.fields) {
      const wireType = field.type === TType.True || field.type === TType.False ? (field.value ? TType.True : TType.False) : field.type;
      const delta = field.id - lastId;
      if (delta > 0 && delta <= 15) {
        this.writeByte((delta << 4) | wireType);
      } else {
        this.writeByte(wireType);
        this.writeVarint(zigzag32(field.id));
      }
      lastId = field.id;
      if (wireType !== TType.True && wireType !== TType.False) this.writeValue(field);
    }
    this.writeByte(TType.Stop);
  }

  private writeValue(v: ThriftValue): void {
    switch (v.type) {
      case TType.True:
      case TType.False:
        this.writeByte(v.value ? TType.True : TType.False); // only as a list element
        return;
      case TType.Byte:
        this.writeByte(v.value & 0xff);
        return;
      case TType.I16:
      case TType.I32:
        this.writeVarint(zigzag32(v.value));
        return;
      case TType.I64:
        this.writeVarint64(BigInt.asUintN(64, (v.value << 1n) ^ (v.value >> 63n)));
        return;
      case TType.Double: {
        this.reserve(8);
        new DataView(this.buffer.buffer).setFloat64(this.length, v.value, true);
        this.length += 8;
        return;
      }
      case TType.Binary:
        this.writeVarint(v.value.length);
        this.writeBytes(v.value);
        return;
      case TType.List:
      case TType.Set: {
        const { elementType, items } = v.value;
        if (items.length < 15) this.writeByte((items.length << 4) | elementType);
        else {
          this.writeByte(0xf0 | elementType);
          this.writeVarint(items.length);
        }
        for (const item of items) this.writeValue(item);
        return;
      }
      case TType.Map: {
        const { keyType, valueType, entries } = v.value;
        this.writeVarint(entries.length);
        if (entries.length === 0) return;
        this.writeByte((keyType << 4) | valueType);
        for (const [k, val] of entries) {
          this.writeValue(k);
          this.writeValue(val);
        }
        return;
      }
      case TType.Struct:
        if (v.encoded) this.writeBytes(v.encoded);
        else this.writeStruct(v.value);
        return;
    }
  }

  private reserve(n: number): void {
    if (this.length + n <= this.buffer.length) return;
    const grown = new Uint8Array(Math.max(this.buffer.length * 2, this.length + n));
    grown.set(this.buffer.subarray(0, this.length));
    this.buffer = grown;
  }

  private writeByte(b: number): void {
    this.reserve(1);
    this.buffer[this.length++] = b;
  }

  private writeBytes(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.buffer.set(bytes, this.length);
    this.length += bytes.length;
  }

  private writeVarint(n: number): void {
    let rest = n;
    while (rest >= 0x80) {
      this.writeByte((rest % 0x80) | 0x80);
      rest = Math.floor(rest / 0x80);
    }
    this.writeByte(rest);
  }

  private writeVarint64(n: bigint): void {
    let rest = n;
    while (rest >= 0x80n) {
      this.writeByte(Number(rest & 0x7fn) | 0x80);
      rest >>= 7n;
    }
    this.writeByte(Number(rest));
  }
}

/** Zigzag of a 32-bit signed integer, as a non-negative number. */
function zigzag32(n: number): number {
  return n >= 0 ? n * 2 : -n * 2 - 1;
}

/** The field `id` of a struct, or undefined. */
export function getField(struct: ThriftStruct, id: number): ThriftField | undefined {
  return struct.fields.find((f) => f.id === id);
}

/**
 * A struct already encoded (encodeStruct) as a value: written as those bytes. A compact-protocol
 * struct's field ids are relative to its own fields only, so its bytes fit anywhere a struct does.
 */
export function encodedStruct(bytes: Uint8Array): ThriftValue {
  return { type: TType.Struct, value: { fields: [] }, encoded: bytes };
}

/** Encodes one struct on its own. */
export function encodeStruct(struct: ThriftStruct): Uint8Array {
  const writer = new ThriftWriter();
  writer.writeStruct(struct);
  return writer.finish();
}
