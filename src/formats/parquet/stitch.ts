import { TType, ThriftReader, ThriftWriter, getField, type ThriftField, type ThriftStruct } from './thrift.js';

// Joins small Parquet files (each of one row group, or a few, encoded by different workers)
// into one: their column chunks are copied in order and a footer is written for the whole.
// Field numbers are those of apache/parquet-format src/main/thrift/parquet.thrift.

const MAGIC = new Uint8Array([0x50, 0x41, 0x52, 0x31]); // "PAR1"

/** FileMetaData */
const FILE_NUM_ROWS = 3;
const FILE_ROW_GROUPS = 4;
/** RowGroup */
const GROUP_COLUMNS = 1;
const GROUP_FILE_OFFSET = 5;
const GROUP_ORDINAL = 7;
/** ColumnChunk */
const CHUNK_FILE_OFFSET = 2;
const CHUNK_META_DATA = 3;
/** ColumnChunk 4–7: offset index and column index offsets and lengths (the page index). */
const CHUNK_PAGE_INDEX = new Set([4, 5, 6, 7]);
/** ColumnMetaData */
const META_TOTAL_COMPRESSED_SIZE = 7;
const META_DATA_PAGE_OFFSET = 9;
const META_INDEX_PAGE_OFFSET = 10;
const META_DICTIONARY_PAGE_OFFSET = 11;
const META_BLOOM_FILTER_OFFSET = 14;
const META_BLOOM_FILTER_LENGTH = 15;

/** One small file taken apart: its footer, and where its row groups' bytes lie in it. */
export interface ParquetPart {
  bytes: Uint8Array;
  meta: ThriftStruct;
  groups: { start: number; end: number; struct: ThriftStruct }[];
}

/** Reads a complete Parquet file's footer and finds each row group's byte range. */
export function readPart(bytes: Uint8Array): ParquetPart {
  const n = bytes.length;
  if (n < 12 || !startsWithMagic(bytes, 0) || !startsWithMagic(bytes, n - 4)) throw new Error('a part is not a Parquet file');
  const footerLength = new DataView(bytes.buffer, bytes.byteOffset + n - 8, 4).getUint32(0, true);
  const footerStart = n - 8 - footerLength;
  if (footerStart < 4) throw new Error('a part\'s footer length is past its start');
  const reader = new ThriftReader(bytes.subarray(0, n - 8), footerStart);
  const meta = reader.readStruct();
  const groups = listOf(meta, FILE_ROW_GROUPS).map((struct) => {
    let start = Infinity;
    let end = 0;
    for (const chunk of listOf(struct, GROUP_COLUMNS)) {
      const cm = structOf(chunk, CHUNK_META_DATA);
      const dictionary = i64Of(cm, META_DICTIONARY_PAGE_OFFSET);
      const first = Number(dictionary !== undefined && dictionary > 0n ? dictionary : i64Of(cm, META_DATA_PAGE_OFFSET) ?? -1n);
      const size = Number(i64Of(cm, META_TOTAL_COMPRESSED_SIZE) ?? -1n);
      if (first < 4 || size < 0 || first + size > footerStart) throw new Error('a part\'s column chunk lies outside its data');
      start = Math.min(start, first);
      end = Math.max(end, first + size);
    }
    if (start === Infinity) start = end = 4;
    return { start, end, struct };
  });
  return { bytes, meta, groups };
}

/**
 * The file being stitched: `begin()` gives the leading magic, `add(part)` the part's row-group
 * bytes to append (views of the part), `finish()` the footer. Row groups keep the order parts
 * are added in. Each column chunk's page offsets move by (new − old) position; the page index
 * (written by parquet-wasm after the chunks) and bloom filters are not copied, so their fields
 * are dropped. version, schema, key_value_metadata (ARROW:schema), created_by, column_orders
 * and any field unknown here come from the first part, row groups are renumbered and rows summed.
 */
export class ParquetStitcher {
  private position = 0;
  private first: ThriftStruct | null = null;
  private readonly rowGroups: ThriftStruct[] = [];
  private numRows = 0n;

  /** Whether a part was added (an empty one counts). */
  get hasParts(): boolean {
    return this.first !== null;
  }

  begin(): Uint8Array {
    this.position = MAGIC.length;
    return MAGIC.slice();
  }

  add(part: ParquetPart): Uint8Array[] {
    this.first ??= part.meta;
    const out: Uint8Array[] = [];
    for (const group of part.groups) {
      const shift = BigInt(this.position - group.start);
      this.rowGroups.push(moveRowGroup(group.struct, shift, this.rowGroups.length));
      this.numRows += i64Of(group.struct, 3) ?? 0n;
      out.push(part.bytes.subarray(group.start, group.end));
      this.position += group.end - group.start;
    }
    return out;
  }

  /** The footer: FileMetaData, its length and the closing magic. */
  finish(): Uint8Array {
    if (!this.first) throw new Error('internal: a stitched Parquet file needs at least one part');
    const fields = this.first.fields.map((f): ThriftField => {
      if (f.id === FILE_NUM_ROWS) return { id: f.id, type: TType.I64, value: this.numRows };
      if (f.id === FILE_ROW_GROUPS) {
        return { id: f.id, type: TType.List, value: { elementType: TType.Struct, items: this.rowGroups.map((g) => ({ type: TType.Struct, value: g })) } };
      }
      return f;
    });
    const writer = new ThriftWriter();
    writer.writeStruct({ fields });
    const meta = writer.finish();
    const out = new Uint8Array(meta.length + 8);
    out.set(meta);
    new DataView(out.buffer).setUint32(meta.length, meta.length, true);
    out.set(MAGIC, meta.length + 4);
    return out;
  }
}

/** A row group placed `shift` bytes later in the stitched file, as number `ordinal`. */
function moveRowGroup(group: ThriftStruct, shift: bigint, ordinal: number): ThriftStruct {
  const fields = group.fields.map((f): ThriftField => {
    if (f.id === GROUP_COLUMNS && f.type === TType.List) {
      const items = f.value.items.map((item) => (item.type === TType.Struct ? { type: TType.Struct, value: moveColumnChunk(item.value, shift) } as const : item));
      return { ...f, value: { elementType: f.value.elementType, items } };
    }
    if (f.id === GROUP_FILE_OFFSET) return shiftI64(f, shift);
    if (f.id === GROUP_ORDINAL) return { id: f.id, type: TType.I16, value: ordinal };
    return f;
  });
  return { fields };
}

function moveColumnChunk(chunk: ThriftStruct, shift: bigint): ThriftStruct {
  const fields: ThriftField[] = [];
  for (const f of chunk.fields) {
    if (CHUNK_PAGE_INDEX.has(f.id)) continue;
    if (f.id === CHUNK_FILE_OFFSET && f.type === TType.I64 && f.value !== 0n) fields.push(shiftI64(f, shift));
    else if (f.id === CHUNK_META_DATA && f.type === TType.Struct) fields.push({ ...f, value: moveColumnMeta(f.value, shift) });
    else fields.push(f);
  }
  return { fields };
}

function moveColumnMeta(meta: ThriftStruct, shift: bigint): ThriftStruct {
  const fields: ThriftField[] = [];
  for (const f of meta.fields) {
    if (f.id === META_BLOOM_FILTER_OFFSET || f.id === META_BLOOM_FILTER_LENGTH) continue;
    if (f.id === META_DATA_PAGE_OFFSET || f.id === META_INDEX_PAGE_OFFSET || f.id === META_DICTIONARY_PAGE_OFFSET) fields.push(shiftI64(f, shift));
    else fields.push(f);
  }
  return { fields };
}

function shiftI64(f: ThriftField, shift: bigint): ThriftField {
  return f.type === TType.I64 ? { id: f.id, type: TType.I64, value: f.value + shift } : f;
}

function listOf(struct: ThriftStruct, id: number): ThriftStruct[] {
  const f = getField(struct, id);
  if (!f || f.type !== TType.List) return [];
  return f.value.items.flatMap((item) => (item.type === TType.Struct ? [item.value] : []));
}

function structOf(struct: ThriftStruct, id: number): ThriftStruct {
  const f = getField(struct, id);
  if (!f || f.type !== TType.Struct) throw new Error(`a part's footer lacks struct field ${id}`);
  return f.value;
}

function i64Of(struct: ThriftStruct, id: number): bigint | undefined {
  const f = getField(struct, id);
  return f && f.type === TType.I64 ? f.value : undefined;
}

function startsWithMagic(bytes: Uint8Array, at: number): boolean {
  return MAGIC.every((b, i) => bytes[at + i] === b);
}
