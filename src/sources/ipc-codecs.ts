import { CompressionType, compressionRegistry } from 'apache-arrow';
import { decompress as decompressZstd } from 'fzstd';

/**
 * Decoders for compressed Arrow IPC bodies (the IPC format's optional buffer compression):
 * pyarrow writes Feather v2 files LZ4-compressed by default (`pandas.DataFrame.to_feather`,
 * `pyarrow.feather.write_feather`) and ZSTD on request. apache-arrow reads such bodies through
 * its compression registry but ships no codecs, so they are registered here: ZSTD by fzstd
 * (pure JS), LZ4 frames by the decoder below. A codec the host application registered already
 * is kept; only a missing decoder is added.
 */
export function registerIPCDecoders(): void {
  addDecoder(CompressionType.LZ4_FRAME, decodeLz4Frames);
  addDecoder(CompressionType.ZSTD, (bytes) => aligned(decompressZstd(bytes)));
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

/** The decoded bytes as they grow (the frame rarely says its content size). */
class Output {
  bytes: Uint8Array;
  length = 0;

  constructor(capacity: number) {
    this.bytes = new Uint8Array(Math.max(capacity, 64));
  }

  reserve(extra: number): void {
    const needed = this.length + extra;
    if (needed <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(needed, this.bytes.length * 2));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }
}

/**
 * Decodes one or more concatenated LZ4 frames (LZ4 frame format 1.6.x): independent or linked
 * blocks, optional block and content checksums (skipped, not verified), optional content size,
 * skippable frames. Every length and offset is checked against the input, so a damaged frame
 * throws instead of yielding wrong bytes.
 */
export function decodeLz4Frames(input: Uint8Array): Uint8Array {
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  const out = new Output(input.length * 3);
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
      const size = Number(view.getBigUint64(pos, true));
      out.reserve(size);
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
  return out.length === out.bytes.length ? out.bytes : out.bytes.slice(0, out.length);
}

/** Decodes the LZ4 block at input[start..end) onto the end of `out`; matches may reach into earlier blocks. */
function decodeBlock(input: Uint8Array, start: number, end: number, out: Output, blockMax: number): void {
  // A decoded block is at most blockMax bytes: reserving that at once keeps the loop free of
  // capacity checks; each copy only checks it stays within the block's bound.
  out.reserve(blockMax);
  const bytes = out.bytes;
  let to = out.length;
  const limit = to + blockMax;
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
    if (to + literals > limit) throw corrupt('a block decodes to more than its maximum size');
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
    if (to + length > limit) throw corrupt('a block decodes to more than its maximum size');
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
