import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ExportError } from '../../src/errors.js';
import { fromIPC } from '../../src/sources/ipc.js';
import {
  drain, isNonDecreasing, makeBatches, makeDictionaryBatches, rowsOf, toFileIPC, toSchemaFirstFileIPC, toStreamIPC, withTempDir,
} from './helpers.js';

const batches = makeBatches(5, 1000);
const expected = rowsOf(batches);
const formats = [
  { name: 'file', bytes: toFileIPC(batches), numRows: 5000 },
  { name: 'stream', bytes: toStreamIPC(batches), numRows: null },
] as const;

/** A one-shot stream of the bytes in small, odd-sized chunks (the magic then spans chunks). */
function chunked(bytes: Uint8Array, size: number): Readable {
  const parts: Buffer[] = [];
  for (let at = 0; at < bytes.byteLength; at += size) parts.push(Buffer.from(bytes.subarray(at, at + size)));
  return Readable.from(parts);
}

describe('fromIPC', () => {
  for (const { name, bytes, numRows } of formats) {
    it(`reads the ${name} format from a path, batch by batch, reopenably`, async () => {
      await withTempDir(async (dir) => {
        const path = join(dir, `t.${name === 'file' ? 'arrow' : 'arrows'}`);
        await writeFile(path, bytes);
        const source = fromIPC(path);
        expect(source.reopenable).toBe(true);
        for (let pass = 0; pass < 2; pass++) {
          const opened = await source.open();
          expect(opened.schema?.fields.map((f) => f.name)).toEqual(['i', 'f', 's']);
          expect(opened.numRows).toBe(numRows);
          expect(opened.totalBytes).toBe(bytes.byteLength);
          const { batches: read, progress } = await drain(opened);
          expect(read).toHaveLength(5);
          expect(rowsOf(read)).toEqual(expected);
          expect(isNonDecreasing(progress)).toBe(true);
          expect(progress.at(-1)).toBe(bytes.byteLength);
        }
      });
    });

    it(`reads the ${name} format from a buffer`, async () => {
      const opened = await fromIPC(bytes).open();
      expect(opened.numRows).toBe(numRows);
      expect(opened.totalBytes).toBe(bytes.byteLength);
      const { batches: read, progress } = await drain(opened);
      expect(rowsOf(read)).toEqual(expected);
      expect(isNonDecreasing(progress)).toBe(true);
      expect(progress.at(-1)).toBe(bytes.byteLength);
    });

  }

  const streamable = [
    { name: 'stream format', bytes: toStreamIPC(batches) },
    { name: 'file format with a leading schema (C++/Rust/pyarrow)', bytes: toSchemaFirstFileIPC(batches) },
  ];
  for (const { name, bytes } of streamable) {
    it(`reads the ${name} from a one-shot Readable as it arrives, and refuses a second open`, async () => {
      await withTempDir(async (dir) => {
        const source = fromIPC(chunked(bytes, 13), { tempDir: dir });
        expect(source.reopenable).toBe(false);
        const opened = await source.open();
        expect(opened.schema?.fields.map((f) => f.name)).toEqual(['i', 'f', 's']);
        expect(opened.numRows).toBeNull();
        expect(opened.totalBytes).toBeNull();
        expect(await readdir(dir)).toEqual([]);
        const { batches: read, progress } = await drain(opened);
        expect(rowsOf(read)).toEqual(expected);
        expect(isNonDecreasing(progress)).toBe(true);
        expect(progress.at(-1)).toBeGreaterThan(0);
        await expect(source.open()).rejects.toThrow(/one-shot stream and was already opened/);
      });
    });
  }

  it('copies an arrow-js IPC file (schema only in the footer) from a Readable to a temp file, removed on close', async () => {
    await withTempDir(async (dir) => {
      const bytes = toFileIPC(batches);
      const opened = await fromIPC(chunked(bytes, 4096), { tempDir: dir }).open();
      expect(opened.numRows).toBe(5000);
      expect(opened.totalBytes).toBe(bytes.byteLength);
      expect(await readdir(dir)).toHaveLength(1);
      const { batches: read, progress } = await drain(opened);
      expect(rowsOf(read)).toEqual(expected);
      expect(progress.at(-1)).toBe(bytes.byteLength);
      expect(await readdir(dir)).toEqual([]);
    });
  });

  it('reads a file with a leading schema from a path and a buffer too', async () => {
    const bytes = toSchemaFirstFileIPC(batches);
    const opened = await fromIPC(bytes).open();
    expect(opened.numRows).toBe(5000);
    expect(rowsOf((await drain(opened)).batches)).toEqual(expected);
  });

  it('reads dictionary-encoded strings with a replacement dictionary (stream format)', async () => {
    const dict = makeDictionaryBatches();
    for (const input of [toStreamIPC(dict), chunked(toStreamIPC(dict), 5)]) {
      const { batches: read } = await drain(await fromIPC(input).open());
      expect(read.map((b) => b.getChild('colour')?.toArray())).toEqual([
        ['red', 'green', 'red', null], ['blue', 'cyan', 'cyan', 'blue', 'navy'],
      ]);
    }
  });

  it('reads dictionary-encoded strings in the file format', async () => {
    const [first] = makeDictionaryBatches();
    const opened = await fromIPC(toFileIPC([first, first])).open();
    expect(opened.numRows).toBe(8);
    const { batches: read } = await drain(opened);
    expect(read.flatMap((b) => b.getChild('colour')?.toArray())).toEqual(['red', 'green', 'red', null, 'red', 'green', 'red', null]);
  });

  it('closes early without reading the rest, twice safely', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 't.arrow');
      await writeFile(path, formats[0].bytes);
      const opened = await fromIPC(path).open();
      for await (const batch of opened.batches) {
        expect(batch.numRows).toBe(1000);
        break;
      }
      await opened.close();
      await opened.close();
      expect(opened.bytesRead()).toBeLessThanOrEqual(formats[0].bytes.byteLength);
    });
  });

  it('fails with SOURCE_FAILED naming the input for bytes that are not Arrow, an empty input or a truncated file', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'bad.arrow');
      await writeFile(path, 'name,value\nx,1\n'.repeat(20));
      const notArrow = fromIPC(path).open().then(drain);
      await expect(notArrow).rejects.toBeInstanceOf(ExportError);
      await expect(notArrow).rejects.toMatchObject({ code: 'SOURCE_FAILED', message: expect.stringContaining('Arrow IPC file bad.arrow') });
      await expect(notArrow).rejects.toMatchObject({ message: expect.not.stringContaining(dir) });
    });
    await expect(fromIPC(new Uint8Array(0)).open()).rejects.toMatchObject({ code: 'SOURCE_FAILED', message: expect.stringMatching(/empty/) });
    const truncated = formats[0].bytes.subarray(0, formats[0].bytes.byteLength - 20);
    await expect(fromIPC(truncated).open()).rejects.toMatchObject({ code: 'SOURCE_FAILED', message: expect.stringMatching(/truncated/) });
    const missing = fromIPC('/no/such/file.arrow').open();
    await expect(missing).rejects.toMatchObject({ code: 'SOURCE_FAILED', message: expect.stringContaining('file.arrow') });
    await expect(missing).rejects.toMatchObject({ message: expect.not.stringContaining('/no/such') });
  });

  it('refuses a text-mode stream', async () => {
    const text = Readable.from(['not', 'bytes']);
    await expect(fromIPC(text).open()).rejects.toMatchObject({ code: 'SOURCE_FAILED', message: expect.stringMatching(/encoding/) });
  });
});
