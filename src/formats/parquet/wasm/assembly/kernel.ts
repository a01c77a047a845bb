// The per-value loops of the Parquet writer (../../column-chunk.ts), in AssemblyScript, compiled
// to WebAssembly by scripts/build-wasm.mjs. Why: a process that writes Parquet once (the CLI)
// spent about a third of its CPU making V8 compile and recompile these loops in every thread
// (type feedback gathered, code deoptimized after each loop's first exit) and running them slowly
// meanwhile; WebAssembly needs no feedback, is compiled once per process, and its 64-bit integers
// are native. Everything here works on raw addresses of the module's memory, laid out by
// ../arena.ts: a column's buffers copied in (fixed-width values from row 0; string bytes at
// `base + offsets[i]`; bitmaps read at bit `bitOff + i`), scratch regions, and the page being
// written. Nothing is allocated here. The encodings are those of apache/parquet-format
// Encodings.md; the JS side (column-chunk.ts) writes page headers and decides the layout.

// ---- small helpers

@inline function bitAt(p: usize, bit: i32): i32 {
  return (<i32>load<u8>(p + <usize>(bit >>> 3)) >> (bit & 7)) & 1;
}

/** Unsigned LEB128 of n at out; returns the address after it. */
function uvarint(out: usize, n: u64): usize {
  while (n >= 0x80) {
    store<u8>(out, <u8>((n & 0x7f) | 0x80));
    out++;
    n >>= 7;
  }
  store<u8>(out, <u8>n);
  return out + 1;
}

@inline function zigzag64(v: i64): u64 {
  return <u64>((v << 1) ^ (v >> 63));
}

/** Non-null rows among start..end-1 (valid 0: no nulls). */
export function countValid(valid: usize, bitOff: i32, start: i32, end: i32): i32 {
  if (valid == 0) return end - start;
  let n = 0;
  let bit = bitOff + start;
  const stop = bitOff + end;
  while (bit < stop && (bit & 7) != 0) { n += bitAt(valid, bit); bit++; }
  while (bit + 64 <= stop) { n += <i32>popcnt<u64>(load<u64>(valid + <usize>(bit >>> 3))); bit += 64; }
  while (bit + 8 <= stop) { n += popcnt<i32>(<i32>load<u8>(valid + <usize>(bit >>> 3))); bit += 8; }
  while (bit < stop) { n += bitAt(valid, bit); bit++; }
  return n;
}

// ---- definition levels and bit packing (the RLE / bit-packing hybrid)

/**
 * A data page v1's definition levels of rows start..start+rows-1 at out: their byte length
 * (4 bytes), then one RLE run of 1s (no nulls) or one bit-packed run whose bits are the
 * validity bitmap's own, the last group's padding bits zero. Returns the address after them.
 */
export function definitionLevels(valid: usize, bitOff: i32, start: i32, rows: i32, out: usize): usize {
  let pos = out + 4;
  if (rows > 0) {
    if (valid == 0) {
      pos = uvarint(pos, <u64>rows * 2);
      store<u8>(pos++, 1);
    } else {
      const bytes = (rows + 7) >>> 3;
      pos = uvarint(pos, <u64>bytes * 2 + 1);
      const bit = bitOff + start;
      const first = valid + <usize>(bit >>> 3);
      const shift = bit & 7;
      if (shift == 0) {
        memory.copy(pos, first, <usize>bytes);
      } else {
        const back = 8 - shift;
        for (let k = 0; k < bytes; k++) {
          const at = first + <usize>k;
          store<u8>(pos + <usize>k, <u8>((<i32>load<u8>(at) >> shift) | (<i32>load<u8>(at + 1) << back)));
        }
      }
      const tail = rows & 7;
      if (tail != 0) {
        const last = pos + <usize>bytes - 1;
        store<u8>(last, <u8>(<i32>load<u8>(last) & ((<i32>1 << tail) - 1)));
      }
      pos += <usize>bytes;
    }
  }
  store<i32>(out, <i32>(pos - out - 4));
  return pos;
}

/** count u32 values of `width` bits (≤ 32) from src, packed LSB first at out, a last partial byte zero-padded. */
function packBits(src: usize, count: i32, width: i32, out: usize): usize {
  let acc: u64 = 0;
  let bits: i32 = 0;
  for (let i = 0; i < count; i++) {
    acc |= <u64>load<u32>(src + (<usize>i << 2)) << <u64>bits;
    bits += width;
    while (bits >= 8) {
      store<u8>(out++, <u8>acc);
      acc >>= 8;
      bits -= 8;
    }
  }
  if (bits > 0) store<u8>(out++, <u8>acc);
  return out;
}

/** `count` values (< 2^width) as one bit-packed hybrid run at out, its last group of 8 zero-padded. */
export function bitPackedRun(src: usize, count: i32, width: i32, out: usize): usize {
  if (count == 0) return out;
  const groups = (count + 7) >>> 3;
  out = uvarint(out, <u64>groups * 2 + 1);
  const end = out + <usize>(groups * width);
  out = packBits(src, count, width, out);
  while (out < end) store<u8>(out++, 0);
  return out;
}

// ---- compaction and PLAIN values

/** Where compact8 left the values: their address and count. */
let packedAt: usize = 0;
let packedCount: i32 = 0;

/**
 * The 8-byte values of rows start..end-1, nulls left out: the column itself when it has no
 * nulls, else copied to `scratch`. Sets packedAt / packedCount.
 */
function compact8(vals: usize, valid: usize, bitOff: i32, start: i32, end: i32, scratch: usize): void {
  if (valid == 0) {
    packedAt = vals + (<usize>start << 3);
    packedCount = end - start;
    return;
  }
  let dst = scratch;
  for (let i = start; i < end;) {
    const bit = bitOff + i;
    if ((bit & 7) == 0 && i + 8 <= end && load<u8>(valid + <usize>(bit >>> 3)) == 0xff) {
      memory.copy(dst, vals + (<usize>i << 3), 64);
      dst += 64;
      i += 8;
      continue;
    }
    if (bitAt(valid, bit)) {
      store<u64>(dst, load<u64>(vals + (<usize>i << 3)));
      dst += 8;
    }
    i++;
  }
  packedAt = scratch;
  packedCount = <i32>((dst - scratch) >>> 3);
}

// A column chunk's running min and max at `mm`: seen (i32) at 0, then min at 8 and max at 16
// (i64 for 64-bit integers, f64 for doubles, i32 for dates, 0/1 for booleans).

function minMaxInt64(at: usize, count: i32, mm: usize): void {
  if (count == 0) return;
  let seen = load<i32>(mm);
  let min = load<i64>(mm, 8);
  let max = load<i64>(mm, 16);
  let k = 0;
  if (!seen) {
    min = max = load<i64>(at);
    seen = 1;
    k = 1;
  }
  for (; k < count; k++) {
    const v = load<i64>(at + (<usize>k << 3));
    if (v < min) min = v;
    if (v > max) max = v;
  }
  store<i32>(mm, seen);
  store<i64>(mm, min, 8);
  store<i64>(mm, max, 16);
}

/** 64-bit integers of rows start..end-1, PLAIN; returns the address after them. */
export function plainInt64(vals: usize, valid: usize, bitOff: i32, start: i32, end: i32, out: usize, mm: usize, scratch: usize): usize {
  compact8(vals, valid, bitOff, start, end, scratch);
  minMaxInt64(packedAt, packedCount, mm);
  memory.copy(out, packedAt, <usize>packedCount << 3);
  return out + (<usize>packedCount << 3);
}

/** Doubles of rows start..end-1 bit for bit; min and max leave NaN out. */
export function plainDouble(vals: usize, valid: usize, bitOff: i32, start: i32, end: i32, out: usize, mm: usize, scratch: usize): usize {
  compact8(vals, valid, bitOff, start, end, scratch);
  const at = packedAt;
  const count = packedCount;
  let seen = load<i32>(mm);
  let min = load<f64>(mm, 8);
  let max = load<f64>(mm, 16);
  for (let i = 0; i < count; i++) {
    const x = load<f64>(at + (<usize>i << 3));
    if (x != x) continue;
    if (!seen) { min = max = x; seen = 1; } else if (x < min) min = x; else if (x > max) max = x;
  }
  store<i32>(mm, seen);
  store<f64>(mm, min, 8);
  store<f64>(mm, max, 16);
  memory.copy(out, at, <usize>count << 3);
  return out + (<usize>count << 3);
}

/** 32-bit integers (dates) of rows start..end-1. */
export function plainInt32(vals: usize, valid: usize, bitOff: i32, start: i32, end: i32, out: usize, mm: usize): usize {
  let seen = load<i32>(mm);
  let min = <i32>load<i64>(mm, 8);
  let max = <i32>load<i64>(mm, 16);
  let pos = out;
  for (let i = start; i < end; i++) {
    if (valid != 0 && !bitAt(valid, bitOff + i)) continue;
    const x = load<i32>(vals + (<usize>i << 2));
    store<i32>(pos, x);
    pos += 4;
    if (!seen) { min = max = x; seen = 1; } else if (x < min) min = x; else if (x > max) max = x;
  }
  store<i32>(mm, seen);
  store<i64>(mm, <i64>min, 8);
  store<i64>(mm, <i64>max, 16);
  return pos;
}

/** Booleans of rows start..end-1, one bit each, least significant first (the last byte zero-padded). */
export function plainBoolean(vals: usize, valid: usize, bitOff: i32, start: i32, end: i32, out: usize, mm: usize): usize {
  let k = 0;
  let acc: u32 = 0;
  const seen = load<i32>(mm);
  let anyTrue = seen != 0 && load<i64>(mm, 16) == 1;
  let anyFalse = seen != 0 && load<i64>(mm, 8) == 0;
  let pos = out;
  for (let i = start; i < end;) {
    const bit = bitOff + i;
    if ((bit & 7) == 0 && i + 8 <= end && (valid == 0 || load<u8>(valid + <usize>(bit >>> 3)) == 0xff)) {
      const byte = <u32>load<u8>(vals + <usize>(bit >>> 3));
      if (byte != 0) anyTrue = true;
      if (byte != 0xff) anyFalse = true;
      acc |= byte << <u32>(k & 7);
      store<u8>(pos++, <u8>acc);
      acc >>= 8;
      k += 8;
      i += 8;
      continue;
    }
    i++;
    if (valid != 0 && !bitAt(valid, bit)) continue;
    if (bitAt(vals, bit)) { acc |= <u32>1 << <u32>(k & 7); anyTrue = true; } else anyFalse = true;
    k++;
    if ((k & 7) == 0) { store<u8>(pos++, <u8>acc); acc = 0; }
  }
  if ((k & 7) != 0) store<u8>(pos++, <u8>acc);
  if (anyTrue || anyFalse) {
    store<i32>(mm, 1);
    store<i64>(mm, anyFalse ? 0 : 1, 8);
    store<i64>(mm, anyTrue ? 1 : 0, 16);
  }
  return pos;
}

// ---- DELTA_BINARY_PACKED: blocks of 128 deltas in 4 miniblocks of 32, every delta within ±2^31

const BLOCK = 128;
const MINIBLOCKS = 4;
const MINI = 32;

/**
 * `count` values whose `count - 1` deltas (i32) are at `deltas`, after a first value whose
 * zigzag is `firstZigzag`, at out; `mini` is scratch for one miniblock (32 u32).
 */
function deltaBinaryPacked(count: i32, firstZigzag: u64, deltas: usize, out: usize, mini: usize): usize {
  out = uvarint(out, BLOCK);
  out = uvarint(out, MINIBLOCKS);
  out = uvarint(out, <u64>count);
  out = uvarint(out, firstZigzag);
  const total = count > 0 ? count - 1 : 0;
  for (let start = 0; start < total; start += BLOCK) {
    const n = min(BLOCK, total - start);
    const block = deltas + (<usize>start << 2);
    let least = load<i32>(block);
    for (let i = 1; i < n; i++) {
      const d = load<i32>(block + (<usize>i << 2));
      if (d < least) least = d;
    }
    out = uvarint(out, zigzag64(<i64>least));
    const widthsAt = out;
    out += MINIBLOCKS;
    for (let m = 0; m < MINIBLOCKS; m++) {
      const from = m * MINI;
      if (from >= n) {
        store<u8>(widthsAt + <usize>m, 0);
        continue;
      }
      const to = min(n, from + MINI);
      let most: u32 = 0;
      for (let i = from; i < to; i++) {
        const v = <u32>(load<i32>(block + (<usize>i << 2)) - least);
        store<u32>(mini + (<usize>(i - from) << 2), v);
        if (v > most) most = v;
      }
      for (let i = to - from; i < MINI; i++) store<u32>(mini + (<usize>i << 2), 0);
      const width = most == 0 ? 0 : 32 - <i32>clz<u32>(most);
      store<u8>(widthsAt + <usize>m, <u8>width);
      if (width > 0) out = packBits(mini, MINI, width, out);
    }
  }
  return out;
}

/**
 * 64-bit integers of rows start..end-1 as DELTA_BINARY_PACKED at out when every step between
 * consecutive values is within ±2^31 (exact, not wrapped); returns the address after them, or 0
 * when a step is larger or there are fewer than 2 values (then PLAIN takes the page).
 */
export function deltaInt64(vals: usize, valid: usize, bitOff: i32, start: i32, end: i32, out: usize, mm: usize, scratch: usize, deltas: usize, mini: usize): usize {
  compact8(vals, valid, bitOff, start, end, scratch);
  const at = packedAt;
  const count = packedCount;
  if (count < 2) return 0;
  let prev = load<i64>(at);
  for (let k = 1; k < count; k++) {
    const v = load<i64>(at + (<usize>k << 3));
    const step = v - prev;
    // Overflow of the subtraction (operands of different signs, result's sign not v's): the true step is beyond ±2^63.
    if (((v ^ prev) & (v ^ step)) < 0 || step < -2147483648 || step > 2147483647) return 0;
    store<i32>(deltas + (<usize>(k - 1) << 2), <i32>step);
    prev = v;
  }
  minMaxInt64(at, count, mm);
  return deltaBinaryPacked(count, zigzag64(load<i64>(at)), deltas, out, mini);
}

/** UTF-8 strings of rows start..end-1 as DELTA_LENGTH_BYTE_ARRAY at out (lengths delta-packed, then the bytes). */
export function deltaLengthByteArray(base: usize, offs: usize, valid: usize, bitOff: i32, start: i32, end: i32, out: usize, lengths: usize, deltas: usize, mini: usize): usize {
  let count = 0;
  for (let i = start; i < end; i++) {
    if (valid != 0 && !bitAt(valid, bitOff + i)) continue;
    const at = offs + (<usize>i << 2);
    store<i32>(lengths + (<usize>count << 2), load<i32>(at, 4) - load<i32>(at));
    count++;
  }
  for (let k = 1; k < count; k++) {
    const at = lengths + (<usize>k << 2);
    store<i32>(deltas + (<usize>(k - 1) << 2), load<i32>(at) - load<i32>(at - 4));
  }
  out = deltaBinaryPacked(count, zigzag64(count > 0 ? <i64>load<i32>(lengths) : 0), deltas, out, mini);
  // Runs of non-null rows, each one copy (a null's slot may hold bytes: they are left out).
  for (let i = start; i < end;) {
    if (valid != 0 && !bitAt(valid, bitOff + i)) { i++; continue; }
    let j = i + 1;
    while (j < end && (valid == 0 || bitAt(valid, bitOff + j))) j++;
    const from = load<i32>(offs + (<usize>i << 2));
    const length = load<i32>(offs + (<usize>j << 2)) - from;
    memory.copy(out, base + <usize>from, <usize>length);
    out += <usize>length;
    i = j;
  }
  return out;
}

/** Whether a non-empty value among rows 0..n-1 starts with a UTF-8 continuation byte (a character cut between values). */
export function cutCharacter(base: usize, offs: usize, n: i32): i32 {
  for (let i = 0; i < n; i++) {
    const at = offs + (<usize>i << 2);
    const from = load<i32>(at);
    if (load<i32>(at, 4) > from && (load<u8>(base + <usize>from) & 0xc0) == 0x80) return 1;
  }
  return 0;
}

// ---- dictionaries: each distinct value once, in order of first appearance, the rows as indices

/** Give up once the dictionary's PLAIN values take this many bytes (arrow-rs's dictionary page limit). */
const MAX_DICTIONARY_BYTES = 1 << 20;
/** After this many values, more than half of them distinct means free text: give up. */
const PROBE_VALUES = 2048;

/** What the last dictionary build found: non-null rows and PLAIN bytes of its values. */
let dictCount: i32 = 0;
let dictPlainBytes: i32 = 0;
export function lastDictionaryCount(): i32 { return dictCount; }
export function lastDictionaryPlainBytes(): i32 { return dictPlainBytes; }

/** The low `bytes` (1..8) bytes of a word. */
@inline function lowBytes(bytes: i32): u64 {
  return bytes >= 8 ? <u64>-1 : (<u64>1 << (<u64>bytes << 3)) - 1;
}

// Text is hashed and compared 8 bytes at a time, the last word masked to the value's end: a
// value's bytes may be followed by up to 7 bytes of the next (or of the region's padding), which
// the mask leaves out.

function hashBytes(from: usize, length: i32): u32 {
  let h: u64 = 0x9e3779b97f4a7c15 ^ <u64>length;
  let k = 0;
  for (; k + 8 <= length; k += 8) {
    h = (h ^ load<u64>(from + <usize>k)) * 0xff51afd7ed558ccd;
    h ^= h >> 29;
  }
  if (k < length) h = (h ^ (load<u64>(from + <usize>k) & lowBytes(length - k))) * 0xff51afd7ed558ccd;
  h ^= h >> 32;
  h *= 0xc4ceb9fe1a85ec53;
  h ^= h >> 29;
  return <u32>h;
}

function sameBytes(a: usize, b: usize, length: i32): bool {
  let k = 0;
  for (; k + 8 <= length; k += 8) if (load<u64>(a + <usize>k) != load<u64>(b + <usize>k)) return false;
  return k == length || ((load<u64>(a + <usize>k) ^ load<u64>(b + <usize>k)) & lowBytes(length - k)) == 0;
}

/**
 * The dictionary of rows 0..n-1 of a string column, or -1 when it does not pay. Its size is
 * returned; per non-null row the entry's index is at `indices`, per entry where its bytes start
 * (an offset from base) and their length at `starts` / `lengths`; `hashes` and `slots` are
 * scratch for `capacity` entries and 2 × capacity slots (capacity ≥ the entries it can reach).
 */
export function stringDictionary(base: usize, offs: usize, valid: usize, bitOff: i32, n: i32, indices: usize, starts: usize, lengths: usize, hashes: usize, slots: usize): i32 {
  let mask = 2047;
  memory.fill(slots, 0, <usize>(mask + 1) << 2);
  let size = 0;
  let plainBytes = 0;
  let count = 0;
  for (let i = 0; i < n; i++) {
    if (valid != 0 && !bitAt(valid, bitOff + i)) continue;
    const at = offs + (<usize>i << 2);
    const from = load<i32>(at);
    const length = load<i32>(at, 4) - from;
    const h = hashBytes(base + <usize>from, length);
    let slot = <i32>h & mask;
    let found = -1;
    while (true) {
      const entry = load<i32>(slots + (<usize>slot << 2)) - 1;
      if (entry < 0) break;
      const e = <usize>entry << 2;
      if (load<u32>(hashes + e) == h && load<i32>(lengths + e) == length && sameBytes(base + <usize>load<i32>(starts + e), base + <usize>from, length)) {
        found = entry;
        break;
      }
      slot = (slot + 1) & mask;
    }
    if (found < 0) {
      found = size++;
      plainBytes += 4 + length;
      if (plainBytes > MAX_DICTIONARY_BYTES) return -1;
      if (size * 2 > mask + 1) {
        // Half full: twice the slots, every entry placed again.
        mask = mask * 2 + 1;
        memory.fill(slots, 0, <usize>(mask + 1) << 2);
        for (let e = 0; e < found; e++) {
          let s = <i32>load<u32>(hashes + (<usize>e << 2)) & mask;
          while (load<i32>(slots + (<usize>s << 2)) != 0) s = (s + 1) & mask;
          store<i32>(slots + (<usize>s << 2), e + 1);
        }
        slot = <i32>h & mask;
        while (load<i32>(slots + (<usize>slot << 2)) != 0) slot = (slot + 1) & mask;
      }
      const e = <usize>found << 2;
      store<i32>(starts + e, from);
      store<i32>(lengths + e, length);
      store<u32>(hashes + e, h);
      store<i32>(slots + (<usize>slot << 2), found + 1);
    }
    store<i32>(indices + (<usize>count << 2), found);
    count++;
    if (count == PROBE_VALUES && size * 2 > count) return -1;
  }
  dictCount = count;
  dictPlainBytes = plainBytes;
  // A dictionary barely smaller than its rows saves nothing and costs a lookup per value.
  if (size == 0 || size * (count >= PROBE_VALUES ? 4 : 2) > count) return -1;
  return size;
}

/** A string dictionary's PLAIN values (4-byte length, then the bytes) at out. */
export function stringDictionaryValues(base: usize, starts: usize, lengths: usize, size: i32, out: usize): usize {
  for (let e = 0; e < size; e++) {
    const length = load<i32>(lengths + (<usize>e << 2));
    store<i32>(out, length);
    memory.copy(out + 4, base + <usize>load<i32>(starts + (<usize>e << 2)), <usize>length);
    out += 4 + <usize>length;
  }
  return out;
}

@inline function hash64(v: i64): u32 {
  const h = (<u32>v ^ (<u32>(v >>> 32) * 0x9e3779b1)) * 0x85ebca6b;
  return h ^ (h >>> 15);
}

/**
 * The dictionary of a 64-bit integer column's rows 0..n-1, or -1 when its values are mostly
 * distinct (the same give-ups as for text): its size; the rows' indices at `indices`, the
 * entries' values (i64) at `values`; `slots` scratch for 2 × capacity.
 */
export function int64Dictionary(vals: usize, valid: usize, bitOff: i32, n: i32, indices: usize, values: usize, slots: usize): i32 {
  let mask = 2047;
  memory.fill(slots, 0, <usize>(mask + 1) << 2);
  let size = 0;
  let count = 0;
  for (let i = 0; i < n; i++) {
    if (valid != 0 && !bitAt(valid, bitOff + i)) continue;
    const v = load<i64>(vals + (<usize>i << 3));
    let slot = <i32>hash64(v) & mask;
    let found = -1;
    while (true) {
      const entry = load<i32>(slots + (<usize>slot << 2)) - 1;
      if (entry < 0) break;
      if (load<i64>(values + (<usize>entry << 3)) == v) {
        found = entry;
        break;
      }
      slot = (slot + 1) & mask;
    }
    if (found < 0) {
      found = size++;
      if (8 * size > MAX_DICTIONARY_BYTES) return -1;
      if (size * 2 > mask + 1) {
        mask = mask * 2 + 1;
        memory.fill(slots, 0, <usize>(mask + 1) << 2);
        for (let e = 0; e < found; e++) {
          let s = <i32>hash64(load<i64>(values + (<usize>e << 3))) & mask;
          while (load<i32>(slots + (<usize>s << 2)) != 0) s = (s + 1) & mask;
          store<i32>(slots + (<usize>s << 2), e + 1);
        }
        slot = <i32>hash64(v) & mask;
        while (load<i32>(slots + (<usize>slot << 2)) != 0) slot = (slot + 1) & mask;
      }
      store<i64>(values + (<usize>found << 3), v);
      store<i32>(slots + (<usize>slot << 2), found + 1);
    }
    store<i32>(indices + (<usize>count << 2), found);
    count++;
    if (count == PROBE_VALUES && size * 2 > count) return -1;
  }
  dictCount = count;
  dictPlainBytes = 8 * size;
  if (size == 0 || size * (count >= PROBE_VALUES ? 4 : 2) > count) return -1;
  return size;
}

/** Min and max of a 64-bit dictionary's `size` values into mm (those of the column). */
export function int64DictionaryMinMax(values: usize, size: i32, mm: usize): void {
  minMaxInt64(values, size, mm);
}

/** Adds `delta` to `count` i32 at `at` (text offsets of a row group's later batches, rebased as they are joined). */
export function addToInt32(at: usize, count: i32, delta: i32): void {
  const end = at + (<usize>count << 2);
  for (let p = at; p < end; p += 4) store<i32>(p, load<i32>(p) + delta);
}
