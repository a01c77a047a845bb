import { Buffer } from 'node:buffer';

/** The byte-level pieces the text formats share outside the kernel (./text-kernel.ts). */

const utf8 = new TextEncoder();

/** UTF-8 bytes of a JS string (names, options; never cell values, which arrive as bytes). */
export function encodeUtf8(text: string): Uint8Array {
  return utf8.encode(text);
}

/** Joins byte runs into one array. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

/**
 * The output buffer of one file, reused across chunks and batches. The sink keeps a reference
 * to what it is given until the stream has consumed it, so handed-out bytes are never written
 * again: `take` hands out the filled part and starts a new buffer (uninitialized memory, as
 * every byte is written before it is read), or, when only a little is filled, a copy.
 */
export class ByteBuffer {
  bytes: Uint8Array;
  length = 0;

  constructor(private readonly capacity: number) {
    this.bytes = Buffer.allocUnsafe(capacity);
  }

  /** Makes room for `extra` more bytes after `length`. */
  reserve(extra: number): void {
    const needed = this.length + extra;
    if (needed <= this.bytes.length) return;
    const grown = Buffer.allocUnsafe(Math.max(needed, this.capacity));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }

  /** The bytes written so far, never to be touched again here; the buffer is empty afterwards. */
  take(): Uint8Array {
    const filled = this.length;
    this.length = 0;
    // A small tail is cheaper to copy than a new buffer is to allocate and fault in.
    // (A copy: Buffer#slice would share memory.)
    if (filled < this.bytes.length >> 3) return new Uint8Array(this.bytes.subarray(0, filled));
    const out = this.bytes.subarray(0, filled);
    this.bytes = Buffer.allocUnsafe(this.capacity);
    return out;
  }
}
