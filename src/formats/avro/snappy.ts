import { writeVarUint32 } from './varint.js';

/**
 * Snappy raw-block compression (google/snappy format_description.txt), the algorithm of the
 * reference compressor: the input is cut into 64 KiB fragments, each compressed on its own
 * with a hash table of 4-byte sequences; a miss skips ahead ever faster (1 byte per probe for
 * the first 32 misses, then 2, ...) so incompressible data passes quickly. Pure JS, so the
 * library needs no native module for Avro's snappy codec.
 */

const FRAGMENT_BYTES = 1 << 16;
const HASH_BITS = 14;
/** The reference compressor's margin: no match search within 15 bytes of a fragment's end. */
const INPUT_MARGIN = 15;

/** Most bytes compressing `n` bytes can take (snappy MaxCompressedLength). */
export function maxSnappyLength(n: number): number {
  return 32 + n + Math.floor(n / 6);
}

/**
 * Compresses input[start..end) into out at pos (room for maxSnappyLength bytes); returns the
 * position after the compressed block.
 */
export function compressSnappy(input: Uint8Array, start: number, end: number, out: Uint8Array, pos: number): number {
  pos = writeVarUint32(out, pos, end - start);
  const table = new Uint16Array(1 << HASH_BITS);
  for (let base = start; base < end; base += FRAGMENT_BYTES) {
    if (base > start) table.fill(0);
    pos = compressFragment(input, base, Math.min(end, base + FRAGMENT_BYTES), out, pos, table);
  }
  return pos;
}

function load32(b: Uint8Array, i: number): number {
  return b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24);
}

function hash(v: number): number {
  return Math.imul(v, 0x1e35a7bd) >>> (32 - HASH_BITS);
}

/** One fragment; table entries are positions relative to `base`, so all offsets are < 64 KiB. */
function compressFragment(input: Uint8Array, base: number, end: number, out: Uint8Array, op: number, table: Uint16Array): number {
  let nextEmit = base;
  if (end - base >= INPUT_MARGIN) {
    const ipLimit = end - INPUT_MARGIN;
    let ip = base + 1;
    // Each probe's 4 bytes are loaded once: hashed one probe ahead, compared at the next.
    let nextWord = load32(input, ip);
    let nextHash = hash(nextWord);
    search: for (;;) {
      let skip = 32;
      let nextIp = ip;
      let candidate: number;
      for (;;) {
        ip = nextIp;
        const word = nextWord;
        const h = nextHash;
        nextIp = ip + (skip++ >> 5);
        if (nextIp > ipLimit) break search;
        nextWord = load32(input, nextIp);
        nextHash = hash(nextWord);
        candidate = base + table[h];
        table[h] = ip - base;
        if (word === load32(input, candidate)) break;
      }

      op = emitLiteral(input, nextEmit, ip, out, op);
      // Copies follow each other as long as the next 4 bytes match too.
      let word: number;
      do {
        const matchStart = ip;
        ip += 4 + matchLength(input, candidate + 4, ip + 4, end);
        op = emitCopy(out, op, matchStart - candidate, ip - matchStart);
        nextEmit = ip;
        if (ip >= ipLimit) break search;
        table[hash(load32(input, ip - 1))] = ip - 1 - base;
        word = load32(input, ip);
        const h = hash(word);
        candidate = base + table[h];
        table[h] = ip - base;
      } while (word === load32(input, candidate));
      nextWord = load32(input, ++ip);
      nextHash = hash(nextWord);
    }
  }
  if (nextEmit < end) op = emitLiteral(input, nextEmit, end, out, op);
  return op;
}

/** How many bytes from a and b (a < b) are equal, b not passing `limit`. */
function matchLength(input: Uint8Array, a: number, b: number, limit: number): number {
  const from = b;
  while (b + 4 <= limit && load32(input, a) === load32(input, b)) {
    a += 4;
    b += 4;
  }
  while (b < limit && input[a] === input[b]) {
    a++;
    b++;
  }
  return b - from;
}

/** A literal: tag with length-1 (inline below 60, else in 1–4 following bytes), then the bytes. */
function emitLiteral(input: Uint8Array, from: number, to: number, out: Uint8Array, op: number): number {
  const n = to - from - 1;
  if (n < 60) {
    out[op++] = n << 2;
  } else if (n < 0x100) {
    out[op++] = 60 << 2;
    out[op++] = n;
  } else if (n < 0x10000) {
    out[op++] = 61 << 2;
    out[op++] = n & 0xff;
    out[op++] = n >>> 8;
  } else {
    out[op++] = 62 << 2;
    out[op++] = n & 0xff;
    out[op++] = (n >>> 8) & 0xff;
    out[op++] = n >>> 16;
  }
  if (to - from < 32) {
    for (let i = from; i < to; i++) out[op++] = input[i];
    return op;
  }
  out.set(input.subarray(from, to), op);
  return op + (to - from);
}

/** A copy of `length` >= 4 bytes from `offset` back, in pieces of at most 64 bytes. */
function emitCopy(out: Uint8Array, op: number, offset: number, length: number): number {
  while (length >= 68) {
    op = emitShortCopy(out, op, offset, 64);
    length -= 64;
  }
  // Leave at least 4 for the last piece.
  if (length > 64) {
    op = emitShortCopy(out, op, offset, 60);
    length -= 60;
  }
  return emitShortCopy(out, op, offset, length);
}

function emitShortCopy(out: Uint8Array, op: number, offset: number, length: number): number {
  if (length < 12 && offset < 2048) {
    out[op++] = 1 | ((length - 4) << 2) | ((offset >>> 8) << 5);
    out[op++] = offset & 0xff;
    return op;
  }
  out[op++] = 2 | ((length - 1) << 2);
  out[op++] = offset & 0xff;
  out[op++] = offset >>> 8;
  return op;
}
