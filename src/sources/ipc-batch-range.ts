import { open } from 'node:fs/promises';
import type { RecordBatch } from 'apache-arrow';
import { ExportError } from '../errors.js';
import { decodeBlocks } from './ipc-blocks.js';
import { encodeSchemaMessage, FILE_HEAD, hasFileMagic, readFileLayout, type BatchBlock, type FileLayout } from './ipc-footer.js';
import { fileReadAt } from './ipc-input.js';
import { sourceFailed, type ReadAt } from './ipc-messages.js';
import type { RandomAccessInput } from './random-access.js';
import { hasDictionaries, type SourceRanges } from './ranges.js';
import type { OpenedSource } from './types.js';

/** Record batches `start` to `end` (exclusive) of an Arrow IPC file, in the footer's order. */
export interface BatchRange {
  start: number;
  end: number;
}

/** An IPC file open for positioned reads, wherever it is. */
interface Positioned {
  readAt: ReadAt;
  size: number;
  close(): Promise<void>;
}

async function positioned(input: string | Uint8Array | RandomAccessInput): Promise<Positioned> {
  if (typeof input === 'string') {
    const handle = await open(input, 'r');
    try {
      const size = (await handle.stat()).size;
      return { readAt: fileReadAt(handle, size), size, close: () => handle.close().catch(() => undefined) };
    } catch (err) {
      await handle.close().catch(() => undefined);
      throw err;
    }
  }
  if (input instanceof Uint8Array) {
    return { readAt: async (offset, length) => input.subarray(offset, offset + length), size: input.byteLength, close: async () => undefined };
  }
  const reader = await input.open();
  const { size } = reader;
  return { readAt: (offset, length) => reader.read(offset, Math.max(0, Math.min(length, size - offset))), size, close: () => reader.close() };
}

/** The footer of an IPC file with each record batch's rows; refuses a stream or a file whose batches cannot be read alone. */
async function batchLayout(file: Positioned, label: string): Promise<FileLayout & { blocks: readonly BatchBlock[] }> {
  if (!hasFileMagic(await file.readAt(0, FILE_HEAD))) {
    throw new ExportError('INVALID_OPTION', `${label} is an Arrow IPC stream: only an IPC file (with its footer) is read by ranges of batches`);
  }
  const layout = await readFileLayout(file.readAt, file.size, label);
  if (layout.blocks === null) throw new ExportError('INVALID_OPTION', `${label} has too many record batches to be read by ranges of them`);
  if (hasDictionaries(layout)) throw new ExportError('INVALID_OPTION', `${label} has dictionary-encoded columns: its batches cannot be read by ranges`);
  return layout as FileLayout & { blocks: readonly BatchBlock[] };
}

/**
 * Each record batch's row count, from an IPC file's footer and the batches' metadata (never
 * their bodies): what a distributed export cuts its shards by (issue #13).
 */
export async function ipcBatchRows(input: string | Uint8Array | RandomAccessInput, label: string): Promise<number[]> {
  const file = await positioned(input).catch((err: unknown) => { throw sourceFailed(label, err); });
  try {
    return (await batchLayout(file, label)).blocks.map((b) => b.rows);
  } finally {
    await file.close();
  }
}

/**
 * Batches `range.start` to `range.end` of an IPC file, read block by block with the checks of a
 * sequential read (ipc-blocks.ts); a local file's also as ranges for the worker threads.
 */
export async function openBatchRange(input: string | Uint8Array | RandomAccessInput, label: string, range: BatchRange): Promise<OpenedSource> {
  const file = await positioned(input).catch((err: unknown) => { throw sourceFailed(label, err); });
  let blocks: readonly BatchBlock[];
  let layout: FileLayout;
  try {
    const all = await batchLayout(file, label);
    layout = all;
    const { start, end } = range;
    if (!(Number.isSafeInteger(start) && Number.isSafeInteger(end) && start >= 0 && start <= end && end <= all.blocks.length)) {
      throw new ExportError('INVALID_OPTION', `batches ${JSON.stringify(range)} are not a range of ${label}'s ${all.blocks.length} record batches`);
    }
    blocks = all.blocks.slice(start, end);
  } catch (err) {
    await file.close();
    throw sourceFailed(label, err);
  }
  const schemaMessage = encodeSchemaMessage(layout.schema);
  let bytesRead = 0;
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await file.close();
  };
  async function* batches(): AsyncGenerator<RecordBatch, void, undefined> {
    try {
      for (let i = 0; i < blocks.length && !closed; i++) {
        const block = blocks[i];
        const length = block.metaDataLength + block.bodyLength;
        const bytes = await file.readAt(block.offset, length);
        yield* decodeBlocks(bytes, block.offset, [block], schemaMessage, label, range.start + i);
        bytesRead += length;
      }
    } catch (err) {
      throw sourceFailed(label, err);
    } finally {
      await close();
    }
  }
  const read = batches();
  const ranges: SourceRanges | null = typeof input === 'string' && blocks.length > 0
    ? { path: input, label, schema: layout.schema, blocks, firstBatch: range.start, batches: read } : null;
  return {
    schema: layout.schema,
    numRows: blocks.reduce((n, b) => n + b.rows, 0),
    totalBytes: blocks.reduce((n, b) => n + b.metaDataLength + b.bodyLength, 0),
    bytesRead: () => bytesRead,
    batches: read,
    ranges,
    close,
  };
}
