/**
 * Avro's variable-length zig-zag integers (spec 1.11, "Binary Encoding": int and long are
 * written as zig-zag coded varints, 7 bits a byte, low group first, high bit = more bytes).
 *
 * An Arrow int64 is read as its two 32-bit halves and zig-zagged in 32-bit arithmetic, so no
 * value, however large, allocates a BigInt: the common case (|n| < 2^31) is one compare
 * beyond the 32-bit path, and the full 64-bit range needs no second code path.
 */

/** Most bytes a long takes (64 bits / 7 per byte, rounded up). */
export const MAX_LONG_BYTES = 10;
/** Most bytes an int takes. */
export const MAX_INT_BYTES = 5;

/** True on little-endian hosts, where an int64's low half is the first 32-bit word. */
export const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Writes 0 <= v < 2^32 as a varint (no zig-zag); returns the position after it. */
export function writeVarUint32(out: Uint8Array, pos: number, v: number): number {
  while (v > 0x7f) {
    out[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  out[pos++] = v;
  return pos;
}

/** Writes an int (any int32) as a zig-zag varint. */
export function writeInt(out: Uint8Array, pos: number, n: number): number {
  return writeVarUint32(out, pos, ((n << 1) ^ (n >> 31)) >>> 0);
}

/**
 * Writes the long whose two's-complement halves are `low` and `high` (each as int32 bits) as a
 * zig-zag varint: zigzag(n) = (n << 1) ^ (n >> 63), done on the halves.
 */
export function writeLongHalves(out: Uint8Array, pos: number, low: number, high: number): number {
  const sign = high >> 31;
  let zhigh = (((high << 1) | (low >>> 31)) ^ sign) >>> 0;
  let zlow = ((low << 1) ^ sign) >>> 0;
  while (zhigh !== 0) {
    out[pos++] = (zlow & 0x7f) | 0x80;
    zlow = ((zlow >>> 7) | (zhigh << 25)) >>> 0;
    zhigh >>>= 7;
  }
  return writeVarUint32(out, pos, zlow);
}

const TWO_POW_32 = 4294967296;

/** Writes a safe integer (|n| <= 2^53) as a long: block counts, sizes, lengths. */
export function writeLongNumber(out: Uint8Array, pos: number, n: number): number {
  const low = n % TWO_POW_32; // exact; same sign as n
  const high = Math.floor(n / TWO_POW_32);
  return writeLongHalves(out, pos, low | 0, high | 0);
}

/** Writes any int64 given as a BigInt as a long (big-endian hosts and tests). */
export function writeLongBigInt(out: Uint8Array, pos: number, n: bigint): number {
  const low = Number(BigInt.asIntN(32, n));
  const high = Number(BigInt.asIntN(32, n >> 32n));
  return writeLongHalves(out, pos, low, high);
}

/** How many bytes writeLongNumber takes for n >= 0 (sizes block heads before writing them). */
export function measureLongNumber(n: number): number {
  let z = 2 * n;
  let bytes = 1;
  while (z >= 128) {
    z = Math.floor(z / 128);
    bytes++;
  }
  return bytes;
}
