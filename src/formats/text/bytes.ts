import { Buffer } from 'node:buffer';

/**
 * The byte-level pieces the text formats write with. Writers store through a DataView at a
 * position and return the new position: V8 compiles DataView stores to single (unaligned)
 * machine stores, so a 4-byte store costs what a 1-byte one does. Some writers store a whole
 * word of which only the first bytes count; the bytes after are overwritten by the next
 * write, which is why every reservation carries WRITE_SLACK spare bytes.
 */

/** Spare bytes after any reservation, for the tail of a word store. */
export const WRITE_SLACK = 8;

const utf8 = new TextEncoder();

/** UTF-8 bytes of a JS string (names, options; never cell values, which arrive as bytes). */
export function encodeUtf8(text: string): Uint8Array {
  return utf8.encode(text);
}

/** Writes an ASCII-only string (number text from the engine) one byte per char. */
export function writeAscii(out: DataView, pos: number, text: string): number {
  for (let i = 0; i < text.length; i++) out.setUint8(pos++, text.charCodeAt(i));
  return pos;
}

/**
 * `x` with the high bit set in each byte that was 0: non-zero exactly when some byte is 0
 * (which bits are set past the first zero byte is not exact). With `x = word ^ (b * 0x01010101)`
 * it finds the byte b in a word of four (csv's quoting, jsonl's escapes).
 */
export function zeroBytes(x: number): number {
  return (x - 0x01010101) & ~x & 0x80808080;
}

/**
 * The first n (1..3) bytes of a word: a string's last partial word is tested with its other
 * bytes replaced by one that never matches, as the bits past a match are not exact.
 */
export const TAIL_KEEP = [0, 0xff, 0xffff, 0xffffff];

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
 * A constant byte run (delimiter, jsonl key, `null`, line end) as little-endian 4-byte words;
 * always at least one word (zero for an empty run), so a writer may store the first one
 * unconditionally.
 */
export interface PackedBytes {
  readonly words: Uint32Array;
  readonly length: number;
}

export function packBytes(bytes: Uint8Array): PackedBytes {
  const padded = new Uint8Array(Math.max(1, Math.ceil(bytes.length / 4)) * 4);
  padded.set(bytes);
  const view = new DataView(padded.buffer);
  const words = new Uint32Array(padded.length / 4);
  for (let k = 0; k < words.length; k++) words[k] = view.getUint32(4 * k, true);
  return { words, length: bytes.length };
}

/** Writes a packed run a word at a time (up to 3 bytes of slack). */
export function writePacked(out: DataView, pos: number, run: PackedBytes): number {
  const words = run.words;
  for (let k = 0; k < words.length; k++) out.setUint32(pos + 4 * k, words[k], true);
  return pos + run.length;
}

/**
 * The output buffer of one file, reused across chunks and batches. The sink keeps a reference
 * to what it is given until the stream has consumed it, so handed-out bytes are never written
 * again: `take` hands out the filled part and starts a new buffer (uninitialized memory, as
 * every byte is written before it is read), or, when only a little is filled, a copy.
 */
export class ByteBuffer {
  bytes: Uint8Array;
  view: DataView;
  length = 0;

  constructor(private readonly capacity: number) {
    this.bytes = Buffer.allocUnsafe(capacity);
    this.view = viewBytes(this.bytes);
  }

  /** Makes room for `extra` more bytes (plus WRITE_SLACK) after `length`. */
  reserve(extra: number): void {
    const needed = this.length + extra + WRITE_SLACK;
    if (needed <= this.bytes.length) return;
    const grown = Buffer.allocUnsafe(Math.max(needed, this.capacity));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
    this.view = viewBytes(grown);
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
    this.view = viewBytes(this.bytes);
    return out;
  }
}

/** A DataView of bytes, for reading them a word at a time. */
export function viewBytes(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
