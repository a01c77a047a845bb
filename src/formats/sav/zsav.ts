/**
 * zsav data (fact sheet B8): after the dictionary, a 24-byte zheader, then the bytecode stream
 * cut into blocks of 0x3FF000 bytes, each an independent zlib stream, then the ztrailer that
 * indexes them. The zheader's trailer offset and length are patched at the end.
 */
import { Buffer } from 'node:buffer';
import { promisify } from 'node:util';
import { deflate } from 'node:zlib';
import type { ByteSink, Patch } from '../protocol.js';
import type { DataOutput } from './bytecode.js';
import { RecordWriter, int64Bytes } from './record-writer.js';

/** B8: uncompressed bytes per block, as SPSS writes them. */
export const ZSAV_BLOCK_SIZE = 0x3ff000;
export const ZHEADER_BYTES = 24;

const deflateAsync = promisify(deflate);

interface BlockEntry {
  uncompressed: number;
  compressed: number;
}

/** The zheader as first written: its own offset, then zeros for the trailer fields (patched). */
export function zheaderBytes(zheader_ofs: number): Uint8Array {
  const out = new RecordWriter();
  out.writeBigInt64(BigInt(zheader_ofs));
  out.writeBigInt64(0n);
  out.writeBigInt64(0n);
  return out.bytes();
}

/**
 * Blocks being deflated at once, on the libuv thread pool, while the next is being encoded:
 * blocks are independent zlib streams (B8), so two cores can compress in parallel. Memory
 * stays at most MAX_IN_FLIGHT + 1 blocks of 4 MB.
 */
const MAX_IN_FLIGHT = 3;

interface InFlight {
  /** The whole block buffer, recycled once its deflate has ended. */
  input: Buffer;
  size: number;
  compressed: Promise<Buffer>;
}

/** Collects the bytecode stream into blocks, deflates them concurrently and writes them in order. */
export class ZsavBlocks implements DataOutput {
  readonly copies = true;
  private block: Buffer = Buffer.allocUnsafeSlow(ZSAV_BLOCK_SIZE);
  private fill = 0;
  private readonly free: Buffer[] = [];
  private readonly inFlight: InFlight[] = [];
  private readonly entries: BlockEntry[] = [];

  constructor(private readonly sink: ByteSink, private readonly zheader_ofs: number, private readonly level: number) {}

  async write(bytes: Uint8Array): Promise<void> {
    let at = 0;
    while (at < bytes.length) {
      const n = Math.min(bytes.length - at, ZSAV_BLOCK_SIZE - this.fill);
      this.block.set(bytes.subarray(at, at + n), this.fill);
      this.fill += n;
      at += n;
      if (this.fill === ZSAV_BLOCK_SIZE) await this.startBlock();
    }
  }

  /** Starts deflating the filled block; the input buffer is not touched until its deflate ends. */
  private async startBlock(): Promise<void> {
    if (this.inFlight.length >= MAX_IN_FLIGHT) await this.writeOldest();
    const input = this.block.subarray(0, this.fill);
    const compressed = deflateAsync(input, { level: this.level });
    compressed.catch(() => undefined); // observed in writeOldest; not an unhandled rejection meanwhile
    this.inFlight.push({ input: this.block, size: this.fill, compressed });
    this.block = this.free.pop() ?? Buffer.allocUnsafeSlow(ZSAV_BLOCK_SIZE);
    this.fill = 0;
  }

  /** Waits for the oldest block, writes it (blocks stay in order) and recycles its buffer. */
  private async writeOldest(): Promise<void> {
    const oldest = this.inFlight.shift();
    if (!oldest) return;
    const compressed = await oldest.compressed;
    this.free.push(oldest.input);
    this.entries.push({ uncompressed: oldest.size, compressed: compressed.length });
    await this.sink.write(compressed);
  }

  /** Writes the last block and the ztrailer; returns the zheader patch. */
  async finish(): Promise<Patch> {
    if (this.fill > 0) await this.startBlock();
    while (this.inFlight.length > 0) await this.writeOldest();
    const ztrailer_ofs = this.zheader_ofs + ZHEADER_BYTES + this.entries.reduce((n, e) => n + e.compressed, 0);
    const trailer = new RecordWriter();
    trailer.writeBigInt64(-100n); // −bias
    trailer.writeBigInt64(0n);
    trailer.writeInt32(ZSAV_BLOCK_SIZE);
    trailer.writeInt32(this.entries.length);
    let uncompressed_ofs = this.zheader_ofs;
    let compressed_ofs = this.zheader_ofs + ZHEADER_BYTES;
    for (const e of this.entries) {
      trailer.writeBigInt64(BigInt(uncompressed_ofs));
      trailer.writeBigInt64(BigInt(compressed_ofs));
      trailer.writeInt32(e.uncompressed);
      trailer.writeInt32(e.compressed);
      uncompressed_ofs += e.uncompressed;
      compressed_ofs += e.compressed;
    }
    const bytes = trailer.bytes();
    await this.sink.write(bytes);
    const patch = new Uint8Array(16);
    patch.set(int64Bytes(BigInt(ztrailer_ofs)), 0);
    patch.set(int64Bytes(BigInt(bytes.length)), 8);
    return { position: this.zheader_ofs + 8, bytes: patch };
  }
}
