import type * as Fzstd from 'fzstd';
import { lazyRequire } from '../lazy-require.js';

const loadFzstd = lazyRequire<typeof Fzstd>('fzstd');

/**
 * ZSTD bodies of Arrow IPC buffers, decoded by fzstd (pure JS) within bounds. fzstd sizes what
 * it allocates by the frame header (its content size, else its window of up to 2 GiB) and
 * grows its output with the data, so a damaged header or a crafted frame could ask for
 * gigabytes. Given the length the Arrow buffer declares, the output is allocated at exactly
 * that size and fzstd writes into it; the frame's own content size, when it gives one (Arrow
 * C++ always does), must agree.
 */

const ZSTD_MAGIC = 0xfd2fb528;
const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;
/** libzstd refuses larger windows unless told otherwise (ZSTD_WINDOWLOG_LIMIT_DEFAULT = 27). */
const MAX_WINDOW = 2 ** 27;

function corrupt(what: string): Error {
  return new Error(`corrupt ZSTD frame: ${what}`);
}

interface FrameHeader {
  readonly contentSize: number | null;
  readonly windowSize: number;
}

/** The first frame's header (RFC 8878 §3.1.1.1), or null when the input starts with a skippable frame. */
function readFrameHeader(bytes: Uint8Array): FrameHeader | null {
  if (bytes.byteLength < 6) throw corrupt('the input is shorter than a frame header');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, true);
  if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE_MAGIC) return null;
  if (magic !== ZSTD_MAGIC) throw corrupt(`bad magic number 0x${magic.toString(16)}`);
  const descriptor = bytes[4];
  const singleSegment = (descriptor & 0x20) !== 0;
  if ((descriptor & 0x08) !== 0) throw corrupt('the reserved bit of the frame header is set');
  if ((descriptor & 0x03) !== 0) throw corrupt('the frame needs a dictionary');
  let pos = 5;
  let windowSize = 0;
  if (!singleSegment) {
    const exponent = bytes[pos] >> 3;
    const base = 2 ** (10 + exponent);
    windowSize = base + (base / 8) * (bytes[pos] & 7);
    pos += 1;
  }
  const sizeBytes = [singleSegment ? 1 : 0, 2, 4, 8][descriptor >> 6];
  if (pos + sizeBytes > bytes.byteLength) throw corrupt('the input ends inside the frame header');
  let contentSize: number | null = null;
  if (sizeBytes === 1) contentSize = bytes[pos];
  else if (sizeBytes === 2) contentSize = view.getUint16(pos, true) + 256;
  else if (sizeBytes === 4) contentSize = view.getUint32(pos, true);
  else if (sizeBytes === 8) contentSize = Number(view.getBigUint64(pos, true));
  return { contentSize, windowSize: singleSegment ? (contentSize ?? 0) : windowSize };
}

/**
 * Decodes a ZSTD buffer (one frame, as Arrow writers make). With `expected` (the Arrow buffer's
 * declared length) the output is exactly that long; without, it may be no longer than `bound`
 * (what zstd can make of the input at all) and the frame's window no larger than libzstd accepts.
 */
export function decodeZstd(bytes: Uint8Array, expected: number | null, bound: number): Uint8Array {
  const limit = expected ?? bound;
  const header = readFrameHeader(bytes);
  const contentSize = header?.contentSize ?? null;
  if (contentSize !== null && (contentSize > limit || (expected !== null && contentSize !== expected))) {
    throw corrupt(`the frame's content size ${contentSize} differs from the ${limit} bytes its buffer ${expected === null ? 'can hold' : 'declares'}`);
  }
  if (expected !== null) {
    const out = loadFzstd().decompress(bytes, new Uint8Array(expected));
    // fzstd gives one output per frame, concatenated: more than one frame shows here.
    if (out.byteLength !== expected) throw corrupt(`decodes to ${out.byteLength} bytes, not the ${expected} its buffer declares`);
    return out;
  }
  if (header !== null && header.contentSize === null && header.windowSize > MAX_WINDOW) {
    throw corrupt(`a window of ${header.windowSize} bytes is larger than zstd decoders accept (${MAX_WINDOW})`);
  }
  const out = loadFzstd().decompress(bytes);
  if (out.byteLength > limit) throw corrupt(`decodes to ${out.byteLength} bytes, more than zstd can make of ${bytes.byteLength}`);
  return out;
}
