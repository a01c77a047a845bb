import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { ExportError } from '../errors.js';
import { FILE_HEAD, hasFileMagic, readFileLayout } from './ipc-footer.js';
import type { FileLayout } from './ipc-footer.js';
import { decodeMessage, readPrefix, type ReadAt } from './ipc-messages.js';
import type { RandomAccessReader } from './random-access.js';
import { rangesOf, type SourceRanges } from './ranges.js';
import { checkStream } from './ipc-stream-check.js';
import type { StreamBounds } from './ipc-stream-check.js';


/**
 * Arrow IPC bytes as a stream: the IPC *stream* part of the input, the file format's leading
 * magic already stripped, so one sequential stream reader handles both formats. (An IPC file is
 * `ARROW1`, padding, the stream format with its end-of-stream marker, then the footer.) The
 * chunks have been through the message check (ipc-stream-check.ts).
 */
export interface ByteInput {
  readonly chunks: AsyncIterable<Uint8Array>;
  readonly totalBytes: number | null;
  /** From the IPC file footer, when the input is a file-format path or buffer. */
  readonly numRows: number | null;
  bytesRead(): number;
  /** Stops reading and releases the underlying stream and files; safe to call twice. */
  close(): Promise<void>;
  /** When worker threads may read the batches themselves (a local IPC file): see ranges.ts. */
  readonly ranges?: SourceRanges | null;
}

/** Read in large chunks: each Arrow message is assembled from them, so fewer joins per batch. */
const CHUNK = 1 << 20;

/** Positioned reads of an open file of `size` bytes, never asking for (or allocating) more than is left in it. */
export function fileReadAt(handle: FileHandle, size: number): ReadAt {
  return async (offset, length) => {
    const want = Math.max(0, Math.min(length, size - offset));
    const buffer = new Uint8Array(want);
    let done = 0;
    while (done < want) {
      const { bytesRead } = await handle.read(buffer, done, want - done, offset + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return buffer.subarray(0, done);
  };
}

/**
 * An IPC path: sniffed and, for the file format, its footer read with small positioned reads
 * (every length checked against the file's size before anything is read at it); then streamed.
 */
export async function openPathInput(path: string, label: string, release: () => Promise<void> = async () => undefined): Promise<ByteInput> {
  const handle = await open(path, 'r');
  let size = 0;
  let layout: FileLayout | null = null;
  try {
    size = (await handle.stat()).size;
    const readAt = fileReadAt(handle, size);
    if (hasFileMagic(await readAt(0, FILE_HEAD))) layout = await readFileLayout(readAt, size, label);
  } finally {
    await handle.close();
  }
  const start = layout ? FILE_HEAD : 0;
  const end = layout ? layout.streamEnd : size;
  const reader = end > start ? new MessageReader(path, start, end, label) : null;
  const counted = countBytes(reader ? reader.chunks() : [], start, async () => {
    await reader?.close();
    await release();
  });
  return {
    ...counted, totalBytes: size, numRows: layout?.numRows ?? null, ranges: rangesOf(path, label, layout),
    chunks: checkedChunks(layout?.lead ?? null, counted.chunks, { label, start, end, schema: layout?.schema }),
  };
}

/**
 * A file's IPC messages read one by one: each message's length prefix and metadata in one
 * chunk, its body in one read of exactly its length, so apache-arrow's reader takes the body
 * as it is (a view), where chunks of a fixed size made it join the pieces of every body into a
 * new buffer. Per 5M rows that was ~0.1 s of copying and, with twice the bytes allocated, ~0.1 s
 * more of V8 collections for external memory, on every pass over the file (issue #12). Where a
 * length looks wrong, the rest goes in plain chunks, for checkStream to name the damage as it
 * always has. (Bodies in SharedArrayBuffers read a little faster — fewer collections — but
 * V8 counts no external memory for them, so it freed them late: a 10M-row sav export peaked at
 * 497 MB instead of ~300. Sending workers views of them instead of packed copies also cost
 * more than the copy: V8's helper threads spent ~0.8 s more per 5M rows.)
 */
class MessageReader {
  private handle: FileHandle | null = null;
  private closed = false;

  constructor(private readonly path: string, private readonly start: number, private readonly end: number, private readonly label: string) {}

  async *chunks(): AsyncGenerator<Uint8Array, void, undefined> {
    if (this.closed) return;
    const handle = (this.handle = await open(this.path, 'r'));
    try {
      const readAt = fileReadAt(handle, this.end);
      let pos = this.start;
      while (pos < this.end) {
        const framed = await this.framing(readAt, pos);
        if (framed === null) {
          for (let at = pos; at < this.end; at += CHUNK) yield await readAt(at, CHUNK);
          return;
        }
        yield framed.head;
        if (framed.bodyLength > 0) yield await readAt(pos + framed.head.length, framed.bodyLength);
        pos += framed.head.length + framed.bodyLength;
      }
    } finally {
      await this.close();
    }
  }

  /** The message at `pos`: its prefix and metadata, and its body's length; null where anything is off. */
  private async framing(readAt: ReadAt, pos: number): Promise<{ head: Uint8Array; bodyLength: number } | null> {
    try {
      const first = await readAt(pos, 8);
      const prefix = readPrefix(first, this.label, pos);
      if (prefix === null) return null;
      if (prefix.metadataLength === 0) return { head: first.subarray(0, prefix.size), bodyLength: 0 }; // end of stream
      const headLength = prefix.size + prefix.metadataLength;
      if (pos + headLength > this.end) return null;
      const head = await readAt(pos, headLength);
      const bodyLength = Number(decodeMessage(head.subarray(prefix.size), this.label, pos).bodyLength);
      if (!(bodyLength >= 0) || pos + headLength + bodyLength > this.end) return null;
      return { head, bodyLength };
    } catch {
      return null;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const handle = this.handle;
    this.handle = null;
    await handle?.close().catch(() => undefined);
  }
}

/**
 * An IPC file read by ranges (an object in S3): sniffed and its footer read with small reads,
 * as a path is; the stream part then comes in one ranged request, read in order.
 */
export async function openRandomInput(reader: RandomAccessReader, label: string): Promise<ByteInput> {
  const { size } = reader;
  const readAt: ReadAt = (offset, length) => reader.read(offset, Math.max(0, Math.min(length, size - offset)));
  let layout: FileLayout | null = null;
  try {
    if (hasFileMagic(await readAt(0, FILE_HEAD))) layout = await readFileLayout(readAt, size, label);
  } catch (err) {
    await reader.close();
    throw err;
  }
  const start = layout ? FILE_HEAD : 0;
  const end = layout ? layout.streamEnd : size;
  const counted = countBytes(end > start ? reader.stream(start, end) : [], start, () => reader.close());
  return {
    ...counted, totalBytes: size, numRows: layout?.numRows ?? null,
    chunks: checkedChunks(layout?.lead ?? null, counted.chunks, { label, start, end, schema: layout?.schema }),
  };
}

/** An IPC buffer: already in memory, handed to the reader in slices (views, no copies). */
export async function openBufferInput(bytes: Uint8Array, label: string): Promise<ByteInput> {
  let layout: FileLayout | null = null;
  if (hasFileMagic(bytes)) {
    const readAt: ReadAt = async (offset, length) => bytes.subarray(offset, offset + length);
    layout = await readFileLayout(readAt, bytes.byteLength, label);
  }
  const start = layout ? FILE_HEAD : 0;
  const end = layout ? layout.streamEnd : bytes.byteLength;
  const slices: Uint8Array[] = [];
  for (let at = start; at < end; at += CHUNK) slices.push(bytes.subarray(at, Math.min(end, at + CHUNK)));
  const counted = countBytes(slices, start, async () => undefined);
  return {
    ...counted, totalBytes: bytes.byteLength, numRows: layout?.numRows ?? null,
    chunks: checkedChunks(layout?.lead ?? null, counted.chunks, { label, start, end, schema: layout?.schema }),
  };
}

/** Raw bytes of an input as the reader pulls them, counted. */
export interface CountedBytes {
  readonly chunks: AsyncGenerator<Uint8Array, void, undefined>;
  bytesRead(): number;
  close(): Promise<void>;
}

/** Counts the bytes of `source` (after `skipped` bytes not streamed) as they are pulled. */
export function countBytes(source: AsyncIterable<unknown> | Iterable<Uint8Array>, skipped: number, release: () => Promise<void>): CountedBytes {
  let bytes = skipped;
  let closed: Promise<void> | null = null;
  async function* count(): AsyncGenerator<Uint8Array, void, undefined> {
    for await (const chunk of source) {
      if (!(chunk instanceof Uint8Array)) {
        throw new ExportError('SOURCE_FAILED', 'the Arrow IPC stream yields text, not bytes; do not set an encoding on it');
      }
      bytes += chunk.byteLength;
      yield chunk;
    }
  }
  return { chunks: count(), bytesRead: () => bytes, close: () => (closed ??= release()) };
}

/**
 * The stream part as apache-arrow's reader gets it: `lead` (a schema message synthesized from
 * a file's footer, not part of the input) first, then the input's chunks through the message
 * check, so a damaged length fails before the reader acts on it.
 */
export async function* checkedChunks(
  lead: Uint8Array | null, chunks: AsyncIterable<Uint8Array>, bounds: StreamBounds,
): AsyncGenerator<Uint8Array, void, undefined> {
  if (lead) yield lead;
  yield* checkStream(chunks, bounds);
}
