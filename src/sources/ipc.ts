import { tmpdir } from 'node:os';
import { RecordBatchReader } from 'apache-arrow';
import type { AsyncRecordBatchFileReader, AsyncRecordBatchStreamReader, RecordBatch } from 'apache-arrow';
import { ExportError } from '../errors.js';
import { guardOpen, nameOfPath } from './batches.js';
import { checkBatch } from './ipc-batch-check.js';
import { registerIPCDecoders } from './ipc-codecs.js';
import { openBufferInput, openPathInput, openRandomInput } from './ipc-input.js';
import { ipcLabel, sourceFailed } from './ipc-messages.js';
import { openStreamInput } from './ipc-stream-input.js';
import { openBatchRange, type BatchRange } from './ipc-batch-range.js';
import { isRandomAccess, nameOfFile } from './random-access.js';
import type { RandomAccessInput } from './random-access.js';
import type { ByteInput } from './ipc-input.js';
import type { BatchSource, OpenedSource } from './types.js';

/** A path to an .arrow/.feather (v2) or .arrows file, its bytes, a Node stream of them, or a file read by ranges (an S3 object). */
export type IPCInput = string | Uint8Array | NodeJS.ReadableStream | RandomAccessInput;

export interface FromIPCOptions {
  /** Where a one-shot stream of an IPC file without a leading schema is copied first (default os.tmpdir()). */
  tempDir?: string;
  /**
   * Only record batches `start` to `end` (exclusive) of an IPC *file* (a path, a buffer or a
   * file read by ranges), in its footer's order: a shard of a larger table (issue #13).
   * ipcBatchRows gives each batch's rows. Not for streams or dictionary-encoded columns.
   */
  batches?: BatchRange;
}

type AsyncReader = AsyncRecordBatchFileReader | AsyncRecordBatchStreamReader;

/**
 * Arrow IPC input, file or stream format (auto-detected by the file format's `ARROW1` magic).
 * Whatever the input, the batches come from one sequential stream reader pulling bytes in
 * bounded chunks, so memory stays O(batch) even for a file much larger than RAM. The file footer
 * gives the row count, and the schema when the file keeps it only there (arrow-js writers); a
 * one-shot stream of such a file is copied to `tempDir` first (see ipc-stream-input.ts).
 * Paths and buffers are reopenable; a stream is not. Compressed bodies (LZ4 frame, ZSTD: what
 * pyarrow's Feather writer makes by default) are decoded batch by batch (ipc-codecs.ts).
 *
 * A damaged input fails with SOURCE_FAILED, at once and naming the file by its name (never its
 * directory: messages reach API clients) and the byte: every length is checked before it is
 * used (ipc-messages.ts, ipc-stream-check.ts, ipc-footer.ts) and every batch against its
 * buffers (ipc-batch-check.ts), so no corrupt file makes a reader loop, hang or allocate
 * what the file cannot hold.
 */
export function fromIPC(input: IPCInput, options: FromIPCOptions = {}): BatchSource {
  const remote = isRandomAccess(input);
  const reopenable = typeof input === 'string' || input instanceof Uint8Array || remote;
  const label = typeof input === 'string' ? ipcLabel('file', input)
    : remote ? ipcLabel('file', input.name) : ipcLabel(input instanceof Uint8Array ? 'buffer' : 'stream');
  const claim = guardOpen(reopenable, `the ${label}`);
  return {
    reopenable,
    ...(typeof input === 'string' ? { name: nameOfPath(input) } : remote ? { name: nameOfFile(input.name) } : {}),
    async open(): Promise<OpenedSource> {
      claim();
      if (options.batches) {
        if (!reopenable) throw new ExportError('INVALID_OPTION', `the batches option reads an IPC file at random: give a path, a buffer or a file read by ranges, not a stream`);
        return openBatchRange(input as string | Uint8Array | RandomAccessInput, label, options.batches);
      }
      const bytes = await openInput(input, label, options.tempDir ?? tmpdir());
      return openReader(bytes, label);
    },
  };
}

async function openInput(input: IPCInput, label: string, tempDir: string): Promise<ByteInput> {
  try {
    if (typeof input === 'string') return await openPathInput(input, label);
    if (input instanceof Uint8Array) return await openBufferInput(input, label);
    if (isRandomAccess(input)) return await openRandomInput(await input.open(), label);
    return await openStreamInput(input, tempDir, label);
  } catch (err) {
    throw sourceFailed(label, err);
  }
}

async function openReader(input: ByteInput, label: string): Promise<OpenedSource> {
  let reader: AsyncReader;
  registerIPCDecoders();
  try {
    reader = await RecordBatchReader.from(input.chunks);
    // Reads the schema message (and nothing more) so the schema is known before the first batch.
    await reader.open({ autoDestroy: true });
    // The reader's typing says the schema is always there; an empty input leaves it unset.
    if ((reader.schema as unknown) == null) throw new ExportError('SOURCE_FAILED', `${label} is empty: it holds no Arrow schema`);
  } catch (err) {
    await input.close();
    throw sourceFailed(label, err);
  }
  let finished = false;
  let closed = false;
  async function* readBatches(): AsyncGenerator<RecordBatch, void, undefined> {
    let index = 0;
    try {
      for await (const batch of reader) {
        checkBatch(batch, label, index++);
        yield batch;
      }
      finished = true;
    } catch (err) {
      throw sourceFailed(label, err);
    } finally {
      await input.close();
    }
  }
  const batches = readBatches();
  return {
    schema: reader.schema,
    numRows: input.numRows,
    totalBytes: input.totalBytes,
    // The footer (and trailing padding) is never streamed, so the count is snapped to the size at the end.
    bytesRead: () => (finished && input.totalBytes !== null ? input.totalBytes : input.bytesRead()),
    batches,
    ranges: input.ranges ? { ...input.ranges, batches } : null,
    async close() {
      if (closed) return;
      closed = true;
      // Destroy the byte stream first: a reader blocked on a stalled stream then wakes up and ends.
      await input.close();
      await Promise.resolve(reader.cancel()).catch(() => undefined);
    },
  };
}
