// The RLE / bit-packing hybrid of apache/parquet-format Encodings.md ("Run Length Encoding /
// Bit-Packing Hybrid"): runs of a header varint — (count << 1) for a repeated value, (groups
// of 8 << 1) | 1 for bit-packed values, least significant bit first — then the value(s), for
// definition levels (bit width 1) and dictionary indices. The WebAssembly kernel writes them
// (wasm/assembly/kernel.ts: definitionLevels, bitPackedRun); here are the most bytes they take,
// and the varint that page headers use too.

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

/** Most bytes the definition levels of `count` rows take (after their 4-byte length). */
export function maxDefinitionLevelBytes(count: number): number {
  return 10 + Math.ceil(count / 8);
}

/** Bits needed for values 0..max (at least 1). */
export function bitWidthOf(max: number): number {
  return max < 2 ? 1 : 32 - Math.clz32(max);
}

/** Most bytes one bit-packed run of `count` values of `width` bits takes. */
export function maxBitPackedBytes(count: number, width: number): number {
  return 10 + Math.ceil(count / 8) * width;
}
