import { isUtf8 } from 'node:buffer';
import { ExportError } from '../../errors.js';
import type { ColumnView } from '../../table/columns.js';
import type { Compress } from './codecs.js';
import { buildInt64Dictionary, buildStringDictionary, writeDictionaryValues, type Int64Dictionary, type StringDictionary } from './dictionary.js';
import { bitWidthOf, maxBitPackedBytes, maxDefinitionLevelBytes, writeBitPacked, writeDefinitionLevels, writeUVarint } from './hybrid.js';
import { maxDeltaInt64Bytes, maxDeltaLengthBytes, writeDeltaInt64, writeDeltaLengthByteArray } from './delta-values.js';
import { emptyMinMax, statisticBytes, writePlainBoolean, writePlainDouble, writePlainInt32, writePlainInt64, type MinMax } from './plain.js';

// One column chunk of a row group (apache/parquet-format README "Column chunks", "Data Pages"):
// an optional dictionary page, then data pages v1, each a PageHeader (Thrift compact) and its
// compressed body: definition levels (4-byte length, hybrid encoding; every column is OPTIONAL,
// as arrow-rs writes nullable Arrow fields) followed by the values.

/** parquet.thrift Encoding */
export const ENCODING = { PLAIN: 0, RLE: 3, DELTA_BINARY_PACKED: 5, DELTA_LENGTH_BYTE_ARRAY: 6, RLE_DICTIONARY: 8 } as const;
/** parquet.thrift PageType */
const PAGE = { DATA: 0, DICTIONARY: 2 } as const;
/** A data page holds about this many bytes of values before compression (arrow-rs's default limit). */
const PAGE_BYTES = 1 << 20;

/** How a canonical column is stored: its PLAIN value layout. */
export type ValueKind = 'i64' | 'f64' | 'i32' | 'bool' | 'bytes';

/** What the footer needs of a column chunk; offsets are from the row group's first byte. */
export interface ColumnChunkInfo {
  encodings: number[];
  /** Rows, nulls included (ColumnMetaData.num_values). */
  numValues: number;
  uncompressed: number;
  compressed: number;
  dataPageOffset: number;
  /** -1: no dictionary page. */
  dictionaryPageOffset: number;
  /** null: no statistics for this column (text, as the parquet-wasm path writes it). */
  nullCount: number | null;
  min: Uint8Array | null;
  max: Uint8Array | null;
  /** PageEncodingStats: [page type, encoding, pages]. */
  pageStats: [number, number, number][];
}

/** The bytes of a row group as they are made: pages appended, their positions counted. */
export class ChunkOutput {
  pieces: Uint8Array[] = [];
  length = 0;
  /** Scratch for one uncompressed page, grown as needed and reused. */
  private scratch = new Uint8Array(1 << 16);

  constructor(private readonly compress: Compress, private readonly copyPages: boolean) {}

  /** Starts the next row group (the scratch is kept). */
  reset(): void {
    this.pieces = [];
    this.length = 0;
  }

  page(bytes: number): Uint8Array {
    if (this.scratch.length < bytes) this.scratch = new Uint8Array(Math.max(bytes, this.scratch.length * 2));
    return this.scratch;
  }

  /** Compresses the page body scratch[0..size) and appends header and body; returns [uncompressed, compressed] sizes with the header. */
  addPage(size: number, header: (compressed: number) => Uint8Array): [number, number] {
    const raw = this.scratch.subarray(0, size);
    let body = this.compress(raw);
    if (body === raw || this.copyPages) body = body.slice();
    const head = header(body.length);
    this.pieces.push(head, body);
    this.length += head.length + body.length;
    return [head.length + size, head.length + body.length];
  }
}

/** A data page v1 or dictionary page header (PageHeader and its DataPageHeader or DictionaryPageHeader), every field an i32. */
function pageHeader(pageType: number, uncompressed: number, compressed: number, numValues: number, encoding: number): Uint8Array {
  const out = new Uint8Array(40);
  let pos = 0;
  const i32 = (delta: number, n: number): void => {
    out[pos++] = (delta << 4) | 5;
    pos = writeUVarint(out, pos, n * 2); // zigzag of a non-negative number
  };
  i32(1, pageType);
  i32(1, uncompressed);
  i32(1, compressed);
  if (pageType === PAGE.DATA) {
    out[pos++] = (2 << 4) | 12; // field 5: data_page_header
    i32(1, numValues);
    i32(1, encoding);
    i32(1, ENCODING.RLE); // definition_level_encoding
    i32(1, ENCODING.RLE); // repetition_level_encoding
  } else {
    out[pos++] = (4 << 4) | 12; // field 7: dictionary_page_header
    i32(1, numValues);
    i32(1, encoding);
  }
  out[pos++] = 0;
  out[pos++] = 0;
  return out.subarray(0, pos);
}

const POPCOUNT = new Uint8Array(256).map((_, b) => { let n = 0; for (let x = b; x; x >>= 1) n += x & 1; return n; });

/** Non-null rows among start..end-1. */
function countValid(col: ColumnView, start: number, end: number): number {
  const v = col.validity;
  if (v === null) return end - start;
  let n = 0;
  let bit = col.bitOffset + start;
  const stop = col.bitOffset + end;
  while (bit < stop && (bit & 7) !== 0) { n += (v[bit >> 3] >> (bit & 7)) & 1; bit++; }
  const byte = bit >> 3;
  const whole = (stop - bit) >> 3;
  for (let k = 0; k < whole; k++) n += POPCOUNT[v[byte + k]];
  bit += whole << 3;
  while (bit < stop) { n += (v[bit >> 3] >> (bit & 7)) & 1; bit++; }
  return n;
}

/**
 * Writes one data page of rows start..end-1 with `values` writing the values; returns their
 * sizes. `encoding` is read once the values are written (they may choose it).
 */
function writeDataPage(out: ChunkOutput, col: ColumnView, start: number, end: number, valueBytes: number, encoding: number | (() => number),
  values: (page: Uint8Array, pos: number) => number): [number, number] {
  const rows = end - start;
  const page = out.page(4 + maxDefinitionLevelBytes(rows) + valueBytes);
  const levelsEnd = writeDefinitionLevels(col.validity, col.bitOffset + start, rows, page, 4);
  new DataView(page.buffer, page.byteOffset, 4).setInt32(0, levelsEnd - 4, true);
  const size = values(page, levelsEnd);
  const used = typeof encoding === 'number' ? encoding : encoding();
  return out.addPage(size, (compressed) => pageHeader(PAGE.DATA, size, compressed, rows, used));
}

/** Row ranges of a chunk's data pages: about PAGE_BYTES of values each. */
function pageRanges(col: ColumnView, kind: ValueKind): [number, number][] {
  const n = col.length;
  const ranges: [number, number][] = [];
  if (kind === 'bytes') {
    // Each page ends at the last row that keeps it within PAGE_BYTES (found by halving: the
    // bytes of rows start..i grow with i), at least one row a page.
    const offsets = col.offsets as Int32Array;
    const bytesOf = (start: number, end: number): number => offsets[end] - offsets[start] + 4 * (end - start);
    let start = 0;
    while (bytesOf(start, n) > PAGE_BYTES) {
      let lo = start + 1;
      let hi = n;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (bytesOf(start, mid) <= PAGE_BYTES) lo = mid;
        else hi = mid - 1;
      }
      ranges.push([start, lo]);
      start = lo;
    }
    ranges.push([start, n]);
    return ranges;
  }
  const rowsPerPage = kind === 'bool' ? 8 * PAGE_BYTES : PAGE_BYTES / (kind === 'i32' ? 4 : 8);
  for (let start = 0; start < n; start += rowsPerPage) ranges.push([start, Math.min(n, start + rowsPerPage)]);
  if (ranges.length === 0) ranges.push([0, 0]);
  return ranges;
}

/** Encodes the column chunk of a whole (chunk) column at out's current end. */
export function writeColumnChunk(out: ChunkOutput, col: ColumnView, kind: ValueKind, name: string, firstRow: number): ColumnChunkInfo {
  if (kind === 'bytes') {
    checkUtf8(col, name, firstRow);
    const dictionary = buildStringDictionary(col);
    if (dictionary !== null) return writeDictionaryChunk(out, col, stringDictionary(col, dictionary), null);
  } else if (kind === 'i64') {
    // Integers, time stamps and times with few distinct values (codes, small counts).
    const dictionary = buildInt64Dictionary(col);
    if (dictionary !== null) return writeDictionaryChunk(out, col, int64Dictionary(dictionary), int64DictionaryMinMax(dictionary));
  }
  const begin = out.length;
  const mm = emptyMinMax();
  let uncompressed = 0;
  let compressed = 0;
  const pages = new Map<number, number>();
  for (const [start, end] of pageRanges(col, kind)) {
    const [u, c, encoding] = writeValuesPage(out, col, kind, start, end, mm);
    uncompressed += u;
    compressed += c;
    pages.set(encoding, (pages.get(encoding) ?? 0) + 1);
  }
  const nullCount = col.length - countValid(col, 0, col.length);
  const stats = kind !== 'bytes';
  const statKind = kind === 'bytes' ? 'i32' : kind;
  return {
    encodings: [...new Set([...pages.keys(), ENCODING.RLE])].sort((a, b) => a - b),
    numValues: col.length,
    uncompressed,
    compressed,
    dataPageOffset: begin,
    dictionaryPageOffset: -1,
    nullCount: stats ? nullCount : null,
    min: stats && mm.seen ? statisticBytes(statKind, mm, 'min') : null,
    max: stats && mm.seen ? statisticBytes(statKind, mm, 'max') : null,
    pageStats: [...pages].map(([encoding, count]) => [PAGE.DATA, encoding, count]),
  };
}

/**
 * One data page of rows start..end-1: 64-bit integers DELTA_BINARY_PACKED when their steps are
 * small (else PLAIN), strings DELTA_LENGTH_BYTE_ARRAY, the rest PLAIN. Returns its sizes and encoding.
 */
function writeValuesPage(out: ChunkOutput, col: ColumnView, kind: ValueKind, start: number, end: number, mm: MinMax): [number, number, number] {
  const rows = end - start;
  const plain = (sizes: [number, number]): [number, number, number] => [sizes[0], sizes[1], ENCODING.PLAIN];
  switch (kind) {
    case 'i64': {
      let encoding: number = ENCODING.DELTA_BINARY_PACKED;
      const sizes = writeDataPage(out, col, start, end, Math.max(8 * rows, maxDeltaInt64Bytes(rows)), () => encoding, (p, at) => {
        const delta = writeDeltaInt64(col, start, end, p, at, mm);
        if (delta >= 0) return delta;
        encoding = ENCODING.PLAIN;
        return writePlainInt64(col, start, end, p, at, mm);
      });
      return [sizes[0], sizes[1], encoding];
    }
    case 'f64': return plain(writeDataPage(out, col, start, end, 8 * rows, ENCODING.PLAIN, (p, at) => writePlainDouble(col, start, end, p, at, mm)));
    case 'i32': return plain(writeDataPage(out, col, start, end, 4 * rows, ENCODING.PLAIN, (p, at) => writePlainInt32(col, start, end, p, at, mm)));
    case 'bool': return plain(writeDataPage(out, col, start, end, Math.ceil(rows / 8), ENCODING.PLAIN, (p, at) => writePlainBoolean(col, start, end, p, at, mm)));
    case 'bytes': {
      if (countValid(col, start, end) === 0) {
        return plain(writeDataPage(out, col, start, end, 0, ENCODING.PLAIN, (_p, at) => at));
      }
      const sizes = writeDataPage(out, col, start, end, maxDeltaLengthBytes(col, start, end), ENCODING.DELTA_LENGTH_BYTE_ARRAY,
        (p, at) => writeDeltaLengthByteArray(col, start, end, p, at));
      return [sizes[0], sizes[1], ENCODING.DELTA_LENGTH_BYTE_ARRAY];
    }
  }
}

/** A column chunk's dictionary, whatever its values: the rows' indices and how to write the values. */
interface Dictionary {
  indices: Int32Array;
  /** Non-null rows. */
  count: number;
  size: number;
  plainBytes: number;
  writeValues(page: Uint8Array, pos: number): number;
}

function stringDictionary(col: ColumnView, d: StringDictionary): Dictionary {
  return { ...d, writeValues: (page, pos) => writeDictionaryValues(d, col.values as Uint8Array, page, pos) };
}

function int64Dictionary(d: Int64Dictionary): Dictionary {
  return {
    indices: d.indices,
    count: d.count,
    size: d.size,
    plainBytes: 8 * d.size,
    writeValues(page, pos) {
      const view = new DataView(page.buffer, page.byteOffset, page.length);
      for (let e = 0; e < d.size; e++) {
        view.setInt32(pos, d.lo[e], true);
        view.setInt32(pos + 4, d.hi[e], true);
        pos += 8;
      }
      return pos;
    },
  };
}

/** Min and max of a 64-bit dictionary's values: those of the column. */
function int64DictionaryMinMax(d: Int64Dictionary): MinMax {
  const mm = emptyMinMax();
  for (let e = 0; e < d.size; e++) {
    const lo = d.lo[e];
    const hi = d.hi[e];
    if (!mm.seen) {
      mm.minLo = mm.maxLo = lo; mm.minHi = mm.maxHi = hi; mm.seen = true;
      continue;
    }
    if (hi < mm.minHi || (hi === mm.minHi && (lo >>> 0) < (mm.minLo >>> 0))) { mm.minHi = hi; mm.minLo = lo; }
    if (hi > mm.maxHi || (hi === mm.maxHi && (lo >>> 0) > (mm.maxLo >>> 0))) { mm.maxHi = hi; mm.maxLo = lo; }
  }
  return mm;
}

/** A dictionary page and one data page of RLE_DICTIONARY indices (bit width byte, then one bit-packed run). */
function writeDictionaryChunk(out: ChunkOutput, col: ColumnView, dictionary: Dictionary, mm: MinMax | null): ColumnChunkInfo {
  const begin = out.length;
  const dictPage = out.page(dictionary.plainBytes);
  const dictSize = dictionary.writeValues(dictPage, 0);
  const [du, dc] = out.addPage(dictSize, (compressed) => pageHeader(PAGE.DICTIONARY, dictSize, compressed, dictionary.size, ENCODING.PLAIN));
  const dataPageOffset = out.length;
  const width = bitWidthOf(Math.max(0, dictionary.size - 1));
  const [u, c] = writeDataPage(out, col, 0, col.length, 1 + maxBitPackedBytes(dictionary.count, width), ENCODING.RLE_DICTIONARY, (p, at) => {
    p[at] = width;
    return writeBitPacked(dictionary.indices, dictionary.count, width, p, at + 1);
  });
  return {
    encodings: [ENCODING.PLAIN, ENCODING.RLE, ENCODING.RLE_DICTIONARY],
    numValues: col.length,
    uncompressed: du + u,
    compressed: dc + c,
    dataPageOffset,
    dictionaryPageOffset: begin,
    nullCount: mm === null ? null : col.length - dictionary.count,
    min: mm?.seen ? statisticBytes('i64', mm, 'min') : null,
    max: mm?.seen ? statisticBytes('i64', mm, 'max') : null,
    pageStats: [[PAGE.DATA, ENCODING.RLE_DICTIONARY, 1], [PAGE.DICTIONARY, ENCODING.PLAIN, 1]],
  };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A Parquet STRING column holds UTF-8 only. The column's bytes are checked at once: valid
 * UTF-8 throughout, and no value starting with a continuation byte (a character cut between two
 * values), means every value is valid. Otherwise each value is checked to name the row.
 */
function checkUtf8(col: ColumnView, name: string, firstRow: number): void {
  const bytes = col.values as Uint8Array;
  const offsets = col.offsets as Int32Array;
  const n = col.length;
  if (n === 0) return;
  let ok = isUtf8(bytes.subarray(offsets[0], offsets[n]));
  for (let i = 0; ok && i < n; i++) {
    if (offsets[i + 1] > offsets[i] && (bytes[offsets[i]] & 0xc0) === 0x80) ok = false;
  }
  if (ok) return;
  for (let i = 0; i < n; i++) {
    if (col.validity !== null) {
      const bit = col.bitOffset + i;
      if (((col.validity[bit >> 3] >> (bit & 7)) & 1) === 0) continue;
    }
    try {
      utf8.decode(bytes.subarray(offsets[i], offsets[i + 1]));
    } catch {
      throw new ExportError('VALUE_OUT_OF_RANGE',
        'the text is not valid UTF-8, and a Parquet STRING column holds UTF-8 only; fix the text in the source',
        { format: 'parquet', column: name, row: firstRow + i });
    }
  }
}
