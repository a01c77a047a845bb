import { isUtf8 } from 'node:buffer';
import { ExportError } from '../../errors.js';
import type { ColumnView } from '../../table/columns.js';
import type { Compress } from './codecs.js';
import { bitWidthOf, maxBitPackedBytes, maxDefinitionLevelBytes, writeUVarint } from './hybrid.js';
import { MIN_MAX, MINIBLOCK, threadArena, type Arena, type ColumnScratch, type WasmColumn } from './wasm/arena.js';

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

  /** The thread's arena, taken again at each row group (threadArena may have replaced an oversized one). */
  arena: Arena = threadArena();

  constructor(private readonly compress: Compress) {}

  /** Starts the next row group. */
  reset(): void {
    this.pieces = [];
    this.length = 0;
    this.arena = threadArena();
  }

  /** The address in the arena of scratch for one uncompressed page of at most `bytes` bytes. */
  page(bytes: number): number {
    return this.arena.page(bytes);
  }

  /** Compresses the page body at..at+size and appends header and body; returns [uncompressed, compressed] sizes with the header. */
  addPage(at: number, size: number, header: (compressed: number) => Uint8Array): [number, number] {
    const raw = this.arena.u8.subarray(at, at + size);
    let body = this.compress(raw);
    if (body === raw) body = body.slice(); // the arena's page is written again
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

/** The column being written: its copy in the arena and its scratch. */
interface Loaded {
  col: WasmColumn;
  scratch: ColumnScratch;
}

/**
 * Writes one data page of rows start..end-1 with `values` writing the values at the address it
 * is given (returning the address after them); returns the page's sizes. `encoding` is read
 * once the values are written (they may choose it).
 */
function writeDataPage(out: ChunkOutput, w: WasmColumn, start: number, end: number, valueBytes: number, encoding: number | (() => number),
  values: (at: number) => number): [number, number] {
  const rows = end - start;
  const page = out.page(4 + maxDefinitionLevelBytes(rows) + valueBytes);
  const levelsEnd = out.arena.x.definitionLevels(w.valid, w.bitOff, start, rows, page);
  const size = values(levelsEnd) - page;
  const used = typeof encoding === 'number' ? encoding : encoding();
  return out.addPage(page, size, (compressed) => pageHeader(PAGE.DATA, size, compressed, rows, used));
}

/** Row ranges of a chunk's data pages: about PAGE_BYTES of values each. */
function pageRanges(arena: Arena, w: WasmColumn, kind: ValueKind): [number, number][] {
  const n = w.n;
  const ranges: [number, number][] = [];
  if (kind === 'bytes') {
    // Each page ends at the last row that keeps it within PAGE_BYTES (found by halving: the
    // bytes of rows start..i grow with i), at least one row a page.
    const offsets = arena.int32(w.offs, n + 1);
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

/**
 * Encodes the column chunk of a row group's column, given as one or more consecutive parts (the
 * batches it came in), at out's current end.
 */
export function writeColumnChunk(out: ChunkOutput, parts: readonly ColumnView[], kind: ValueKind, name: string, firstRow: number): ColumnChunkInfo {
  const arena = out.arena;
  const { x } = arena;
  const loaded = arena.load(parts, kind);
  const { col: w, scratch: s } = loaded;
  if (kind === 'bytes') {
    checkUtf8(arena, w, name, firstRow);
    const size = x.stringDictionary(w.base, w.offs, w.valid, w.bitOff, w.n, s.indices, s.starts, s.entryLengths, s.hashes, s.slots);
    if (size >= 0) {
      return writeDictionaryChunk(out, w, {
        indices: s.indices, count: x.lastDictionaryCount(), size, plainBytes: x.lastDictionaryPlainBytes(),
        writeValues: (at) => x.stringDictionaryValues(w.base, s.starts, s.entryLengths, size, at),
      }, false);
    }
  } else if (kind === 'i64') {
    // Integers, time stamps and times with few distinct values (codes, small counts).
    const size = x.int64Dictionary(w.vals, w.valid, w.bitOff, w.n, s.indices, s.starts, s.slots);
    if (size >= 0) {
      x.int64DictionaryMinMax(s.starts, size, MIN_MAX);
      return writeDictionaryChunk(out, w, {
        indices: s.indices, count: x.lastDictionaryCount(), size, plainBytes: 8 * size,
        writeValues: (at) => {
          arena.u8.copyWithin(at, s.starts, s.starts + 8 * size);
          return at + 8 * size;
        },
      }, true);
    }
  }
  const begin = out.length;
  let uncompressed = 0;
  let compressed = 0;
  const pages = new Map<number, number>();
  for (const [start, end] of pageRanges(arena, w, kind)) {
    const [u, c, encoding] = writeValuesPage(out, loaded, kind, start, end);
    uncompressed += u;
    compressed += c;
    pages.set(encoding, (pages.get(encoding) ?? 0) + 1);
  }
  const stats = kind !== 'bytes';
  const minMax = kind === 'bytes' ? null : statistics(arena, kind);
  return {
    encodings: [...new Set([...pages.keys(), ENCODING.RLE])].sort((a, b) => a - b),
    numValues: w.n,
    uncompressed,
    compressed,
    dataPageOffset: begin,
    dictionaryPageOffset: -1,
    nullCount: stats ? w.n - x.countValid(w.valid, w.bitOff, 0, w.n) : null,
    min: minMax?.min ?? null,
    max: minMax?.max ?? null,
    pageStats: [...pages].map(([encoding, count]) => [PAGE.DATA, encoding, count]),
  };
}

/**
 * One data page of rows start..end-1: 64-bit integers DELTA_BINARY_PACKED when their steps are
 * small (else PLAIN), strings DELTA_LENGTH_BYTE_ARRAY, the rest PLAIN. Returns its sizes and encoding.
 */
function writeValuesPage(out: ChunkOutput, { col: w, scratch: s }: Loaded, kind: ValueKind, start: number, end: number): [number, number, number] {
  const { x } = out.arena;
  const rows = end - start;
  const plain = (sizes: [number, number]): [number, number, number] => [sizes[0], sizes[1], ENCODING.PLAIN];
  switch (kind) {
    case 'i64': {
      let encoding: number = ENCODING.DELTA_BINARY_PACKED;
      const sizes = writeDataPage(out, w, start, end, Math.max(8 * rows, maxDeltaBytes(rows)), () => encoding, (at) => {
        const delta = x.deltaInt64(w.vals, w.valid, w.bitOff, start, end, at, MIN_MAX, s.compact, s.deltas, MINIBLOCK);
        if (delta !== 0) return delta;
        encoding = ENCODING.PLAIN;
        return x.plainInt64(w.vals, w.valid, w.bitOff, start, end, at, MIN_MAX, s.compact);
      });
      return [sizes[0], sizes[1], encoding];
    }
    case 'f64': return plain(writeDataPage(out, w, start, end, 8 * rows, ENCODING.PLAIN, (at) => x.plainDouble(w.vals, w.valid, w.bitOff, start, end, at, MIN_MAX, s.compact)));
    case 'i32': return plain(writeDataPage(out, w, start, end, 4 * rows, ENCODING.PLAIN, (at) => x.plainInt32(w.vals, w.valid, w.bitOff, start, end, at, MIN_MAX)));
    case 'bool': return plain(writeDataPage(out, w, start, end, Math.ceil(rows / 8), ENCODING.PLAIN, (at) => x.plainBoolean(w.vals, w.valid, w.bitOff, start, end, at, MIN_MAX)));
    case 'bytes': {
      if (x.countValid(w.valid, w.bitOff, start, end) === 0) {
        return plain(writeDataPage(out, w, start, end, 0, ENCODING.PLAIN, (at) => at));
      }
      const offsets = out.arena.int32(w.offs, w.n + 1);
      const sizes = writeDataPage(out, w, start, end, maxDeltaBytes(rows) + offsets[end] - offsets[start], ENCODING.DELTA_LENGTH_BYTE_ARRAY,
        (at) => x.deltaLengthByteArray(w.base, w.offs, w.valid, w.bitOff, start, end, at, s.lengths, s.deltas, MINIBLOCK));
      return [sizes[0], sizes[1], ENCODING.DELTA_LENGTH_BYTE_ARRAY];
    }
  }
}

/** A column chunk's dictionary in the arena: the rows' indices, and how to write its values. */
interface Dictionary {
  indices: number;
  /** Non-null rows. */
  count: number;
  size: number;
  plainBytes: number;
  writeValues(at: number): number;
}

/** Most bytes DELTA_BINARY_PACKED takes for `count` values (the kernel's blocks of 128 in 4 miniblocks). */
function maxDeltaBytes(count: number): number {
  return 32 + Math.ceil(count / 128) * (10 + 4 + 128 * 4);
}

/** The PLAIN bytes of the min and max the kernel kept (MIN_MAX), as Statistics min_value/max_value hold them; null when no value was seen. */
function statistics(arena: Arena, kind: Exclude<ValueKind, 'bytes'>): { min: Uint8Array; max: Uint8Array } | null {
  const { seen, view } = arena.minMax();
  if (!seen) return null;
  const bytes = (at: number): Uint8Array => {
    switch (kind) {
      case 'i64': return new Uint8Array(view.buffer.slice(view.byteOffset + at, view.byteOffset + at + 8));
      case 'f64': {
        // parquet-format: a zero min is written as -0 and a zero max as +0, so either zero prunes right.
        const x = view.getFloat64(at, true);
        const out = new Uint8Array(8);
        new DataView(out.buffer).setFloat64(0, x === 0 ? (at === 8 ? -0 : 0) : x, true);
        return out;
      }
      case 'i32': return new Uint8Array(view.buffer.slice(view.byteOffset + at, view.byteOffset + at + 4));
      case 'bool': return new Uint8Array([view.getUint8(at)]);
    }
  };
  return { min: bytes(8), max: bytes(16) };
}

/** A dictionary page and one data page of RLE_DICTIONARY indices (bit width byte, then one bit-packed run). */
function writeDictionaryChunk(out: ChunkOutput, w: WasmColumn, dictionary: Dictionary, withStatistics: boolean): ColumnChunkInfo {
  const { arena } = out;
  const begin = out.length;
  const dictPage = out.page(dictionary.plainBytes);
  const dictSize = dictionary.writeValues(dictPage) - dictPage;
  const [du, dc] = out.addPage(dictPage, dictSize, (compressed) => pageHeader(PAGE.DICTIONARY, dictSize, compressed, dictionary.size, ENCODING.PLAIN));
  const dataPageOffset = out.length;
  const width = bitWidthOf(Math.max(0, dictionary.size - 1));
  const [u, c] = writeDataPage(out, w, 0, w.n, 1 + maxBitPackedBytes(dictionary.count, width), ENCODING.RLE_DICTIONARY, (at) => {
    arena.u8[at] = width;
    return arena.x.bitPackedRun(dictionary.indices, dictionary.count, width, at + 1);
  });
  const stats = withStatistics ? statistics(arena, 'i64') : null;
  return {
    encodings: [ENCODING.PLAIN, ENCODING.RLE, ENCODING.RLE_DICTIONARY],
    numValues: w.n,
    uncompressed: du + u,
    compressed: dc + c,
    dataPageOffset,
    dictionaryPageOffset: begin,
    nullCount: withStatistics ? w.n - dictionary.count : null,
    min: stats?.min ?? null,
    max: stats?.max ?? null,
    pageStats: [[PAGE.DATA, ENCODING.RLE_DICTIONARY, 1], [PAGE.DICTIONARY, ENCODING.PLAIN, 1]],
  };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A Parquet STRING column holds UTF-8 only. The column's bytes are checked at once: valid
 * UTF-8 throughout, and no value starting with a continuation byte (a character cut between two
 * values), means every value is valid. Otherwise each value is checked to name the row.
 */
function checkUtf8(arena: Arena, w: WasmColumn, name: string, firstRow: number): void {
  const n = w.n;
  if (n === 0) return;
  const offsets = arena.int32(w.offs, n + 1);
  const bytes = arena.u8.subarray(w.base, w.base + offsets[n]);
  if (isUtf8(bytes) && arena.x.cutCharacter(w.base, w.offs, n) === 0) return;
  for (let i = 0; i < n; i++) {
    if (w.valid !== 0) {
      const bit = w.bitOff + i;
      if (((arena.u8[w.valid + (bit >> 3)] >> (bit & 7)) & 1) === 0) continue;
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
