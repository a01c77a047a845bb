import { basename } from 'node:path';
import { CompressionType, DataType, Message, MessageHeader } from 'apache-arrow';
import type { Schema } from 'apache-arrow';
import { ExportError } from '../errors.js';
import { describeCause } from '../sinks/target-error.js';
import { checkMessageFlatbuffer } from './ipc-flatbuffers.js';

/**
 * The framing of Arrow IPC messages, checked: every length read from the input is
 * non-negative, inside the input and moves the reader forward, so a damaged file fails at once
 * with SOURCE_FAILED naming the file and the byte, instead of sending a reader back to an
 * earlier offset (for ever), asking for gigabytes, or handing apache-arrow bytes it would
 * misread. Used on a stream as it passes (ipc-stream-check.ts), on a file's footer blocks
 * (ipc-footer.ts) and by the server's row count (src/server/ipc-rows.ts).
 */

/** The continuation marker before a message's metadata length (absent in the pre-1.0 format). */
const CONTINUATION = 0xffffffff;
/** No schema or batch header comes near this; a larger length is damage (and would be buffered whole). */
export const MAX_METADATA = 1 << 28;
/** arrow-js cannot hold a batch or column longer than this (typed arrays and int32 offsets). */
const MAX_ROWS = 2 ** 31 - 1;

/** How an input is named in messages: its kind and file name, never a directory of the machine. */
export function ipcLabel(kind: 'file' | 'stream' | 'buffer', path?: string): string {
  return path === undefined ? `Arrow IPC ${kind}` : `Arrow IPC ${kind} ${basename(path)}`;
}

/** SOURCE_FAILED for a damaged input: `<label> is corrupt at byte <n>: <what>`. */
export function corrupt(label: string, at: number | null, what: string): ExportError {
  return new ExportError('SOURCE_FAILED', `${label} is corrupt${at === null ? '' : ` at byte ${at}`}: ${what}`);
}

/** Any failure while reading `label`, as SOURCE_FAILED without the paths of system errors. */
export function sourceFailed(label: string, err: unknown): ExportError {
  if (err instanceof ExportError) return err;
  return new ExportError('SOURCE_FAILED', `cannot read ${label}: ${describeCause(err)}`, {}, { cause: err });
}

/** A message's length prefix: its metadata length, and the prefix's own size (8, or 4 in the pre-1.0 format). */
export interface Prefix {
  readonly metadataLength: number;
  readonly size: 4 | 8;
}

/**
 * Reads the prefix from `bytes` (at least 8 bytes, or all that is left). Null when the bytes
 * are too few to tell; a metadata length of 0 is the end-of-stream marker.
 */
export function readPrefix(bytes: Uint8Array, label: string, at: number): Prefix | null {
  if (bytes.byteLength < 4) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const first = view.getUint32(0, true);
  if (first !== CONTINUATION) return { metadataLength: checkMetadataLength(first | 0, label, at), size: 4 };
  if (bytes.byteLength < 8) return null;
  return { metadataLength: checkMetadataLength(view.getInt32(4, true), label, at), size: 8 };
}

function checkMetadataLength(length: number, label: string, at: number): number {
  if (length < 0) throw corrupt(label, at, `a message's metadata length is negative (${length})`);
  if (length > MAX_METADATA) throw corrupt(label, at, `a message's metadata length (${length} bytes) is beyond any Arrow schema or batch header`);
  return length;
}

/** Decodes message metadata after checking its flatbuffer: apache-arrow's decoder trusts every length in it. */
export function decodeMessage(bytes: Uint8Array, label: string, at: number): Message {
  const problem = checkMessageFlatbuffer(bytes);
  if (problem !== null) throw corrupt(label, at, `a message's metadata is not a valid flatbuffer: ${problem}`);
  let message: Message;
  try {
    message = Message.decode(bytes);
    checkHeader(message, label, at);
  } catch (err) {
    if (err instanceof ExportError) throw err;
    throw corrupt(label, at, `a message's metadata does not decode: ${describeCause(err)}`);
  }
  return message;
}

interface BatchHeader {
  readonly length: number;
  readonly nodes: readonly { length: number; nullCount: number }[];
  readonly buffers: readonly { offset: number; length: number }[];
  readonly compression: { type: CompressionType; method: number } | null;
}

/** The record batch of a RecordBatch or DictionaryBatch message, null for a Schema. */
export function batchHeaderOf(message: Message): BatchHeader | null {
  if (message.headerType === MessageHeader.RecordBatch) return message.header() as BatchHeader;
  if (message.headerType === MessageHeader.DictionaryBatch) return (message.header() as { data: BatchHeader }).data;
  return null;
}

/** Lengths within a message: its body's, and in a batch the row, node and buffer lengths and offsets. */
function checkHeader(message: Message, label: string, at: number): void {
  const body = message.bodyLength;
  if (!Number.isSafeInteger(body) || body < 0) throw corrupt(label, at, `a message's body length is negative or not an integer (${body})`);
  if (message.headerType === MessageHeader.Schema) {
    // arrow-js reads no body after a schema, so one would be taken for the next message.
    if (body !== 0) throw corrupt(label, at, `a schema message has a body of ${body} bytes`);
    return;
  }
  const batch = batchHeaderOf(message);
  if (batch === null) throw corrupt(label, at, `message type ${message.headerType} is not a schema or a batch`);
  const what = message.headerType === MessageHeader.RecordBatch ? 'record batch' : 'dictionary batch';
  if (!isCount(batch.length, MAX_ROWS)) throw corrupt(label, at, `a ${what} has ${batch.length} rows`);
  for (const node of batch.nodes) {
    if (!isCount(node.length, MAX_ROWS) || !isCount(node.nullCount, node.length)) {
      throw corrupt(label, at, `a ${what} has a column of ${node.length} values with ${node.nullCount} nulls`);
    }
  }
  for (const buffer of batch.buffers) {
    if (!isCount(buffer.offset, body) || !isCount(buffer.length, body - buffer.offset)) {
      throw corrupt(label, at, `a ${what} has a buffer of ${buffer.length} bytes at offset ${buffer.offset} of its ${body}-byte body`);
    }
  }
  const compression = batch.compression;
  if (compression === null) return;
  if (compression.type !== CompressionType.LZ4_FRAME && compression.type !== CompressionType.ZSTD) {
    throw corrupt(label, at, `a ${what} names compression codec ${compression.type}, which Arrow does not define`);
  }
  if (compression.method !== 0) throw corrupt(label, at, `a ${what} names compression method ${compression.method} (only BUFFER is defined)`);
  // A compressed buffer starts with its uncompressed length (int64); ipc-stream-check.ts reads it.
  const short = batch.buffers.find((b) => b.length > 0 && b.length < 8);
  if (short) throw corrupt(label, at, `a compressed buffer of ${short.length} bytes is shorter than its length prefix`);
}

/**
 * How many field nodes each column of `schema` has in a record batch (nodes are in depth-first
 * order: a column's own, then its children's; a dictionary-encoded column has one, its keys'),
 * so the nodes of the top-level columns can be found.
 */
export function topLevelNodeCounts(schema: Schema): number[] {
  const count = (type: DataType, depth: number): number => {
    if (DataType.isDictionary(type) || depth > 64) return 1;
    return 1 + (type.children ?? []).reduce((n, child) => n + count(child.type, depth + 1), 0);
  };
  return schema.fields.map((f) => count(f.type, 0));
}

/**
 * Each top-level column as long as its batch. arrow-js pads a shorter column with a fresh
 * validity bitmap as long as the batch says it is, so a damaged batch length of 2^30 over
 * columns of 100 values asked for 128 MiB per column before anything else could look at it.
 */
export function checkColumnLengths(message: Message, topLevel: readonly number[] | null, label: string, at: number): void {
  const batch = batchHeaderOf(message);
  if (batch === null) return;
  if (message.headerType === MessageHeader.DictionaryBatch) {
    if (batch.nodes.length > 0 && batch.nodes[0].length !== batch.length) {
      throw corrupt(label, at, `a dictionary batch of ${batch.length} values has ${batch.nodes[0].length} in its column`);
    }
    return;
  }
  if (topLevel === null) return;
  const needed = topLevel.reduce((a, b) => a + b, 0);
  if (batch.nodes.length < needed) throw corrupt(label, at, `a record batch has ${batch.nodes.length} field nodes where its schema needs ${needed}`);
  let node = 0;
  for (const count of topLevel) {
    const length = batch.nodes[node].length;
    if (length !== batch.length) throw corrupt(label, at, `a record batch of ${batch.length} rows has a column of ${length} values`);
    node += count;
  }
}

function isCount(value: number, max: number): boolean {
  return Number.isSafeInteger(value) && value >= 0 && value <= max;
}

/** Reads `length` bytes at `offset`, fewer at the end of the input. */
export type ReadAt = (offset: number, length: number) => Promise<Uint8Array>;

/** One message found by `readMessageAt`: where the next one starts. */
export interface Located {
  readonly message: Message;
  readonly next: number;
}

/**
 * The message at `offset` of an input whose messages end at `end`, read with positioned reads
 * (the body is skipped, never read). Null at the end-of-stream marker. The next offset is
 * always past this one, and metadata and body both lie before `end`.
 */
export async function readMessageAt(readAt: ReadAt, offset: number, end: number, label: string): Promise<Located | null> {
  const prefix = readPrefix(await readAt(offset, Math.min(8, end - offset)), label, offset);
  if (prefix === null) throw corrupt(label, offset, `the input ends inside a message's length prefix (truncated?)`);
  if (prefix.metadataLength === 0) return null;
  const start = offset + prefix.size;
  if (prefix.metadataLength > end - start) {
    throw corrupt(label, offset, `a message's metadata (${prefix.metadataLength} bytes) runs past the end of the input (${end - start} bytes left)`);
  }
  const message = decodeMessage(await readAt(start, prefix.metadataLength), label, offset);
  const bodyStart = start + prefix.metadataLength;
  if (message.bodyLength > end - bodyStart) {
    throw corrupt(label, offset, `a message's body (${message.bodyLength} bytes) runs past the end of the input (${end - bodyStart} bytes left)`);
  }
  return { message, next: bodyStart + message.bodyLength };
}
