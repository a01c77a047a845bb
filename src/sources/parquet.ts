import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import type { RecordBatch } from 'apache-arrow';
import { ExportError } from '../errors.js';
import { describeCause } from '../sinks/target-error.js';
import { nameOfPath } from './batches.js';
import { ParquetReader } from './parquet-reader.js';
import type { FromReader, RowGroupInfo } from './parquet-reader-loop.js';
import type { BatchSource, OpenedSource } from './types.js';

/** Rows per batch asked of the reader; parquet-wasm's default (1,024) makes needlessly small batches. */
const READ_BATCH_SIZE = 65_536;
const MAGIC = 'PAR1';
/** Leading magic, then at the end the footer length (u32) and the magic again. */
const HEAD = 4;
const TAIL = 8;

/**
 * A Parquet file, read one row group at a time by parquet-wasm in a worker thread of its own
 * (parquet-reader.ts): it reads the footer, then only the byte ranges of the row group asked
 * for. Each row group is decoded in wasm and handed over batch by batch as Arrow IPC, so memory
 * is O(row group) — the row group size the file's writer chose. Reopenable.
 *
 * A damaged file fails with SOURCE_FAILED naming it by its name (never its directory: messages
 * reach API clients): its frame (magic numbers, a footer length that fits) is checked here
 * before parquet-wasm sees it, and a panic of parquet-wasm on damaged bytes ends only the
 * worker, never the process.
 */
export function fromParquet(path: string): BatchSource {
  const label = `Parquet file ${basename(path)}`;
  return {
    reopenable: true,
    name: nameOfPath(path),
    async open(): Promise<OpenedSource> {
      const totalBytes = await checkFrame(path, label);
      const reader = new ParquetReader();
      try {
        const opened = await reader.request({ kind: 'open', path, batchSize: READ_BATCH_SIZE });
        if (opened.kind !== 'opened') throw unexpected(opened);
        const schema = tableFromIPC(opened.schema).schema;
        return openParquet(reader, opened.numRows, opened.groups, schema, totalBytes, failed);
      } catch (err) {
        await reader.close();
        throw failed(err);
      }
    },
  };

  /** SOURCE_FAILED naming the file; its path, should a message carry it, becomes its name. */
  function failed(err: unknown): ExportError {
    if (err instanceof ExportError) return err;
    const text = describeCause(err).split(path).join(basename(path));
    return new ExportError('SOURCE_FAILED', `cannot read ${label}: ${text}`, {}, { cause: err });
  }
}

function unexpected(answer: FromReader): Error {
  return new Error(answer.kind === 'error' ? answer.message : `the Parquet reader answered "${answer.kind}" out of turn`);
}

/** The file's size, once its magic numbers are in place and its footer length fits inside it. */
async function checkFrame(path: string, label: string): Promise<number> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(path, 'r');
    const size = (await handle.stat()).size;
    if (size < HEAD + TAIL) throw corrupt(label, `it has ${size} bytes, fewer than a Parquet file's magic numbers and footer length`);
    const head = Buffer.alloc(HEAD);
    const tail = Buffer.alloc(TAIL);
    await handle.read(head, 0, HEAD, 0);
    await handle.read(tail, 0, TAIL, size - TAIL);
    if (head.toString('latin1') !== MAGIC) throw corrupt(label, 'it does not start with the Parquet magic number PAR1');
    const end = tail.toString('latin1', 4);
    if (end === 'PARE') throw new ExportError('SOURCE_FAILED', `${label} has an encrypted footer, which is not supported`);
    if (end !== MAGIC) throw corrupt(label, 'it does not end with the Parquet magic number PAR1 (truncated?)');
    const footerLength = tail.readUInt32LE(0);
    if (footerLength === 0 || footerLength > size - HEAD - TAIL) {
      throw corrupt(label, `its footer length (${footerLength}) does not fit in its ${size} bytes`);
    }
    return size;
  } catch (err) {
    if (err instanceof ExportError) throw err;
    throw new ExportError('SOURCE_FAILED', `cannot read ${label}: ${describeCause(err)}`, {}, { cause: err });
  } finally {
    await handle?.close();
  }
}

function corrupt(label: string, what: string): ExportError {
  return new ExportError('SOURCE_FAILED', `${label} is corrupt: ${what}`);
}

/**
 * An opened source dropped without close() (a caller driving sources by hand) would leave its
 * worker and the worker's wasm memory behind; once the source is collected, the worker goes.
 */
const abandoned = new FinalizationRegistry<ParquetReader>((reader) => void reader.close());

function openParquet(
  reader: ParquetReader, numRows: number, groups: readonly RowGroupInfo[], schema: OpenedSource['schema'],
  totalBytes: number, failed: (err: unknown) => ExportError,
): OpenedSource {
  let bytesRead = 0;
  let closed = false;

  async function* readBatches(): AsyncGenerator<RecordBatch, void, undefined> {
    let counted = 0; // row groups whose bytes are in bytesRead
    try {
      for (;;) {
        const answer = await reader.request({ kind: 'next' });
        if (answer.kind === 'end') break;
        if (answer.kind !== 'batch') throw unexpected(answer);
        // Progress by the compressed bytes of the row groups read so far (what came off disk).
        for (; counted <= answer.group && counted < groups.length; counted++) bytesRead += groups[counted].compressedSize;
        bytesRead = Math.min(totalBytes, bytesRead);
        yield* tableFromIPC(answer.ipc).batches;
      }
      bytesRead = totalBytes;
    } catch (err) {
      if (closed) return; // close() stopped the reader mid-request: the end the caller asked for
      throw failed(err);
    } finally {
      await reader.close();
    }
  }

  const opened: OpenedSource = {
    schema,
    numRows,
    totalBytes,
    bytesRead: () => bytesRead,
    batches: readBatches(),
    async close() {
      closed = true;
      abandoned.unregister(opened);
      await reader.close();
    },
  };
  abandoned.register(opened, reader, opened);
  return opened;
}
