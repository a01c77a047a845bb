import { CompressionType, MessageHeader } from 'apache-arrow';
import type { Schema } from 'apache-arrow';
import { maxDecodedLength } from './ipc-codecs.js';
import { batchHeaderOf, checkColumnLengths, corrupt, decodeMessage, readPrefix, topLevelNodeCounts } from './ipc-messages.js';

/** Where a stream's messages lie in the input, for the messages of its errors and its bounds. */
export interface StreamBounds {
  readonly label: string;
  /** Offset in the input of the first byte of the stream. */
  readonly start: number;
  /** Offset where the stream part ends (an IPC file's footer, a file's size), or null when unknown (a one-shot stream). */
  readonly end: number | null;
  /** The schema when it comes from elsewhere (an IPC file's footer); a schema message in the stream takes over. */
  readonly schema?: Schema | null;
}

/**
 * Passes the chunks of an IPC stream on unchanged (no copies) while following its messages,
 * and throws SOURCE_FAILED at the first length that is negative, runs past the end of the
 * input or is beyond reason (ipc-messages.ts), and at a compressed buffer declaring an
 * uncompressed size its codec cannot produce. A chunk is handed on only once every message
 * it completes has been checked, so apache-arrow's reader, which needs a message whole
 * before it decodes it, never sees one that failed.
 */
export async function* checkStream(chunks: AsyncIterable<Uint8Array>, bounds: StreamBounds): AsyncGenerator<Uint8Array, void, undefined> {
  const follower = new MessageFollower(bounds);
  for await (const chunk of chunks) {
    follower.feed(chunk);
    yield chunk;
  }
  follower.finish();
}

/** A compressed buffer's uncompressed-length prefix, gathered as its body goes by. */
interface LengthPrefix {
  readonly at: number; // offset in the body
  readonly compressedLength: number;
  readonly bytes: Uint8Array;
  got: number;
}

type Phase = 'prefix' | 'metadata' | 'body' | 'ended';

/** Follows messages fed to it chunk by chunk, throwing at the first bad length (see checkStream). */
export class MessageFollower {
  private pos: number; // input offset of the next byte to look at
  private messageAt: number;
  private phase: Phase = 'prefix';
  private pending: Uint8Array = new Uint8Array(0); // the length prefix or metadata gathered so far
  private metadataLength = 0;
  private bodyLength = 0;
  private bodyLeft = 0;
  private codec = CompressionType.LZ4_FRAME;
  private prefixes: LengthPrefix[] = [];
  /** Field nodes per top-level column, once the schema is known. */
  private topLevel: number[] | null;

  constructor(private readonly bounds: StreamBounds) {
    this.pos = bounds.start;
    this.messageAt = bounds.start;
    this.topLevel = bounds.schema ? topLevelNodeCounts(bounds.schema) : null;
  }

  feed(chunk: Uint8Array): void {
    let i = 0;
    while (i < chunk.byteLength && this.phase !== 'ended') {
      const before = i;
      if (this.phase === 'prefix') {
        i += this.gather(chunk, i, this.pending.byteLength < 4 ? 4 : 8);
        if (this.pending.byteLength === 4 || this.pending.byteLength === 8) this.startMetadata();
      } else if (this.phase === 'metadata') {
        i += this.gather(chunk, i, this.metadataLength);
        if (this.pending.byteLength === this.metadataLength) this.startBody(this.pos + i - before);
      } else {
        const take = Math.min(this.bodyLeft, chunk.byteLength - i);
        if (this.prefixes.length > 0) this.gatherPrefixes(chunk.subarray(i, i + take), this.bodyLength - this.bodyLeft);
        this.bodyLeft -= take;
        i += take;
        if (this.bodyLeft === 0) this.nextMessage(this.pos + i - before);
      }
      this.pos += i - before;
    }
  }

  /** At the end of the input: a message cut short is an error (arrow would only say it wanted more bytes). */
  finish(): void {
    if (this.phase === 'metadata' || this.phase === 'body' || (this.phase === 'prefix' && this.pending.byteLength > 0)) {
      throw corrupt(this.bounds.label, this.messageAt, 'the input ends inside a message (truncated?)');
    }
  }

  private room(from: number): number {
    return this.bounds.end === null ? Number.MAX_SAFE_INTEGER : this.bounds.end - from;
  }

  private gather(chunk: Uint8Array, from: number, want: number): number {
    const take = Math.min(want - this.pending.byteLength, chunk.byteLength - from);
    this.pending = concat(this.pending, chunk.subarray(from, from + take));
    return take;
  }

  private nextMessage(at: number): void {
    this.phase = 'prefix';
    this.messageAt = at;
    this.pending = new Uint8Array(0);
  }

  private startMetadata(): void {
    const { label } = this.bounds;
    const prefix = readPrefix(this.pending, label, this.messageAt);
    if (prefix === null) return; // a continuation marker: the length is in the next 4 bytes
    if (prefix.metadataLength === 0) {
      this.phase = 'ended'; // the end-of-stream marker: arrow reads no further
      this.pending = new Uint8Array(0);
      return;
    }
    const left = this.room(this.messageAt + prefix.size);
    if (prefix.metadataLength > left) {
      throw corrupt(label, this.messageAt, `a message's metadata (${prefix.metadataLength} bytes) runs past the end of the input (${left} bytes left)`);
    }
    this.metadataLength = prefix.metadataLength;
    this.phase = 'metadata';
    this.pending = new Uint8Array(0);
  }

  private startBody(bodyStart: number): void {
    const { label } = this.bounds;
    const message = decodeMessage(this.pending, label, this.messageAt);
    const left = this.room(bodyStart);
    if (message.bodyLength > left) {
      throw corrupt(label, this.messageAt, `a message's body (${message.bodyLength} bytes) runs past the end of the input (${left} bytes left)`);
    }
    if (message.headerType === MessageHeader.Schema) this.topLevel = topLevelNodeCounts(message.header() as Schema);
    checkColumnLengths(message, this.topLevel, label, this.messageAt);
    const batch = batchHeaderOf(message);
    const compression = batch?.compression ?? null;
    this.codec = compression?.type ?? CompressionType.LZ4_FRAME;
    this.prefixes = compression === null || batch === null ? [] : batch.buffers
      .filter((b) => b.length > 0)
      .map((b) => ({ at: b.offset, compressedLength: b.length - 8, bytes: new Uint8Array(8), got: 0 }));
    this.bodyLength = message.bodyLength;
    this.bodyLeft = message.bodyLength;
    this.pending = new Uint8Array(0);
    if (message.headerType === MessageHeader.Schema || this.bodyLeft === 0) this.nextMessage(bodyStart);
    else this.phase = 'body';
  }

  /** Copies what `piece` (body bytes from body offset `from`) holds of the compressed buffers' length prefixes. */
  private gatherPrefixes(piece: Uint8Array, from: number): void {
    for (const p of this.prefixes) {
      const begin = p.at + p.got - from;
      if (p.got === 8 || begin < 0 || begin >= piece.byteLength) continue;
      const take = Math.min(8 - p.got, piece.byteLength - begin);
      p.bytes.set(piece.subarray(begin, begin + take), p.got);
      p.got += take;
      if (p.got === 8) this.checkDeclared(p);
    }
  }

  /** A compressed buffer's declared uncompressed length: -1 (stored as is) or what its codec can make of its bytes. */
  private checkDeclared(p: LengthPrefix): void {
    const declared = new DataView(p.bytes.buffer).getBigInt64(0, true);
    if (declared === -1n) return;
    const max = maxDecodedLength(this.codec, p.compressedLength);
    if (declared < 0n || declared > BigInt(max)) {
      throw corrupt(this.bounds.label, this.messageAt,
        `a compressed buffer of ${p.compressedLength} bytes declares ${declared} bytes uncompressed (at most ${max} possible)`);
    }
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a);
  out.set(b, a.byteLength);
  return out;
}
