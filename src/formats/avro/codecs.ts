import { Buffer } from 'node:buffer';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { HEAD_ROOM, type RawBlock } from './block.js';
import type { AvroCodec, ResolvedAvroOptions } from './options.js';
import { SYNC_BYTES } from './options.js';
import { compressSnappy, maxSnappyLength } from './snappy.js';
import { measureLongNumber, writeLongNumber } from './varint.js';

/**
 * The block codecs of the object container format (spec 1.11, "Required Codecs", "Optional
 * Codecs"). A block in the file is: object count (long), byte size of the data (long), the data
 * as the codec stores it, the file's 16-byte sync marker. Each codec returns those bytes,
 * ready for the sink, in one buffer that nothing touches afterwards.
 */
export interface BlockCodec {
  readonly name: AvroCodec;
  /** True when the framed bytes reuse the raw block's buffer (so it cannot be reused). */
  readonly keepsRawBuffer: boolean;
  frameBlock(block: RawBlock, sync: Uint8Array): Promise<Uint8Array>;
}

/** `workers`: threads the export may use (1: deflate on the calling thread only). */
export function chooseCodec(options: ResolvedAvroOptions, workers: number): BlockCodec {
  switch (options.codec) {
    case 'null': return nullCodec;
    case 'deflate': return deflateCodec(options.deflateLevel, workers);
    case 'snappy': return snappyCodec;
  }
}

/** Writes count and size right before `dataStart` (room is left there); returns where they begin. */
function writeBlockHead(out: Uint8Array, dataStart: number, rows: number, size: number): number {
  const start = dataStart - measureLongNumber(rows) - measureLongNumber(size);
  writeLongNumber(out, writeLongNumber(out, start, rows), size);
  return start;
}

/** "null": the data as is, framed in place in the block's own buffer. */
const nullCodec: BlockCodec = {
  name: 'null',
  keepsRawBuffer: true,
  async frameBlock(block, sync) {
    const { bytes, start, end, rows } = block;
    const head = writeBlockHead(bytes, start, rows, end - start);
    bytes.set(sync, end);
    return bytes.subarray(head, end + SYNC_BYTES);
  },
};

const deflateRaw = promisify(zlib.deflateRaw);

/**
 * "deflate": raw RFC 1951 data, no zlib header or checksum. Deflating costs about four times
 * what encoding does. With workers: 1 (the single-threaded program) every block is deflated
 * right here; with more, every block goes to libuv's thread pool while the main thread encodes
 * the next ones (the container keeps at most 8 blocks pending and writes them in order), so
 * the main thread's encoding is the critical path. Issue #12, 5M rows on two shared cores:
 * 5.24 s with one thread, 4.87 s when only one block at a time went to the pool and the next
 * was deflated here, 3.73 s with all of them in the pool.
 * memLevel 9 (a larger hash table, 256 KiB more per stream) deflated the benchmark table's
 * blocks 15–20 % faster than the default 8, to the same size; the window stays 32 KiB.
 */
function deflateCodec(level: number, workers: number): BlockCodec {
  const options: zlib.ZlibOptions = { level, memLevel: 9, chunkSize: 1 << 18 };
  const inBackground = workers > 1;
  return {
    name: 'deflate',
    keepsRawBuffer: false,
    async frameBlock(block, sync) {
      const data = block.bytes.subarray(block.start, block.end);
      const deflated = inBackground ? await deflateRaw(data, options) : zlib.deflateRawSync(data, options);
      return frameCopy(block.rows, deflated, sync);
    },
  };
}

/** Head, data and sync in one new buffer (the data is the compressed, smaller, copy). */
function frameCopy(rows: number, data: Uint8Array, sync: Uint8Array): Uint8Array {
  const headBytes = measureLongNumber(rows) + measureLongNumber(data.length);
  const out = Buffer.allocUnsafe(headBytes + data.length + SYNC_BYTES);
  writeLongNumber(out, writeLongNumber(out, 0, rows), data.length);
  out.set(data, headBytes);
  out.set(sync, headBytes + data.length);
  return out;
}

const CRC_BYTES = 4;

/**
 * "snappy": a snappy block followed by the big-endian CRC-32 of the uncompressed data.
 * Compressed straight into the framed buffer, then framed in place.
 */
const snappyCodec: BlockCodec = {
  name: 'snappy',
  keepsRawBuffer: false,
  async frameBlock(block, sync) {
    const { bytes, start, end, rows } = block;
    const out = Buffer.allocUnsafe(HEAD_ROOM + maxSnappyLength(end - start) + CRC_BYTES + SYNC_BYTES);
    let pos = compressSnappy(bytes, start, end, out, HEAD_ROOM);
    out.writeUInt32BE(crc32(bytes.subarray(start, end)), pos);
    pos += CRC_BYTES;
    const head = writeBlockHead(out, HEAD_ROOM, rows, pos - HEAD_ROOM);
    out.set(sync, pos);
    return out.subarray(head, pos + SYNC_BYTES);
  },
};

/** CRC-32 (ISO-HDLC, as zlib): node's zlib.crc32 where present (20.15+), else a table. */
export function crc32(data: Uint8Array): number {
  return typeof zlib.crc32 === 'function' ? zlib.crc32(data) >>> 0 : crc32Table(data);
}

let CRC_TABLE: Uint32Array | null = null;

export function crc32Table(data: Uint8Array): number {
  if (CRC_TABLE === null) {
    CRC_TABLE = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      CRC_TABLE[n] = c >>> 0;
    }
  }
  const table = CRC_TABLE;
  let crc = -1;
  for (let i = 0; i < data.length; i++) crc = table[(crc ^ data[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}
