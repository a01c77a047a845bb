import { Buffer } from 'node:buffer';

const utf8 = new TextEncoder();

/** UTF-8 bytes of a JS string (names, labels, tags; cell values arrive as bytes). */
export function encodeUtf8(text: string): Uint8Array {
  return utf8.encode(text);
}

/**
 * A growable little-endian byte builder for the small sections around the data (header, map,
 * descriptors, value labels). It records where each tag starts, relative to `base` (the file
 * offset of its first byte), because the map (facts A3) points at the `<` of opening tags.
 * Each finished buffer is handed to the sink as is and never written again.
 */
export class SectionWriter {
  private bytes: Uint8Array;
  private view: DataView;
  length = 0;

  constructor(readonly base: number, capacity = 4096) {
    this.bytes = Buffer.alloc(capacity);
    this.view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
  }

  /** The file offset of the next byte. */
  get position(): number {
    return this.base + this.length;
  }

  private reserve(extra: number): void {
    const needed = this.length + extra;
    if (needed <= this.bytes.length) return;
    // Buffer.alloc zero-fills: fixed slots rely on NUL padding (facts A4: "pad with zeros, not junk").
    const grown = Buffer.alloc(Math.max(needed, this.bytes.length * 2));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
    this.view = new DataView(grown.buffer, grown.byteOffset, grown.byteLength);
  }

  /** ASCII text such as `<map>`; returns the file offset of its first byte. */
  ascii(text: string): number {
    const at = this.position;
    this.reserve(text.length);
    for (let i = 0; i < text.length; i++) this.bytes[this.length++] = text.charCodeAt(i);
    return at;
  }

  raw(data: Uint8Array): void {
    this.reserve(data.length);
    this.bytes.set(data, this.length);
    this.length += data.length;
  }

  u8(value: number): void {
    this.reserve(1);
    this.view.setUint8(this.length, value);
    this.length += 1;
  }

  u16(value: number): void {
    this.reserve(2);
    this.view.setUint16(this.length, value, true);
    this.length += 2;
  }

  u32(value: number): void {
    this.reserve(4);
    this.view.setUint32(this.length, value, true);
    this.length += 4;
  }

  i32(value: number): void {
    this.reserve(4);
    this.view.setInt32(this.length, value, true);
    this.length += 4;
  }

  /** A u64 from a JS number (exact below 2^53; file offsets and N never come near it). */
  u64(value: number): void {
    this.reserve(8);
    this.view.setBigUint64(this.length, BigInt(value), true);
    this.length += 8;
  }

  /** `count` NUL bytes (the buffer is zero-filled, so only the length moves). */
  zeros(count: number): void {
    this.reserve(count);
    this.length += count;
  }

  /** A fixed slot: the bytes, then NULs up to `slot` (callers keep bytes.length < slot). */
  slot(data: Uint8Array, slot: number): void {
    this.reserve(slot);
    this.bytes.set(data.subarray(0, slot), this.length);
    this.length += slot;
  }

  /** The bytes written; the writer must not be used afterwards. */
  finish(): Uint8Array {
    return this.bytes.subarray(0, this.length);
  }
}
