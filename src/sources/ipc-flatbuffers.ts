/**
 * A bounds check of the flatbuffers in an Arrow IPC input (message metadata, the file footer),
 * run before apache-arrow decodes them. Its decoder trusts every offset and vector length it
 * reads, and a read past the end yields 0 instead of an error, so one damaged vector length
 * (a `nodes` count of 4 billion) is a loop of billions of steps that blocks the process. This
 * walks exactly the tables arrow-js reads (Message.fbs, Schema.fbs, File.fbs) as the
 * flatbuffers verifier does: every table, vtable, string and vector inside the bytes, nesting
 * and the number of tables bounded.
 */

/** A field of a table: a scalar of that many bytes, a string, a table, or a vector of them. */
type Slot =
  | 1 | 2 | 4 | 8
  | 'string'
  | { readonly table: TableSpec }
  | { readonly tables: TableSpec }
  | { readonly structs: number }
  | { readonly union: number; readonly members: Readonly<Record<number, TableSpec>> };

/** The slots of a table in field order (a vtable entry each). */
type TableSpec = readonly Slot[];

const EMPTY: TableSpec = [];
const KEY_VALUE: TableSpec = ['string', 'string'];
const INT: TableSpec = [4, 1]; // bitWidth, is_signed
const UNIT: TableSpec = [2]; // FloatingPoint precision, Date, Interval, Duration unit
const WIDTH: TableSpec = [4]; // FixedSizeBinary byteWidth, FixedSizeList listSize

/** Schema.fbs `union Type`, by type id; ids not listed are unknown to arrow-js too. */
const TYPES: Readonly<Record<number, TableSpec>> = {
  1: EMPTY, 2: INT, 3: UNIT, 4: EMPTY, 5: EMPTY, 6: EMPTY,
  7: [4, 4, 4], // Decimal: precision, scale, bitWidth
  8: UNIT,
  9: [2, 4], // Time: unit, bitWidth
  10: [2, 'string'], // Timestamp: unit, timezone
  11: UNIT, 12: EMPTY, 13: EMPTY,
  14: [2, { structs: 4 }], // Union: mode, typeIds
  15: WIDTH, 16: WIDTH,
  17: [1], // Map: keysSorted
  18: UNIT, 19: EMPTY, 20: EMPTY, 21: EMPTY, 22: EMPTY, 23: EMPTY, 24: EMPTY, 25: EMPTY, 26: EMPTY,
};

const DICTIONARY_ENCODING: TableSpec = [8, { table: INT }, 1, 2];
const FIELD: Slot[] = [];
// name, nullable, type_type, type, dictionary, children, custom_metadata
FIELD.push('string', 1, 1, { union: 2, members: TYPES }, { table: DICTIONARY_ENCODING }, { tables: FIELD }, { tables: KEY_VALUE });
const SCHEMA: TableSpec = [2, { tables: FIELD }, { tables: KEY_VALUE }, { structs: 8 }];
// length, nodes (FieldNode: 16 bytes), buffers (Buffer: 16 bytes), compression, variadicBufferCounts
const RECORD_BATCH: TableSpec = [8, { structs: 16 }, { structs: 16 }, { table: [1, 1] }, { structs: 8 }];
const DICTIONARY_BATCH: TableSpec = [8, { table: RECORD_BATCH }, 1];
// version, header_type, header, bodyLength, custom_metadata
const MESSAGE: TableSpec = [2, 1, { union: 1, members: { 1: SCHEMA, 2: DICTIONARY_BATCH, 3: RECORD_BATCH } }, 8, { tables: KEY_VALUE }];
// version, schema, dictionaries (Block: 24 bytes), recordBatches, custom_metadata
const FOOTER: TableSpec = [2, { table: SCHEMA }, { structs: 24 }, { structs: 24 }, { tables: KEY_VALUE }];

/** Deeper nesting than Arrow C++ accepts (64) is damage, or a cycle of tables. */
const MAX_DEPTH = 64;

class Malformed extends Error {}

class Verifier {
  private readonly view: DataView;
  private visits = 0;
  /**
   * A table takes at least 4 bytes, so n bytes hold at most n / 4 of them: more visits means
   * tables reached more than once (shared or cyclic offsets), which arrow-js would decode again
   * each time, exponentially.
   */
  private readonly maxVisits: number;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.maxVisits = Math.floor(bytes.byteLength / 4) + 1;
  }

  root(spec: TableSpec): void {
    this.table(this.offset(0, 'the root offset'), spec, 0);
  }

  private need(pos: number, size: number, what: string): void {
    if (pos < 0 || pos + size > this.bytes.byteLength) throw new Malformed(`${what} lies outside its ${this.bytes.byteLength} bytes`);
  }

  /** The position a uoffset at `pos` points to (forward only, as flatbuffers offsets are). */
  private offset(pos: number, what: string): number {
    this.need(pos, 4, what);
    return pos + this.view.getUint32(pos, true);
  }

  private table(pos: number, spec: TableSpec, depth: number): void {
    if (depth > MAX_DEPTH) throw new Malformed(`tables nest deeper than ${MAX_DEPTH} levels`);
    if (++this.visits > this.maxVisits) throw new Malformed('tables are reached more than once (shared or cyclic offsets)');
    this.need(pos, 4, 'a table');
    const vtable = pos - this.view.getInt32(pos, true);
    this.need(vtable, 4, 'a vtable');
    const vtableSize = this.view.getUint16(vtable, true);
    const tableSize = this.view.getUint16(vtable + 2, true);
    if (vtableSize < 4 || vtableSize % 2 !== 0) throw new Malformed(`a vtable has size ${vtableSize}`);
    this.need(vtable, vtableSize, 'a vtable');
    this.need(pos, Math.max(tableSize, 4), 'a table');
    const fieldAt = (slot: number): number => {
      const entry = 4 + 2 * slot;
      return entry + 2 <= vtableSize ? this.view.getUint16(vtable + entry, true) : 0;
    };
    spec.forEach((slot, index) => {
      const at = fieldAt(index);
      if (at === 0) return; // absent: the default
      const size = typeof slot === 'number' ? slot : 4;
      if (at + size > tableSize) throw new Malformed(`field ${index} of a table lies outside the table`);
      this.field(pos + at, slot, depth, (i) => (fieldAt(i) === 0 ? 0 : this.bytes[pos + fieldAt(i)]));
    });
  }

  private field(pos: number, slot: Slot, depth: number, unionType: (slot: number) => number): void {
    if (typeof slot === 'number') return;
    const target = this.offset(pos, 'an offset');
    if (slot === 'string') {
      this.vector(target, 1, 'a string');
      return;
    }
    if ('table' in slot) return this.table(target, slot.table, depth + 1);
    if ('structs' in slot) {
      this.vector(target, slot.structs, 'a vector');
      return;
    }
    if ('tables' in slot) {
      const n = this.vector(target, 4, 'a vector of tables');
      for (let i = 0; i < n; i++) this.table(this.offset(target + 4 + 4 * i, 'a vector element'), slot.tables, depth + 1);
      return;
    }
    const type = unionType(slot.union);
    const member = slot.members[type];
    if (member === undefined) throw new Malformed(`union member type ${type} is unknown`);
    this.table(target, member, depth + 1);
  }

  /** Checks a vector (or string) of `n` elements of `size` bytes at `pos`; returns n. */
  private vector(pos: number, size: number, what: string): number {
    this.need(pos, 4, what);
    const n = this.view.getUint32(pos, true);
    this.need(pos + 4, n * size, `${what} of ${n} elements`);
    return n;
  }
}

function verify(bytes: Uint8Array, spec: TableSpec): string | null {
  try {
    new Verifier(bytes).root(spec);
    return null;
  } catch (err) {
    if (err instanceof Malformed) return err.message;
    throw err;
  }
}

/** What is wrong with a message's metadata flatbuffer (the bytes after its length prefix), or null. */
export function checkMessageFlatbuffer(bytes: Uint8Array): string | null {
  return verify(bytes, MESSAGE);
}

/** What is wrong with an IPC file's footer flatbuffer, or null. */
export function checkFooterFlatbuffer(bytes: Uint8Array): string | null {
  return verify(bytes, FOOTER);
}
