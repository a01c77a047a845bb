import { constants } from 'node:buffer';
import { CompressionType, compressionRegistry } from 'apache-arrow';
import { decodeZstd } from './ipc-zstd.js';

/**
 * Decoders for compressed Arrow IPC bodies (the IPC format's optional buffer compression):
 * pyarrow writes Feather v2 files LZ4-compressed by default (`pandas.DataFrame.to_feather`,
 * `pyarrow.feather.write_feather`) and ZSTD on request. apache-arrow reads such bodies through
 * its compression registry but ships no codecs, so they are registered here: ZSTD by fzstd
 * (pure JS), LZ4 frames by the decoder below. A codec the host application registered already
 * is kept; only a missing decoder is added.
 */
export function registerIPCDecoders(): void {
  addDecoder(CompressionType.LZ4_FRAME, (bytes) => decodeLz4Frames(bytes, declaredLength(bytes)));
  addDecoder(CompressionType.ZSTD, (bytes) => aligned(decodeZstd(bytes, declaredLength(bytes), maxDecodedLength(CompressionType.ZSTD, bytes.byteLength))));
}

/**
 * The most bytes `compressedLength` bytes of `codec` can decode to: in LZ4 every further
 * length byte adds at most 255 bytes; in zstd a 4-byte RLE block (3-byte header, one byte)
 * stands for at most one 128 KiB block. Never more than the largest buffer Node can make. A
 * buffer declaring more is damaged, and is refused before anything is allocated for it.
 */
export function maxDecodedLength(codec: CompressionType, compressedLength: number): number {
  const ratio = codec === CompressionType.LZ4_FRAME ? 255 : 32_768;
  return Math.min(constants.MAX_LENGTH, ratio * Math.max(compressedLength, 0) + 64);
}

/**
 * The uncompressed length in front of a compressed buffer. apache-arrow's reader hands a codec
 * the buffer after its 8-byte length prefix as a view into the message body (reader.ts
 * `_decompressBuffers`), so the prefix is the 8 bytes before the view; ipc-stream-check.ts has
 * checked it against `maxDecodedLength` as the body went by. Null when there are no 8 bytes
 * before the view or they are out of range: then only the codec's own bound applies.
 */
function declaredLength(bytes: Uint8Array): number | null {
  if (bytes.byteOffset < 8) return null;
  const value = new DataView(bytes.buffer, bytes.byteOffset - 8, 8).getBigInt64(0, true);
  return value >= 0n && value <= BigInt(constants.MAX_LENGTH) ? Number(value) : null;
}

/** The reader views decoded buffers as typed arrays (BigInt64Array needs 8-byte alignment). */
function aligned(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset % 8 === 0 ? bytes : bytes.slice();
}

function addDecoder(type: CompressionType, decode: (bytes: Uint8Array) => Uint8Array): void {
  const existing = compressionRegistry.get(type);
  if (typeof existing?.decode === 'function') return;
  compressionRegistry.set(type, { ...existing, decode });
}

const LZ4_MAGIC = 0x184d2204;
/** Skippable frames: magic 0x184D2A50 to 0x184D2A5F, then a u32 length. */
const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;
const MIN_MATCH = 4;
/** Largest decoded block, by the BD byte's size code (4: 64 KiB … 7: 4 MiB). */
const BLOCK_MAX_SIZES: readonly (number | undefined)[] = [undefined, undefined, undefined, undefined, 1 << 16, 1 << 18, 1 << 20, 1 << 22];

/** A malformed LZ4 input; apache-arrow's reader turns it into the source's failure. */
function corrupt(what: string): Error {
  return new Error(`corrupt LZ4 frame: ${what}`);
}

/** The decoded bytes as they grow (the frame rarely says its content size), never past `limit`. */
class Output {
  bytes: Uint8Array;
  length = 0;

  constructor(capacity: number, readonly limit: number) {
    this.bytes = new Uint8Array(Math.min(Math.max(capacity, 64), limit));
  }

  /** Room for `extra` more bytes, or as many as the limit leaves (the caller checks what it writes against the limit). */
  reserve(extra: number): void {
    const needed = Math.min(this.length + extra, this.limit);
    if (needed <= this.bytes.length) return;
    const grown = new Uint8Array(Math.min(Math.max(needed, this.bytes.length * 2), this.limit));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }
}

/**
 * Decodes one or more concatenated LZ4 frames (LZ4 frame format 1.6.x): independent or linked
 * blocks, optional block and content checksums (skipped, not verified), optional content size,
 * skippable frames. Every length and offset is checked against the input, so a damaged frame
 * throws instead of yielding wrong bytes. With `expected` (the Arrow buffer's declared length)
 * the output must be exactly that long and is never allowed to grow past it; without, it is
 * bounded by what LZ4 can make of the input at all.
 */
export function decodeLz4Frames(input: Uint8Array, expected: number | null = null): Uint8Array {
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  const limit = expected ?? maxDecodedLength(CompressionType.LZ4_FRAME, input.length);
  const out = new Output(input.length * 3, limit);
  let pos = 0;
  const need = (n: number, what: string): void => {
    if (pos + n > input.length) throw corrupt(`the input ends inside ${what}`);
  };
  do {
    need(4, 'a frame magic number');
    const magic = view.getUint32(pos, true);
    pos += 4;
    if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE_MAGIC) {
      need(4, 'a skippable frame');
      const size = view.getUint32(pos, true);
      pos += 4;
      need(size, 'a skippable frame');
      pos += size;
      continue;
    }
    if (magic !== LZ4_MAGIC) throw corrupt(`bad magic number 0x${magic.toString(16)}`);
    need(3, 'the frame descriptor');
    const flags = input[pos];
    if (flags >> 6 !== 1) throw corrupt(`unknown frame version ${flags >> 6}`);
    const blockChecksums = (flags & 0x10) !== 0;
    const contentSize = (flags & 0x08) !== 0;
    const contentChecksum = (flags & 0x04) !== 0;
    if ((flags & 0x01) !== 0) throw corrupt('the frame needs a dictionary');
    const blockMax = BLOCK_MAX_SIZES[(input[pos + 1] >> 4) & 7];
    if (blockMax === undefined) throw corrupt(`unknown block maximum size ${(input[pos + 1] >> 4) & 7}`);
    pos += 2; // FLG, BD
    if (contentSize) {
      need(9, 'the frame descriptor');
      const size = view.getBigUint64(pos, true);
      if (size > BigInt(limit - out.length)) throw corrupt(`a frame's content size ${size} exceeds the ${limit} bytes the buffer can hold`);
      out.reserve(Number(size));
      pos += 8;
    }
    pos += 1; // header checksum
    for (;;) {
      need(4, 'a block size');
      const word = view.getUint32(pos, true);
      pos += 4;
      if (word === 0) break; // end mark
      const size = word & 0x7fffffff;
      if (size > blockMax) throw corrupt(`a block of ${size} bytes in a frame of blocks of at most ${blockMax}`);
      need(size + (blockChecksums ? 4 : 0), 'a block');
      if (word & 0x80000000) {
        if (size > limit - out.length) throw corrupt(`the output exceeds the ${limit} bytes the buffer can hold`);
        out.reserve(size);
        out.bytes.set(input.subarray(pos, pos + size), out.length);
        out.length += size;
      } else {
        decodeBlock(input, pos, pos + size, out, blockMax);
      }
      pos += size + (blockChecksums ? 4 : 0);
    }
    if (contentChecksum) {
      need(4, 'the content checksum');
      pos += 4;
    }
  } while (pos < input.length);
  if (expected !== null && out.length !== expected) throw corrupt(`decodes to ${out.length} bytes, not the ${expected} its buffer declares`);
  return out.length === out.bytes.length ? out.bytes : out.bytes.slice(0, out.length);
}

/** Decodes the LZ4 block at input[start..end) onto the end of `out`; matches may reach into earlier blocks. */
function decodeBlock(input: Uint8Array, start: number, end: number, out: Output, blockMax: number): void {
  // A decoded block is at most blockMax bytes (and never past the output's limit): reserving
  // that at once keeps the loop free of capacity checks; each copy only checks it stays within
  // that bound.
  out.reserve(blockMax);
  const bytes = out.bytes;
  let to = out.length;
  const limit = Math.min(to + blockMax, out.limit);
  let pos = start;
  for (;;) {
    if (pos >= end) throw corrupt('a block ends without its last literals');
    const token = input[pos++];
    let literals = token >> 4;
    if (literals === 15) {
      let more: number;
      do {
        if (pos >= end) throw corrupt('a literal length runs past its block');
        more = input[pos++];
        literals += more;
      } while (more === 255);
    }
    if (pos + literals > end) throw corrupt('literals run past their block');
    if (to + literals > limit) throw corrupt('a block decodes to more than its maximum size or than its buffer declares');
    if (literals < 32) {
      for (let k = 0; k < literals; k++) bytes[to + k] = input[pos + k];
    } else {
      bytes.set(input.subarray(pos, pos + literals), to);
    }
    to += literals;
    pos += literals;
    if (pos === end) break; // the last sequence has literals only
    if (pos + 2 > end) throw corrupt('a match offset runs past its block');
    const offset = input[pos] | (input[pos + 1] << 8);
    pos += 2;
    if (offset === 0 || offset > to) throw corrupt(`match offset ${offset} points before the start of the output`);
    let length = (token & 15) + MIN_MATCH;
    if ((token & 15) === 15) {
      let more: number;
      do {
        if (pos >= end) throw corrupt('a match length runs past its block');
        more = input[pos++];
        length += more;
      } while (more === 255);
    }
    if (to + length > limit) throw corrupt('a block decodes to more than its maximum size or than its buffer declares');
    let from = to - offset;
    if (length >= 32 && offset >= length) {
      bytes.copyWithin(to, from, from + length);
      to += length;
    } else {
      // Short, or overlapping (the match repeats bytes it is writing: a run): byte by byte.
      for (const stop = to + length; to < stop;) bytes[to++] = bytes[from++];
    }
  }
  out.length = to;
}
