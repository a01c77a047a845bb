import { packBits, writeUVarint } from './hybrid.js';

// DELTA_BINARY_PACKED (apache/parquet-format Encodings.md): a header (values per block,
// miniblocks per block, value count, first value), then per block the smallest delta and the
// bit width of each miniblock, and the miniblocks' (delta − smallest) bit-packed, LSB first.
// Here blocks of 128 values in 4 miniblocks of 32, for deltas that fit in 32 bits: string
// lengths (DELTA_LENGTH_BYTE_ARRAY) and 64-bit integers that move in small steps (row numbers).

const BLOCK = 128;
const MINIBLOCKS = 4;
const MINI = BLOCK / MINIBLOCKS;

/** Most bytes writeDeltaBinaryPacked takes for `count` values. */
export function maxDeltaBytes(count: number): number {
  return 32 + Math.ceil(count / BLOCK) * (10 + MINIBLOCKS + BLOCK * 4);
}

function zigzag(n: number): number {
  return n >= 0 ? 2 * n : -2 * n - 1;
}

let scratch = new Float64Array(BLOCK);

/** 2^bits for the bits (0..7) left in packMiniblock's accumulator. */
const BIT_SCALE = Float64Array.from({ length: 8 }, (_, bits) => 2 ** bits);

/**
 * The values whose deltas are `deltas[0..count-1)` (deltas[i] = value[i+1] − value[i], each
 * within ±2^31) after a first value whose zigzag varint is `firstZigzag` (bytes), at `pos`.
 */
export function writeDeltaBinaryPacked(count: number, firstZigzag: Uint8Array, deltas: Float64Array, out: Uint8Array, pos: number): number {
  pos = writeUVarint(out, pos, BLOCK);
  pos = writeUVarint(out, pos, MINIBLOCKS);
  pos = writeUVarint(out, pos, count);
  out.set(firstZigzag, pos);
  pos += firstZigzag.length;
  const total = Math.max(0, count - 1);
  if (scratch.length < BLOCK) scratch = new Float64Array(BLOCK);
  for (let start = 0; start < total; start += BLOCK) {
    const n = Math.min(BLOCK, total - start);
    let min = deltas[start];
    for (let i = 1; i < n; i++) if (deltas[start + i] < min) min = deltas[start + i];
    pos = writeUVarint(out, pos, zigzag(min));
    const widthsAt = pos;
    pos += MINIBLOCKS;
    for (let m = 0; m < MINIBLOCKS; m++) {
      const from = m * MINI;
      if (from >= n) {
        out[widthsAt + m] = 0; // miniblocks past the last value: width 0, no bytes
        continue;
      }
      const to = Math.min(n, from + MINI);
      let max = 0;
      for (let i = from; i < to; i++) {
        const v = deltas[start + i] - min;
        scratch[i - from] = v;
        if (v > max) max = v;
      }
      for (let i = to - from; i < MINI; i++) scratch[i] = 0;
      // Bits of max (< 2^32): clz32 takes it as a uint32 (2 ** width per step took ~1 % of a parquet export).
      const width = max === 0 ? 0 : 32 - Math.clz32(max);
      out[widthsAt + m] = width;
      pos = packMiniblock(scratch, width, out, pos);
    }
  }
  return pos;
}

/** 32 values of `width` bits (< 2^32 each), LSB first: 4 × width bytes. */
function packMiniblock(values: Float64Array, width: number, out: Uint8Array, pos: number): number {
  if (width === 0) return pos;
  if (width <= 24) return packBits(values, MINI, width, out, pos); // 32 × width bits: whole bytes
  let acc = 0;
  let bits = 0;
  // Wider values: arithmetic, as bitwise operators stop at 32 bits (acc stays below 2^39).
  for (let i = 0; i < MINI; i++) {
    acc += values[i] * BIT_SCALE[bits];
    bits += width;
    while (bits >= 8) {
      const byte = acc % 256;
      out[pos++] = byte;
      acc = (acc - byte) / 256;
      bits -= 8;
    }
  }
  return pos;
}

/** The zigzag varint of a signed 64-bit integer given as 32-bit halves. */
export function zigzagVarint64(lo: number, hi: number): Uint8Array {
  const v = (BigInt(hi) << 32n) | BigInt(lo >>> 0);
  let rest = BigInt.asUintN(64, (v << 1n) ^ (v >> 63n));
  const out: number[] = [];
  while (rest >= 0x80n) {
    out.push(Number(rest & 0x7fn) | 0x80);
    rest >>= 7n;
  }
  out.push(Number(rest));
  return new Uint8Array(out);
}

/** The zigzag varint of a number (a 32-bit value). */
export function zigzagVarint(n: number): Uint8Array {
  const out = new Uint8Array(10);
  return out.subarray(0, writeUVarint(out, 0, zigzag(n)));
}
