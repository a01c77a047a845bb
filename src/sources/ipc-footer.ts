import { MessageHeader, Table, tableToIPC } from 'apache-arrow';
import type { Schema } from 'apache-arrow';
// The footer's decoder is not re-exported by the package root; its exports map allows the path.
import { Footer } from 'apache-arrow/ipc/metadata/file';
import type { FileBlock } from 'apache-arrow/ipc/metadata/file';
import { ExportError } from '../errors.js';
import { checkFooterFlatbuffer } from './ipc-flatbuffers.js';
import { checkColumnLengths, corrupt, decodeMessage, readMessageAt, readPrefix, topLevelNodeCounts } from './ipc-messages.js';
import type { ReadAt } from './ipc-messages.js';

/**
 * An IPC file's footer (File.fbs), read and checked here rather than by apache-arrow's file
 * reader, which seeks to whatever the footer says and also reads every dictionary batch it
 * lists: the footer length must fit in the file, the flatbuffer must be sound, and every block
 * must lie inside the stream part, after the one before it.
 */

const MAGIC = [0x41, 0x52, 0x52, 0x4f, 0x57, 0x31]; // "ARROW1"
/** Magic plus padding to 8 bytes, before the stream part of an IPC file. */
export const FILE_HEAD = 8;
/** Footer length (int32) plus magic, at the end of an IPC file. */
const FILE_TAIL = 10;
/** A first message longer than this is not taken for a schema (guards peeking into a stream). */
const MAX_SCHEMA_MESSAGE = 1 << 26;
/** Counting rows reads each batch's metadata; past this many batches the count is skipped as too costly. */
const MAX_COUNTED_BATCHES = 100_000;

export function hasFileMagic(bytes: Uint8Array, at = 0): boolean {
  if (bytes.byteLength < at + MAGIC.length) return false;
  return MAGIC.every((b, i) => bytes[at + i] === b);
}

/** What a file-format input contributes besides its stream part: where it ends, its rows and, if needed, a schema message. */
export interface FileLayout {
  readonly streamEnd: number;
  readonly schema: Schema;
  readonly numRows: number | null;
  readonly lead: Uint8Array | null;
  /**
   * The footer's record batches, each with its row count, in file order (null when the rows
   * were not counted); what worker threads read batch ranges by (src/parallel/range-read.ts).
   */
  readonly blocks: readonly BatchBlock[] | null;
  /** Dictionary batches the footer lists: a file with any is read in order, never by ranges. */
  readonly dictionaries: number;
}

/** Where one record batch message lies in an IPC file, and its rows. */
export interface BatchBlock {
  readonly offset: number;
  readonly metaDataLength: number;
  readonly bodyLength: number;
  readonly rows: number;
}

/** The tail is checked before the footer is read, so a truncated file gets a clear message. */
export async function readFileLayout(readAt: ReadAt, size: number, label: string): Promise<FileLayout> {
  const tail = await readAt(Math.max(0, size - FILE_TAIL), FILE_TAIL);
  if (size < FILE_HEAD + FILE_TAIL || tail.byteLength < FILE_TAIL || !hasFileMagic(tail, FILE_TAIL - MAGIC.length)) {
    throw new ExportError('SOURCE_FAILED', `${label} starts like an Arrow IPC file but does not end with its footer (truncated?)`);
  }
  const footerLength = new DataView(tail.buffer, tail.byteOffset, 4).getInt32(0, true);
  const streamEnd = size - FILE_TAIL - footerLength;
  if (footerLength <= 0 || streamEnd < FILE_HEAD) {
    throw corrupt(label, size - FILE_TAIL, `the footer length (${footerLength}) does not fit in the file's ${size} bytes`);
  }
  const footer = decodeFooter(await readAt(streamEnd, footerLength), label, streamEnd);
  checkBlocks(footer.dictionaryBatches(), 'dictionary batch', streamEnd, label);
  checkBlocks(footer.recordBatches(), 'record batch', streamEnd, label);
  const lead = (await startsWithSchema(readAt, FILE_HEAD, streamEnd)) ? null : encodeSchemaMessage(footer.schema);
  const blocks = await countFooterRows(footer, readAt, label);
  const numRows = blocks === null ? null : blocks.reduce((n, b) => n + b.rows, 0);
  return { streamEnd, schema: footer.schema, numRows, lead, blocks, dictionaries: footer.numDictionaries };
}

function decodeFooter(bytes: Uint8Array, label: string, at: number): Footer {
  const problem = checkFooterFlatbuffer(bytes);
  if (problem !== null) throw corrupt(label, at, `the footer is not a valid flatbuffer: ${problem}`);
  try {
    return Footer.decode(bytes);
  } catch (err) {
    throw corrupt(label, at, `the footer does not decode: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Each block inside [FILE_HEAD, streamEnd) and after the end of the one before: a reader following them only moves forward. */
function checkBlocks(blocks: Iterable<FileBlock>, what: string, streamEnd: number, label: string): void {
  let previousEnd = FILE_HEAD;
  let index = 0;
  for (const block of blocks) {
    const { offset, metaDataLength, bodyLength } = block;
    const end = offset + metaDataLength + bodyLength;
    if (!(offset >= previousEnd && metaDataLength > 0 && bodyLength >= 0 && end <= streamEnd)) {
      throw corrupt(label, offset, `the footer's ${what} block ${index} (offset ${offset}, metadata ${metaDataLength} bytes, ` +
        `body ${bodyLength} bytes) is not inside the file's messages after block ${index - 1}`);
    }
    previousEnd = end;
    index++;
  }
}

/** Blocks whose metadata is read at once (in flight together) while counting rows. */
const METADATA_WINDOW = 64;
/**
 * At most this much of a block is read ahead: a footer can say a block's metadata is as long as
 * the rest of the file (a damaged or hostile one), and a window of such reads would hold it all.
 * Metadata past this (thousands of columns) is read as before, by the message's own length.
 */
const MAX_METADATA_AHEAD = 256 << 10;

/**
 * The record batch blocks with the row counts their messages give (metadata only, never
 * bodies). Each block's metadata (length prefix and message, the block's metaDataLength bytes)
 * is fetched ahead, a window of blocks at a time with their reads in flight together: one
 * read after another took ~0.5 ms of round trips each (two per block), ~40 ms before the first
 * row of a 77-batch file was read here, and one ranged GET after another from object storage.
 * The messages are then checked in file order as before, so the first bad block is the one named.
 */
async function countFooterRows(footer: Footer, readAt: ReadAt, label: string): Promise<BatchBlock[] | null> {
  if (footer.numRecordBatches > MAX_COUNTED_BATCHES) return null;
  const topLevel = topLevelNodeCounts(footer.schema);
  const all = [...footer.recordBatches()];
  const blocks: BatchBlock[] = [];
  for (let from = 0; from < all.length; from += METADATA_WINDOW) {
    const window = all.slice(from, from + METADATA_WINDOW);
    const ahead = prefetched(readAt, window.map((b) => [b.offset, Math.min(b.metaDataLength, MAX_METADATA_AHEAD)]));
    for (const block of window) {
      const found = await readMessageAt(ahead, block.offset, block.offset + block.metaDataLength + block.bodyLength, label);
      if (found === null || found.message.headerType !== MessageHeader.RecordBatch) {
        throw corrupt(label, block.offset, 'a record batch block of the footer points to no record batch');
      }
      checkColumnLengths(found.message, topLevel, label, block.offset);
      const rows = (found.message.header() as { length: number }).length;
      blocks.push({ offset: block.offset, metaDataLength: block.metaDataLength, bodyLength: Number(block.bodyLength), rows });
    }
  }
  return blocks;
}

/**
 * `readAt` with the regions [offset, offset + length) read now, all at once: a read inside one
 * is answered from it (a failed read fails there, when asked for), any other goes to `readAt`.
 */
function prefetched(readAt: ReadAt, regions: readonly [number, number][]): ReadAt {
  const reads = regions.map(([offset, length]) => {
    const read = readAt(offset, length);
    read.catch(() => undefined); // observed when the region is asked for
    return { offset, length, read };
  });
  return async (offset, length) => {
    const region = reads.find((r) => offset >= r.offset && offset + length <= r.offset + r.length);
    if (!region) return readAt(offset, length);
    const bytes = await region.read;
    const at = offset - region.offset;
    return bytes.subarray(Math.min(at, bytes.byteLength), Math.min(at + length, bytes.byteLength));
  };
}

/**
 * True when the message at `offset` is a Schema message. C++ and Rust writers repeat the schema
 * at the start of an IPC file's stream part; arrow-js keeps it only in the footer. A message
 * that does not read is "no": the stream check then reports what is wrong with it.
 */
export async function startsWithSchema(readAt: ReadAt, offset: number, end = Number.MAX_SAFE_INTEGER): Promise<boolean> {
  const found = await quietly(async () => readPrefix(await readAt(offset, Math.min(8, end - offset)), '', offset));
  if (found === null || found.metadataLength === 0) return false;
  const start = offset + found.size;
  if (found.metadataLength > Math.min(MAX_SCHEMA_MESSAGE, end - start)) return false;
  const metadata = await readAt(start, found.metadataLength);
  if (metadata.byteLength < found.metadataLength) return false;
  return (await quietly(async () => decodeMessage(metadata, '', offset).headerType === MessageHeader.Schema)) ?? false;
}

/** The value, or null when the bytes are corrupt (an ExportError); I/O errors still throw. */
async function quietly<T>(read: () => Promise<T>): Promise<T | null> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof ExportError) return null;
    throw err;
  }
}

/** A Schema message (the bytes an IPC stream starts with), for a file whose stream part lacks one. */
export function encodeSchemaMessage(schema: Schema): Uint8Array {
  const stream = tableToIPC(new Table(schema), 'stream');
  return stream.subarray(0, stream.byteLength - 8); // drop the end-of-stream marker
}
