// The RLE / bit-packing hybrid of apache/parquet-format Encodings.md ("Run Length Encoding /
// Bit-Packing Hybrid"): runs of a header varint — (count << 1) for a repeated value, (groups
// of 8 << 1) | 1 for bit-packed values, least significant bit first — then the value(s). Used
// here for definition levels (bit width 1) and dictionary indices.

/** Writes an unsigned varint (ULEB128) of a number up to 2^53 at `pos`; returns the position after it. */
export function writeUVarint(out: Uint8Array, pos: number, n: number): number {
  let rest = n;
  while (rest >= 0x80) {
    out[pos++] = (rest % 0x80) | 0x80;
    rest = Math.floor(rest / 0x80);
  }
  out[pos++] = rest;
  return pos;
}

/** Most bytes writeDefinitionLevels takes for `count` rows. */
export function maxDefinitionLevelBytes(count: number): number {
  return 10 + Math.ceil(count / 8);
}

/**
 * Definition levels (max level 1: 1 = a value, 0 = null) of `count` rows whose validity starts
 * at bit `bitOffset` of `validity` (null: no nulls), in the hybrid encoding at `pos`; returns
 * the position after them. No nulls: one RLE run of 1s. Otherwise one bit-packed run, whose
 * bits are the validity bitmap's own (Arrow's bitmaps are LSB-first too), the padding bits of
 * the last group zero.
 */
export function writeDefinitionLevels(validity: Uint8Array | null, bitOffset: number, count: number, out: Uint8Array, pos: number): number {
  if (count === 0) return pos;
  if (validity === null) {
    pos = writeUVarint(out, pos, count * 2);
    out[pos++] = 1;
    return pos;
  }
  const bytes = Math.ceil(count / 8);
  pos = writeUVarint(out, pos, bytes * 2 + 1);
  const first = bitOffset >> 3;
  const shift = bitOffset & 7;
  if (shift === 0) {
    out.set(validity.subarray(first, first + bytes), pos);
  } else {
    const back = 8 - shift;
    for (let k = 0; k < bytes; k++) {
      const at = first + k;
      out[pos + k] = (validity[at] >> shift) | ((at + 1 < validity.length ? validity[at + 1] : 0) << back);
    }
  }
  const tail = count & 7;
  if (tail !== 0) out[pos + bytes - 1] &= (1 << tail) - 1;
  return pos + bytes;
}

/** Bits needed for values 0..max (at least 1). */
export function bitWidthOf(max: number): number {
  return max < 2 ? 1 : 32 - Math.clz32(max);
}

/** Most bytes writeBitPacked takes for `count` values of `width` bits. */
export function maxBitPackedBytes(count: number, width: number): number {
  return 10 + Math.ceil(count / 8) * width;
}

/**
 * `count` values (each < 2^width, width ≤ 24) as one bit-packed run at `pos`; returns the
 * position after it. The last group of 8 is padded with zeros.
 */
export function writeBitPacked(values: Int32Array, count: number, width: number, out: Uint8Array, pos: number): number {
  if (count === 0) return pos;
  const groups = Math.ceil(count / 8);
  pos = writeUVarint(out, pos, groups * 2 + 1);
  const end = pos + groups * width;
  pos = packBits(values, count, width, out, pos);
  while (pos < end) out[pos++] = 0;
  return pos;
}

/**
 * `count` values (each < 2^width, width ≤ 24) packed LSB first at `pos`, a last partial byte
 * padded with zeros; returns the position after them. Shared by the hybrid's bit-packed runs
 * and DELTA_BINARY_PACKED's miniblocks (delta.ts).
 */
export function packBits(values: Int32Array | Float64Array, count: number, width: number, out: Uint8Array, pos: number): number {
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < count; i++) {
    acc |= values[i] << bits;
    bits += width;
    while (bits >= 8) {
      out[pos++] = acc & 0xff;
      acc >>>= 8;
      bits -= 8;
    }
  }
  if (bits > 0) out[pos++] = acc & 0xff;
  return pos;
}
