import type { ColumnView } from '../../table/columns.js';

// A dictionary for one string column chunk (apache/parquet-format Encodings.md, "Dictionary
// Encoding"): each distinct value once in a PLAIN dictionary page, the rows as indices into it.
// Worth it for repetitive text (codes, categories) and only there: free text would hash every
// value to find no repeats, so the build gives up early when values keep being new.

/** Give up once the dictionary's values take this many bytes (arrow-rs's dictionary page limit). */
const MAX_DICTIONARY_BYTES = 1 << 20;
/** After this many values, more than half of them distinct means free text: give up. */
const PROBE_VALUES = 2048;

export interface StringDictionary {
  /** Per non-null row in order, its value's index in the dictionary. */
  indices: Int32Array;
  /** Non-null rows. */
  count: number;
  /** Where each distinct value lies in the column's bytes. */
  starts: Int32Array;
  lengths: Int32Array;
  size: number;
  /** PLAIN bytes of the dictionary page (4-byte length + bytes per value). */
  plainBytes: number;
}

/**
 * Indices of the dictionary being built, kept from one column chunk to the next (a thread
 * encodes one chunk at a time and each is written out before the next is built): a row
 * group's worth per column made and dropped otherwise, which a worker's collector let pile up.
 */
let indexScratch = new Int32Array(1 << 16);

function indexBuffer(n: number): Int32Array {
  if (indexScratch.length < n) indexScratch = new Int32Array(n);
  return indexScratch;
}

/** The dictionary of rows 0..col.length-1 of a string column, or null when it does not pay. */
export function buildStringDictionary(col: ColumnView): StringDictionary | null {
  const bytes = col.values as Uint8Array;
  const offsets = col.offsets as Int32Array;
  const validity = col.validity;
  const n = col.length;
  const indices = indexBuffer(n);
  const words = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let capacity = 1024;
  let starts = new Int32Array(capacity);
  let lengths = new Int32Array(capacity);
  let hashes = new Int32Array(capacity);
  let slots = new Int32Array(capacity * 2); // entry + 1; 0 = empty
  let mask = slots.length - 1;
  let size = 0;
  let plainBytes = 0;
  let count = 0;
  for (let i = 0; i < n; i++) {
    if (validity !== null) {
      const bit = col.bitOffset + i;
      if (((validity[bit >> 3] >> (bit & 7)) & 1) === 0) continue;
    }
    const from = offsets[i];
    const length = offsets[i + 1] - from;
    const h = hashBytes(bytes, words, from, length);
    let slot = h & mask;
    let found = -1;
    for (;;) {
      const entry = slots[slot] - 1;
      if (entry < 0) break;
      if (hashes[entry] === h && lengths[entry] === length && sameBytes(bytes, words, starts[entry], from, length)) {
        found = entry;
        break;
      }
      slot = (slot + 1) & mask;
    }
    if (found < 0) {
      found = size++;
      plainBytes += 4 + length;
      if (plainBytes > MAX_DICTIONARY_BYTES) return null;
      if (found === capacity) {
        capacity *= 2;
        starts = grow(starts, capacity);
        lengths = grow(lengths, capacity);
        hashes = grow(hashes, capacity);
        slots = new Int32Array(capacity * 2);
        mask = slots.length - 1;
        for (let e = 0; e < found; e++) {
          let s = hashes[e] & mask;
          while (slots[s] !== 0) s = (s + 1) & mask;
          slots[s] = e + 1;
        }
        slot = h & mask;
        while (slots[slot] !== 0) slot = (slot + 1) & mask;
      }
      starts[found] = from;
      lengths[found] = length;
      hashes[found] = h;
      slots[slot] = found + 1;
    }
    indices[count++] = found;
    if (count === PROBE_VALUES && size * 2 > count) return null;
  }
  // A dictionary barely smaller than its rows saves nothing and costs a lookup per value.
  if (size === 0 || size * (count >= PROBE_VALUES ? 4 : 2) > count) return null;
  return { indices, count, starts, lengths, size, plainBytes };
}

/**
 * A hash of bytes from..from+length-1, a word at a time (a byte at a time took ~8 % of a parquet
 * row group's encoding), mixed at the end so the low bits the table uses depend on every byte.
 * Only where values land in the table depends on it, never the dictionary's order.
 */
function hashBytes(bytes: Uint8Array, words: DataView, from: number, length: number): number {
  let h = 0x811c9dc5 ^ length;
  let k = 0;
  for (; k + 4 <= length; k += 4) {
    h = Math.imul(h ^ words.getUint32(from + k, true), 0x01000193);
    h ^= h >>> 15;
  }
  for (; k < length; k++) h = Math.imul(h ^ bytes[from + k], 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

function sameBytes(bytes: Uint8Array, words: DataView, a: number, b: number, length: number): boolean {
  let k = 0;
  for (; k + 4 <= length; k += 4) if (words.getUint32(a + k, true) !== words.getUint32(b + k, true)) return false;
  for (; k < length; k++) if (bytes[a + k] !== bytes[b + k]) return false;
  return true;
}

function grow(array: Int32Array<ArrayBuffer>, capacity: number): Int32Array<ArrayBuffer> {
  const grown = new Int32Array(capacity);
  grown.set(array);
  return grown;
}

/** The dictionary page's PLAIN values at out[pos]; returns the position after them. */
export function writeDictionaryValues(dictionary: StringDictionary, bytes: Uint8Array, out: Uint8Array, pos: number): number {
  const { starts, lengths, size } = dictionary;
  for (let e = 0; e < size; e++) {
    const length = lengths[e];
    new DataView(out.buffer, out.byteOffset + pos, 4).setInt32(0, length, true);
    pos += 4;
    out.set(bytes.subarray(starts[e], starts[e] + length), pos);
    pos += length;
  }
  return pos;
}

/** A dictionary of a 64-bit integer column chunk (int64, timestamps, times): values as 32-bit halves. */
export interface Int64Dictionary {
  indices: Int32Array;
  count: number;
  lo: Int32Array;
  hi: Int32Array;
  size: number;
}

/**
 * The dictionary of a 64-bit integer column, or null when its values are mostly distinct
 * (row numbers, amounts, time stamps): the same early give-up as for text.
 */
export function buildInt64Dictionary(col: ColumnView): Int64Dictionary | null {
  const src = col.values as BigInt64Array;
  const words = new Int32Array(src.buffer, src.byteOffset, src.length * 2);
  const validity = col.validity;
  const n = col.length;
  const indices = indexBuffer(n);
  let capacity = 1024;
  let lo = new Int32Array(capacity);
  let hi = new Int32Array(capacity);
  let slots = new Int32Array(capacity * 2);
  let mask = slots.length - 1;
  let size = 0;
  let count = 0;
  for (let i = 0; i < n; i++) {
    if (validity !== null) {
      const bit = col.bitOffset + i;
      if (((validity[bit >> 3] >> (bit & 7)) & 1) === 0) continue;
    }
    const l = words[2 * i];
    const h = words[2 * i + 1];
    let slot = hashPair(l, h) & mask;
    let found = -1;
    for (;;) {
      const entry = slots[slot] - 1;
      if (entry < 0) break;
      if (lo[entry] === l && hi[entry] === h) {
        found = entry;
        break;
      }
      slot = (slot + 1) & mask;
    }
    if (found < 0) {
      found = size++;
      if (8 * size > MAX_DICTIONARY_BYTES) return null;
      if (found === capacity) {
        capacity *= 2;
        lo = grow(lo, capacity);
        hi = grow(hi, capacity);
        slots = new Int32Array(capacity * 2);
        mask = slots.length - 1;
        for (let e = 0; e < found; e++) {
          let s = hashPair(lo[e], hi[e]) & mask;
          while (slots[s] !== 0) s = (s + 1) & mask;
          slots[s] = e + 1;
        }
        slot = hashPair(l, h) & mask;
        while (slots[slot] !== 0) slot = (slot + 1) & mask;
      }
      lo[found] = l;
      hi[found] = h;
      slots[slot] = found + 1;
    }
    indices[count++] = found;
    if (count === PROBE_VALUES && size * 2 > count) return null;
  }
  if (size === 0 || size * (count >= PROBE_VALUES ? 4 : 2) > count) return null;
  return { indices, count, lo, hi, size };
}

function hashPair(lo: number, hi: number): number {
  const h = Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b);
  return h ^ (h >>> 15);
}
