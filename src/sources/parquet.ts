import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import type { RecordBatch } from 'apache-arrow';
import { ExportError } from '../errors.js';
import { describeCause } from '../sinks/target-error.js';
import { nameOfPath } from './batches.js';
import { ParquetReader } from './parquet-reader.js';
import type { FromReader, RowGroupInfo, RowGroupRange, ToReader } from './parquet-reader-loop.js';
import { nameOfFile } from './random-access.js';
import type { RandomAccessInput, RandomAccessReader } from './random-access.js';
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
 * for — from a local path, or from a file read by ranges (an S3 object: ranged GETs, made on
 * this thread at the worker's request). Each row group is decoded in wasm and handed over batch by batch as Arrow IPC, so memory
 * is O(row group) — the row group size the file's writer chose. Reopenable.
 *
 * A damaged file fails with SOURCE_FAILED naming it by its name (never its directory: messages
 * reach API clients): its frame (magic numbers, a footer length that fits) is checked here
 * before parquet-wasm sees it, and a panic of parquet-wasm on damaged bytes ends only the
 * worker, never the process.
 */
export interface FromParquetOptions {
  /**
   * Only row groups `start` to `end` (exclusive), e.g. one shard of a distributed export
   * (issue #13): the source's numRows are theirs, and only their column chunks are read.
   */
  rowGroups?: RowGroupRange;
  /** Told the file's row groups (all of them, from its footer) once it is open: what shards are planned from. */
  onGroups?: (groups: RowGroupInfo[]) => void;
}

export function fromParquet(input: string | RandomAccessInput, options: FromParquetOptions = {}): BatchSource {
  const { rowGroups } = options;
  const fileName = typeof input === 'string' ? basename(input) : input.name;
  const label = `Parquet file ${fileName}`;
  return {
    reopenable: true,
    name: typeof input === 'string' ? nameOfPath(input) : nameOfFile(input.name),
    async open(): Promise<OpenedSource> {
      if (typeof input === 'string') {
        const totalBytes = await checkFrame(() => readLocalFrame(input), label, failed);
        return openReader(new ParquetReader(), { kind: 'open', path: input, batchSize: READ_BATCH_SIZE, rowGroups }, totalBytes, async () => undefined);
      }
      // Read by ranges (an S3 object): the frame by two small reads, then parquet-wasm asks for
      // the footer and each row group's column chunks through the worker's range requests.
      const remote = await input.open().catch((err: unknown) => { throw failed(err); });
      try {
        const totalBytes = await checkFrame(() => readRemoteFrame(remote), label, failed);
        const readAt = (offset: number, length: number): Promise<Uint8Array> => remote.read(offset, length);
        return await openReader(new ParquetReader(readAt), { kind: 'open', remoteSize: totalBytes, batchSize: READ_BATCH_SIZE, rowGroups }, totalBytes, () => remote.close());
      } catch (err) {
        await remote.close();
        throw err;
      }
    },
  };

  async function openReader(reader: ParquetReader, request: ToReader, totalBytes: number, release: () => Promise<void>): Promise<OpenedSource> {
    try {
      const opened = await reader.request(request);
      if (opened.kind !== 'opened') throw unexpected(opened);
      const schema = tableFromIPC(opened.schema).schema;
      options.onGroups?.(opened.groups);
      // A range's progress counts only its own row groups' bytes.
      const groups = rowGroups ? opened.groups.slice(0, rowGroups.end) : opened.groups;
      const first = rowGroups?.start ?? 0;
      const bytes = rowGroups ? groups.slice(first).reduce((n, g) => n + g.compressedSize, 0) : totalBytes;
      return openParquet(reader, opened.numRows, groups, first, schema, bytes, failed, release);
    } catch (err) {
      await reader.close();
      throw failed(err);
    }
  }

  /** SOURCE_FAILED naming the file; its path, should a message carry it, becomes its name. */
  function failed(err: unknown): ExportError {
    if (err instanceof ExportError) return err;
    const text = typeof input === 'string' ? describeCause(err).split(input).join(fileName) : describeCause(err);
    return new ExportError('SOURCE_FAILED', `cannot read ${label}: ${text}`, {}, { cause: err });
  }
}

function unexpected(answer: FromReader): Error {
  return new Error(answer.kind === 'error' ? answer.message : `the Parquet reader answered "${answer.kind}" out of turn`);
}

/** A file's size and its first and last bytes: what checkFrame looks at. */
interface Frame {
  size: number;
  head: Buffer;
  tail: Buffer;
}

async function readLocalFrame(path: string): Promise<Frame> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(path, 'r');
    const size = (await handle.stat()).size;
    const head = Buffer.alloc(HEAD);
    const tail = Buffer.alloc(TAIL);
    if (size >= HEAD + TAIL) {
      await handle.read(head, 0, HEAD, 0);
      await handle.read(tail, 0, TAIL, size - TAIL);
    }
    return { size, head, tail };
  } finally {
    await handle?.close();
  }
}

async function readRemoteFrame(file: RandomAccessReader): Promise<Frame> {
  const { size } = file;
  if (size < HEAD + TAIL) return { size, head: Buffer.alloc(HEAD), tail: Buffer.alloc(TAIL) };
  const [head, tail] = await Promise.all([file.read(0, HEAD), file.read(size - TAIL, TAIL)]);
  return { size, head: Buffer.from(head), tail: Buffer.from(tail) };
}

/** The file's size, once its magic numbers are in place and its footer length fits inside it. */
async function checkFrame(read: () => Promise<Frame>, label: string, failed: (err: unknown) => ExportError): Promise<number> {
  const { size, head, tail } = await read().catch((err: unknown) => { throw failed(err); });
  if (size < HEAD + TAIL) throw corrupt(label, `it has ${size} bytes, fewer than a Parquet file's magic numbers and footer length`);
  if (head.toString('latin1') !== MAGIC) throw corrupt(label, 'it does not start with the Parquet magic number PAR1');
  const end = tail.toString('latin1', 4);
  if (end === 'PARE') throw new ExportError('SOURCE_FAILED', `${label} has an encrypted footer, which is not supported`);
  if (end !== MAGIC) throw corrupt(label, 'it does not end with the Parquet magic number PAR1 (truncated?)');
  const footerLength = tail.readUInt32LE(0);
  if (footerLength === 0 || footerLength > size - HEAD - TAIL) {
    throw corrupt(label, `its footer length (${footerLength}) does not fit in its ${size} bytes`);
  }
  return size;
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
  reader: ParquetReader, numRows: number, groups: readonly RowGroupInfo[], firstGroup: number, schema: OpenedSource['schema'],
  totalBytes: number, failed: (err: unknown) => ExportError, release: () => Promise<void>,
): OpenedSource {
  let bytesRead = 0;
  let closed = false;

  async function* readBatches(): AsyncGenerator<RecordBatch, void, undefined> {
    let counted = firstGroup; // row groups whose bytes are in bytesRead
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
      await release();
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
      await release();
    },
  };
  abandoned.register(opened, reader, opened);
  return opened;
}

