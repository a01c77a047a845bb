import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { tempName } from '../temp-files.js';
import { FILE_HEAD, hasFileMagic, startsWithSchema } from './ipc-footer.js';
import { checkedChunks, countBytes, openPathInput } from './ipc-input.js';
import type { ByteInput } from './ipc-input.js';
import type { ReadAt } from './ipc-messages.js';

/** Holds the first bytes of a stream while they are inspected, then hands on everything. */
class Peeker {
  private head: Uint8Array = new Uint8Array(0);
  private ended = false;
  constructor(private readonly iterator: AsyncIterator<Uint8Array>) {}

  /** The buffered head, grown to at least `n` bytes unless the stream ends first. */
  async atLeast(n: number): Promise<Uint8Array> {
    while (this.head.byteLength < n && !this.ended) {
      const next = await this.iterator.next();
      if (next.done) this.ended = true;
      else this.head = concatBytes(this.head, next.value);
    }
    return this.head;
  }

  /** The stream from byte `from` of the head onwards; ending it early ends the source too. */
  async *rest(from: number): AsyncGenerator<Uint8Array, void, undefined> {
    try {
      const first = this.head.subarray(from);
      this.head = new Uint8Array(0);
      if (first.byteLength > 0) yield first;
      while (!this.ended) {
        const next = await this.iterator.next();
        if (next.done) return;
        yield next.value;
      }
    } finally {
      await this.iterator.return?.();
    }
  }
}

function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.byteLength === 0) return b;
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a);
  out.set(b, a.byteLength);
  return out;
}

function destroyStream(readable: NodeJS.ReadableStream): void {
  const destroy = (readable as { destroy?: () => void }).destroy;
  if (typeof destroy === 'function') destroy.call(readable);
}

/**
 * A one-shot stream of IPC bytes. The stream format, and a file whose stream part starts with
 * its schema (C++, Rust, pyarrow), are read as they arrive. A file that keeps its schema only in
 * the footer (arrow-js) cannot be read front to back, so it is first copied to a temporary file
 * in `tempDir` and read from there: the cost is disk, never memory.
 */
export async function openStreamInput(readable: NodeJS.ReadableStream, tempDir: string, label: string): Promise<ByteInput> {
  const counted = countBytes(readable, 0, async () => destroyStream(readable));
  const peeker = new Peeker(counted.chunks);
  /** The stream from byte `from` on, its messages checked; its length is unknown until it ends. */
  const streamFrom = (from: number): ByteInput => ({
    ...counted, totalBytes: null, numRows: null,
    chunks: checkedChunks(null, peeker.rest(from), { label, start: from, end: null }),
  });
  try {
    if (!hasFileMagic(await peeker.atLeast(FILE_HEAD))) return streamFrom(0);
    const readAt: ReadAt = async (offset, length) => (await peeker.atLeast(offset + length)).subarray(offset, offset + length);
    if (await startsWithSchema(readAt, FILE_HEAD)) return streamFrom(FILE_HEAD);
  } catch (err) {
    await counted.close();
    throw err;
  }
  const path = join(tempDir, tempName('ipc', '.arrow'));
  const remove = async (): Promise<void> => { await rm(path, { force: true }); };
  try {
    await pipeline(Readable.from(peeker.rest(0)), createWriteStream(path, { flags: 'wx' }));
  } catch (err) {
    await counted.close();
    await remove();
    throw err;
  }
  return openPathInput(path, label, remove);
}
