import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { Message, MessageHeader, MessageReader, RecordBatchReader, Table, tableToIPC } from 'apache-arrow';
import type { Schema } from 'apache-arrow';
import { ExportError } from '../errors.js';

/**
 * Arrow IPC bytes as a stream: the IPC *stream* part of the input, the file format's leading
 * magic already stripped, so one sequential stream reader handles both formats. (An IPC file is
 * `ARROW1`, padding, the stream format with its end-of-stream marker, then the footer.)
 */
export interface ByteInput {
  readonly chunks: AsyncIterable<Uint8Array>;
  readonly totalBytes: number | null;
  /** From the IPC file footer, when the input is a file-format path or buffer. */
  readonly numRows: number | null;
  bytesRead(): number;
  /** Stops reading and releases the underlying stream and files; safe to call twice. */
  close(): Promise<void>;
}

/** Reads `length` bytes at `offset` (fewer at the end of the input). */
export type ReadAt = (offset: number, length: number) => Promise<Uint8Array>;

const MAGIC = [0x41, 0x52, 0x52, 0x4f, 0x57, 0x31]; // "ARROW1"
/** Magic plus padding to 8 bytes, before the stream part of an IPC file. */
export const FILE_HEAD = 8;
/** Footer length (int32) plus magic, at the end of an IPC file. */
const FILE_TAIL = 10;
/** Read in large chunks: each Arrow message is assembled from them, so fewer joins per batch. */
const CHUNK = 1 << 20;
/** A first message longer than this is not taken for a schema (guards peeking into a stream). */
const MAX_SCHEMA_MESSAGE = 1 << 26;
/** Counting rows reads each batch's metadata; past this many batches the count is skipped as too costly. */
const MAX_COUNTED_BATCHES = 100_000;

export function hasFileMagic(bytes: Uint8Array, at = 0): boolean {
  if (bytes.byteLength < at + MAGIC.length) return false;
  return MAGIC.every((b, i) => bytes[at + i] === b);
}

/**
 * True when the message at `offset` is a Schema message. C++ and Rust writers repeat the schema
 * at the start of an IPC file's stream part; arrow-js keeps it only in the footer.
 */
export async function startsWithSchema(readAt: ReadAt, offset: number): Promise<boolean> {
  const prefix = await readAt(offset, 8);
  if (prefix.byteLength < 8) return false;
  const view = new DataView(prefix.buffer, prefix.byteOffset, 8);
  const continued = view.getInt32(0, true) === -1; // else the pre-1.0 format, length first
  const length = continued ? view.getInt32(4, true) : view.getInt32(0, true);
  if (length <= 0 || length > MAX_SCHEMA_MESSAGE) return false;
  try {
    return Message.decode(await readAt(offset + (continued ? 8 : 4), length)).headerType === MessageHeader.Schema;
  } catch {
    return false; // not a message at all: the stream reader reports it
  }
}

/** A Schema message (the bytes an IPC stream starts with), for a file whose stream part lacks one. */
export function encodeSchemaMessage(schema: Schema): Uint8Array {
  const stream = tableToIPC(new Table(schema), 'stream');
  return stream.subarray(0, stream.byteLength - 8); // drop the end-of-stream marker
}

interface FooterLike {
  readonly schema: Schema;
  readonly numRecordBatches: number;
  recordBatches(): Iterable<{ offset: number; metaDataLength: number }>;
}

/** Sums the row counts in the record batch messages the footer points to (metadata only, never bodies). */
async function countFooterRows(footer: FooterLike, readAt: ReadAt): Promise<number | null> {
  if (footer.numRecordBatches > MAX_COUNTED_BATCHES) return null;
  let rows = 0;
  for (const block of footer.recordBatches()) {
    const message = new MessageReader(await readAt(block.offset, block.metaDataLength)).readMessage(MessageHeader.RecordBatch);
    if (!message) return null;
    rows += message.header().length;
  }
  return rows;
}

function footerStartOf(tail: Uint8Array, size: number, label: string): number {
  if (tail.byteLength < FILE_TAIL || !hasFileMagic(tail, FILE_TAIL - MAGIC.length)) {
    throw new ExportError('SOURCE_FAILED', `${label} starts like an Arrow IPC file but does not end with its footer (truncated?)`);
  }
  const footerLength = new DataView(tail.buffer, tail.byteOffset, 4).getInt32(0, true);
  const start = size - FILE_TAIL - footerLength;
  if (footerLength <= 0 || start < FILE_HEAD) throw new ExportError('SOURCE_FAILED', `${label} has a corrupt IPC file footer`);
  return start;
}

/** What a file-format input contributes besides its stream part: rows and, if needed, a schema message. */
interface FileLayout {
  streamEnd: number;
  numRows: number | null;
  lead: Uint8Array | null;
}

/** The tail is checked before the footer is decoded, so a truncated file gets a clear message. */
async function readFileLayout(
  readFooter: () => Promise<FooterLike | null>, readAt: ReadAt, size: number, label: string,
): Promise<FileLayout> {
  const streamEnd = footerStartOf(await readAt(Math.max(0, size - FILE_TAIL), FILE_TAIL), size, label);
  const footer = await readFooter();
  if (!footer) throw new ExportError('SOURCE_FAILED', `${label} has no readable IPC file footer`);
  const lead = (await startsWithSchema(readAt, FILE_HEAD)) ? null : encodeSchemaMessage(footer.schema);
  return { streamEnd, numRows: await countFooterRows(footer, readAt), lead };
}

async function readRange(handle: FileHandle, offset: number, length: number): Promise<Uint8Array> {
  const buffer = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(buffer, done, length - done, offset + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return buffer.subarray(0, done);
}

/** An IPC path: sniffed and, for the file format, its footer read with small positioned reads; then streamed. */
export async function openPathInput(path: string, release: () => Promise<void> = async () => undefined): Promise<ByteInput> {
  const handle = await open(path, 'r');
  let size = 0;
  let layout: FileLayout | null = null;
  try {
    size = (await handle.stat()).size;
    const readAt: ReadAt = (offset, length) => readRange(handle, offset, length);
    if (hasFileMagic(await readAt(0, FILE_HEAD))) {
      // arrow's file reader decodes the footer flatbuffer for us (it reads the footer and dictionaries only).
      const readFooter = async (): Promise<FooterLike | null> => {
        const reader = await RecordBatchReader.from(handle);
        await reader.open({ autoDestroy: false });
        return reader.footer;
      };
      layout = await readFileLayout(readFooter, readAt, size, path);
    }
  } finally {
    await handle.close();
  }
  const start = layout ? FILE_HEAD : 0;
  const end = layout ? layout.streamEnd : size;
  const stream = end > start ? createReadStream(path, { start, end: end - 1, highWaterMark: CHUNK }) : null;
  return countedInput(stream ?? [], layout?.lead ?? null, start, size, layout?.numRows ?? null, async () => {
    stream?.destroy();
    await release();
  });
}

/** An IPC buffer: already in memory, handed to the reader in slices (views, no copies). */
export async function openBufferInput(bytes: Uint8Array): Promise<ByteInput> {
  let layout: FileLayout | null = null;
  if (hasFileMagic(bytes)) {
    const readAt: ReadAt = async (offset, length) => bytes.subarray(offset, offset + length);
    const readFooter = async (): Promise<FooterLike | null> => RecordBatchReader.from(bytes).open({ autoDestroy: false }).footer;
    layout = await readFileLayout(readFooter, readAt, bytes.byteLength, 'the Arrow IPC buffer');
  }
  const start = layout ? FILE_HEAD : 0;
  const end = layout ? layout.streamEnd : bytes.byteLength;
  const slices: Uint8Array[] = [];
  for (let at = start; at < end; at += CHUNK) slices.push(bytes.subarray(at, Math.min(end, at + CHUNK)));
  return countedInput(slices, layout?.lead ?? null, start, bytes.byteLength, layout?.numRows ?? null, async () => undefined);
}

/**
 * Counts the bytes of `source` as the reader pulls them. `lead` (a synthesized schema message)
 * goes first and is not counted: it is not part of the input.
 */
export function countedInput(
  source: AsyncIterable<unknown> | Iterable<Uint8Array>, lead: Uint8Array | null, skipped: number,
  totalBytes: number | null, numRows: number | null, release: () => Promise<void>,
): ByteInput {
  let bytes = skipped;
  let closed: Promise<void> | null = null;
  async function* count(): AsyncGenerator<Uint8Array, void, undefined> {
    if (lead) yield lead;
    for await (const chunk of source) {
      if (!(chunk instanceof Uint8Array)) {
        throw new ExportError('SOURCE_FAILED', 'the Arrow IPC stream yields text, not bytes; do not set an encoding on it');
      }
      bytes += chunk.byteLength;
      yield chunk;
    }
  }
  return {
    chunks: count(), totalBytes, numRows,
    bytesRead: () => bytes,
    close: () => (closed ??= release()),
  };
}
