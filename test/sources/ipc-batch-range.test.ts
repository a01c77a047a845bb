/**
 * fromIPC's `batches`: a range of an IPC file's record batches as a source of its own (a shard
 * of a larger table, issue #13), read with the checks of a whole-file read; ipcBatchRows gives
 * each batch's rows. A local file's range is also read by the worker threads themselves.
 */
import { RecordBatchFileWriter, RecordBatchStreamWriter, type RecordBatch } from 'apache-arrow';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExportError, exportTable, fromIPC, ipcBatchRows } from '../../src/index.js';
import { encodingActivity } from '../../src/parallel/pool.js';
import { readFileLayout } from '../../src/sources/ipc-footer.js';
import { idBatches, tempDir } from '../helpers/batches.js';

async function ids(source: ReturnType<typeof fromIPC>): Promise<bigint[]> {
  const opened = await source.open();
  const out: bigint[] = [];
  try {
    for await (const batch of opened.batches) out.push(...(batch.getChild('id')?.toArray() as BigInt64Array));
  } finally {
    await opened.close();
  }
  return out;
}

const range = (from: number, to: number): bigint[] => Array.from({ length: to - from }, (_, i) => BigInt(from + i));

function fileOf(dir: string, batches: RecordBatch[]): string {
  const path = join(dir, 'five.arrow');
  writeFileSync(path, RecordBatchFileWriter.writeAll(batches).toUint8Array(true));
  return path;
}

describe('fromIPC batches: a range of an IPC file\'s record batches', () => {
  it('gives just those batches, with their rows, from a path and from a buffer; ipcBatchRows gives every batch\'s rows', async () => {
    const path = fileOf(await tempDir(), idBatches([100, 200, 300, 400, 500]));
    expect(await ipcBatchRows(path, 'five.arrow')).toEqual([100, 200, 300, 400, 500]);
    expect(await ids(fromIPC(path, { batches: { start: 1, end: 3 } }))).toEqual(range(100, 600));
    expect(await ids(fromIPC(readFileSync(path), { batches: { start: 4, end: 5 } }))).toEqual(range(1000, 1500));
    expect(await ids(fromIPC(path, { batches: { start: 2, end: 2 } }))).toEqual([]);
    const opened = await fromIPC(path, { batches: { start: 1, end: 4 } }).open();
    expect(opened.numRows).toBe(900);
    await opened.close();
  });

  it('refuses a range outside the file, a stream, and a one-shot input', async () => {
    const dir = await tempDir();
    const path = fileOf(dir, idBatches([10, 10]));
    const stream = join(dir, 'two.arrows');
    writeFileSync(stream, RecordBatchStreamWriter.writeAll(idBatches([10, 10])).toUint8Array(true));
    for (const [source, pattern] of [
      [fromIPC(path, { batches: { start: 1, end: 3 } }), /are not a range of Arrow IPC file five\.arrow's 2 record batches/],
      [fromIPC(path, { batches: { start: -1, end: 1 } }), /are not a range/],
      [fromIPC(stream, { batches: { start: 0, end: 1 } }), /is an Arrow IPC stream: only an IPC file/],
    ] as const) {
      const failure = await source.open().then(() => null, (err: unknown) => err);
      expect(failure).toBeInstanceOf(ExportError);
      expect((failure as ExportError).code).toBe('INVALID_OPTION');
      expect((failure as ExportError).message).toMatch(pattern);
    }
  });

  it('an export of a range: read by the worker threads, the rows of that range, a damaged batch named by its place in the file', async () => {
    const dir = await tempDir();
    const path = fileOf(dir, idBatches([1000, 1000, 1000, 1000, 1000]));
    const before = encodingActivity().ranges;
    const two = await exportTable(fromIPC(path, { batches: { start: 1, end: 4 } }), { format: 'csv', out: join(dir, 'two'), workers: 2 });
    expect(two.status, two.errorMessage ?? '').toBe('completed');
    expect(encodingActivity().ranges).toBeGreaterThan(before);
    const one = await exportTable(fromIPC(path, { batches: { start: 1, end: 4 } }), { format: 'csv', out: join(dir, 'one'), workers: 1 });
    expect(two.files.map((f) => [f.rows, f.md5])).toEqual(one.files.map((f) => [f.rows, f.md5]));
    const lines = readFileSync(two.files[0].path as string, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(3001);
    expect(lines[1]).toBe('1000,row 1000');
    expect(lines[3000]).toBe('3999,row 3999');

    // Batch 2's last label offset made huge: named "batch 2" from a range starting at batch 1.
    const bytes = readFileSync(path);
    const layout = await readFileLayout(async (offset, length) => bytes.subarray(offset, offset + length), bytes.byteLength, 'five');
    const block = layout.blocks?.[2];
    if (!block) throw new Error('no block 2');
    bytes.writeInt32LE(1 << 30, block.offset + block.metaDataLength + 8000 + 4 * 1000);
    writeFileSync(path, bytes);
    for (const workers of [1, 2]) {
      const failed = await exportTable(fromIPC(path, { batches: { start: 1, end: 4 } }), { format: 'csv', out: join(dir, `failed-${workers}`), workers });
      expect(failed.errorCode).toBe('SOURCE_FAILED');
      expect(failed.errorMessage).toMatch(/^csv: Arrow IPC file five\.arrow is corrupt: batch 2, column "label" /);
    }
  });
});

describe('readFileLayout: the row count of every record batch', () => {
  // 150 batches: three windows of metadata reads; each block's metadata is read once, the reads
  // of a window in flight together (one after another, ~0.5 ms each, they were most of the
  // time before a large file's first row); a bad block in a later window is still the one named.
  const sizes = Array.from({ length: 150 }, (_, i) => 1 + (i % 7));

  it('reads the blocks\' metadata a window at a time, each block once, and counts every batch\'s rows', async () => {
    const bytes = RecordBatchFileWriter.writeAll(idBatches(sizes)).toUint8Array(true);
    let inFlight = 0;
    let most = 0;
    const reads: number[] = [];
    const readAt = async (offset: number, length: number): Promise<Uint8Array> => {
      reads.push(offset);
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 1));
      inFlight--;
      return bytes.subarray(offset, offset + length);
    };
    const layout = await readFileLayout(readAt, bytes.byteLength, 'many');
    expect(layout.blocks?.map((b) => b.rows)).toEqual(sizes);
    expect(layout.numRows).toBe(sizes.reduce((a, b) => a + b, 0));
    expect(most).toBe(64);
    // (The first block is also where the check for a leading schema message reads.)
    for (const block of (layout.blocks ?? []).slice(1)) expect(reads.filter((at) => at === block.offset)).toHaveLength(1);
  });

  it('reads at most 256 KiB of a block ahead, whatever its footer says the metadata takes', async () => {
    // One batch of ~3 MB whose footer block claims metadata to the end of the body (still inside
    // the file, so the footer passes its checks): read ahead whole, a window of such blocks
    // would hold as much as the file. The message's own length prefix is what counts.
    const bytes = Buffer.from(RecordBatchFileWriter.writeAll(idBatches([200_000])).toUint8Array(true));
    const plain = async (offset: number, length: number): Promise<Uint8Array> => bytes.subarray(offset, offset + length);
    const [block] = (await readFileLayout(plain, bytes.byteLength, 'one')).blocks ?? [];
    expect(block.bodyLength).toBeGreaterThan(1 << 21);
    // The footer's Block struct: offset (int64), metaDataLength (int32, 4 bytes padding), bodyLength (int64).
    const struct = Buffer.alloc(24);
    struct.writeBigInt64LE(BigInt(block.offset), 0);
    struct.writeInt32LE(block.metaDataLength, 8);
    struct.writeBigInt64LE(BigInt(block.bodyLength), 16);
    const at = bytes.indexOf(struct.subarray(0, 12), bytes.byteLength - 4096);
    expect(at).toBeGreaterThan(0);
    expect(bytes.readBigInt64LE(at + 16)).toBe(BigInt(block.bodyLength));
    bytes.writeInt32LE(block.metaDataLength + block.bodyLength, at + 8);
    bytes.writeBigInt64LE(0n, at + 16);
    let largest = 0;
    const spied = async (offset: number, length: number): Promise<Uint8Array> => {
      if (offset < bytes.byteLength - 4096) largest = Math.max(largest, length);
      return bytes.subarray(offset, offset + length);
    };
    const layout = await readFileLayout(spied, bytes.byteLength, 'one');
    expect(layout.numRows).toBe(200_000);
    expect(largest).toBeLessThanOrEqual(256 << 10);
  });

  it('names the first bad block in file order, in a later window too', async () => {
    const bytes = Buffer.from(RecordBatchFileWriter.writeAll(idBatches(sizes)).toUint8Array(true));
    const readAt = async (offset: number, length: number): Promise<Uint8Array> => bytes.subarray(offset, offset + length);
    const layout = await readFileLayout(readAt, bytes.byteLength, 'many');
    const blocks = layout.blocks ?? [];
    // Blocks 100 and 140: their messages' length prefixes past the end of the file.
    for (const index of [140, 100]) bytes.writeInt32LE(1 << 30, blocks[index].offset + 4);
    const failure = await readFileLayout(readAt, bytes.byteLength, 'many').then(() => null, (err: unknown) => err);
    expect(failure).toBeInstanceOf(ExportError);
    expect((failure as ExportError).message).toContain(`at byte ${blocks[100].offset}`);
  });
});
