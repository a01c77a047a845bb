/**
 * The little-endian byte writer the dictionary records are built with (fact sheet B1: every
 * integer in one byte order; we write little-endian, layout_code 2), plus the UTF-8 helpers
 * that cut names and labels to byte limits without splitting a character (C11).
 */

const utf8 = new TextEncoder();

/** UTF-8 bytes of a JS string. */
export function encodeText(text: string): Uint8Array {
  return utf8.encode(text);
}

/**
 * The longest prefix of `bytes` of at most `max` bytes that ends on a character boundary:
 * a cut never lands before a continuation byte (10xxxxxx), so no UTF-8 sequence is split.
 */
export function cutUtf8(bytes: Uint8Array, max: number): Uint8Array {
  if (bytes.length <= max) return bytes;
  return bytes.subarray(0, utf8Boundary(bytes, 0, max));
}

/** The largest n ≤ max such that bytes[start + n] does not continue a character. */
export function utf8Boundary(bytes: Uint8Array, start: number, max: number): number {
  let n = max;
  while (n > 0 && (bytes[start + n] & 0xc0) === 0x80) n--;
  return n;
}

/** A growable little-endian writer; `bytes()` returns exactly what was written. */
export class RecordWriter {
  private buffer = new Uint8Array(4096);
  private view = new DataView(this.buffer.buffer);
  length = 0;

  private reserve(extra: number): void {
    const needed = this.length + extra;
    if (needed <= this.buffer.length) return;
    const grown = new Uint8Array(Math.max(needed, this.buffer.length * 2));
    grown.set(this.buffer.subarray(0, this.length));
    this.buffer = grown;
    this.view = new DataView(grown.buffer);
  }

  writeInt32(value: number): void {
    this.reserve(4);
    this.view.setInt32(this.length, value, true);
    this.length += 4;
  }

  writeFloat64(value: number): void {
    this.reserve(8);
    this.view.setFloat64(this.length, value, true);
    this.length += 8;
  }

  writeBigInt64(value: bigint): void {
    this.reserve(8);
    this.view.setBigInt64(this.length, value, true);
    this.length += 8;
  }

  /** Writes an IEEE double given as its bit pattern (SYSMIS, HIGHEST, LOWEST must be exact: C13). */
  writeFloat64Bits(bits: bigint): void {
    this.reserve(8);
    this.view.setBigUint64(this.length, bits, true);
    this.length += 8;
  }

  writeUint8(value: number): void {
    this.reserve(1);
    this.buffer[this.length++] = value;
  }

  writeBytes(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.buffer.set(bytes, this.length);
    this.length += bytes.length;
  }

  /** Writes `bytes` (at most `size` of them) and pads with `pad` to exactly `size` bytes. */
  writePadded(bytes: Uint8Array, size: number, pad: number): void {
    const n = Math.min(bytes.length, size);
    this.reserve(size);
    this.buffer.set(bytes.subarray(0, n), this.length);
    this.buffer.fill(pad, this.length + n, this.length + size);
    this.length += size;
  }

  /** Pads with `pad` until the length is a multiple of `multiple`. */
  alignTo(multiple: number, pad: number): void {
    const rest = this.length % multiple;
    if (rest === 0) return;
    const n = multiple - rest;
    this.reserve(n);
    this.buffer.fill(pad, this.length, this.length + n);
    this.length += n;
  }

  /** A copy of the bytes written so far. */
  bytes(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }
}

/** Little-endian bytes of one int32 (for patches). */
export function int32Bytes(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setInt32(0, value, true);
  return out;
}

/** Little-endian bytes of one int64 (for patches). */
export function int64Bytes(value: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigInt64(0, value, true);
  return out;
}
