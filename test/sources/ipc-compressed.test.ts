/**
 * Compressed Arrow IPC input (LZ4 frame, ZSTD), as pyarrow writes it: Feather v2 files are
 * LZ4-compressed by default (`DataFrame.to_feather`). The compressed files are made by pyarrow
 * itself, so the decoders are judged against the reference writer, not against our own encoder.
 */
import type { RecordBatch } from 'apache-arrow';
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exportTable, fromBatches, fromIPC } from '../../src/index.js';
import { decodeLz4Frames } from '../../src/sources/ipc-codecs.js';
import { allTypes, mediumRandom, type Fixture } from '../fixtures/tables.js';
import { listDir, tempDir } from '../helpers/batches.js';
import { VENV_PYTHON } from '../helpers/readers.js';
import { toStreamIPC } from './helpers.js';

/** Runs a Python snippet in the test venv (pyarrow); argv[1:] are `args`. Returns stdout. */
function python(code: string, ...args: string[]): string {
  const run = spawnSync(VENV_PYTHON, ['-c', code, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (run.error) throw run.error;
  if (run.status !== 0) throw new Error(`python failed: ${run.stderr}`);
  return run.stdout;
}

/**
 * pyarrow rewrites an uncompressed IPC stream as `kind` (file, stream or feather) with `codec`,
 * and prints whether the result differs from the same table written uncompressed the same way
 * (so a test cannot pass on a file that was not compressed after all).
 */
const REWRITE = `
import sys, pyarrow as pa, pyarrow.ipc as ipc, pyarrow.feather as feather
src, dst, kind, codec = sys.argv[1:5]
table = ipc.open_stream(pa.memory_map(src)).read_all()
def write(path, codec):
    if kind == 'feather':
        if codec == 'default':
            feather.write_feather(table, path)  # pyarrow's default for Feather v2: lz4
        else:
            feather.write_feather(table, path, compression=codec)
        return
    new = ipc.new_file if kind == 'file' else ipc.new_stream
    with new(path, table.schema, options=ipc.IpcWriteOptions(compression=codec)) as writer:
        for batch in table.to_batches():
            writer.write_batch(batch)
write(dst, codec)
write(dst + '.plain', 'uncompressed' if kind == 'feather' else None)
print('compressed' if open(dst, 'rb').read() != open(dst + '.plain', 'rb').read() else 'same', end='')
`;

async function jsonlOf(input: RecordBatch[] | string, fixture: Fixture): Promise<string> {
  const out = await tempDir();
  const source = typeof input === 'string' ? fromIPC(input) : fromBatches(input);
  const exp = await exportTable(source, { format: 'jsonl', out, table: typeof input === 'string' ? undefined : fixture.table, name: fixture.table.name });
  expect(exp.status, exp.errorMessage ?? '').toBe('completed');
  return readFile(exp.files[0].path as string, 'utf8');
}

describe('compressed Arrow IPC input (written by pyarrow)', () => {
  const cases = [
    ['file', 'lz4'], ['file', 'zstd'], ['stream', 'lz4'], ['stream', 'zstd'], ['feather', 'default'],
  ] as const;

  for (const fixture of [allTypes, mediumRandom]) {
    it.each(cases)(`${fixture.table.name}: an IPC %s with %s bodies exports exactly as the uncompressed batches`, async (kind, codec) => {
      const dir = await tempDir('te-ipc-z-');
      const plain = join(dir, 'plain.arrows');
      await writeFile(plain, toStreamIPC(fixture.batches));
      const compressed = join(dir, `t.${kind === 'stream' ? 'arrows' : kind === 'feather' ? 'feather' : 'arrow'}`);
      expect(python(REWRITE, plain, compressed, kind, codec)).toBe('compressed');
      const want = await jsonlOf(fixture.batches, fixture);
      expect(await jsonlOf(compressed, fixture)).toBe(want);
      expect(want.split('\n').length - 1).toBe(fixture.table.numRows ?? fixture.batches.reduce((n, b) => n + b.numRows, 0));
    });
  }

  it('a damaged LZ4 body fails the export with SOURCE_FAILED naming the file, and leaves nothing', async () => {
    const dir = await tempDir('te-ipc-z-');
    const plain = join(dir, 'plain.arrows');
    await writeFile(plain, toStreamIPC(mediumRandom.batches));
    const path = join(dir, 'broken.arrows');
    python(REWRITE, plain, path, 'stream', 'lz4');
    const bytes = await readFile(path);
    // Overwrite the middle of the file (inside a compressed body) with a pattern LZ4 cannot decode.
    const at = Math.floor(bytes.length / 2);
    bytes.fill(0xff, at, at + 64);
    await writeFile(path, bytes);
    const out = await tempDir();
    const exp = await exportTable(fromIPC(path), { format: 'csv', out, name: 'broken' });
    expect(exp.status).toBe('failed');
    expect(exp.errorCode).toBe('SOURCE_FAILED');
    expect(exp.errorMessage).toContain('Arrow IPC file broken.arrows');
    expect(exp.errorMessage).not.toContain(dir);
    expect(await listDir(out)).toEqual([]);
  });
});

describe('decodeLz4Frames', () => {
  function pyCompress(data: Uint8Array): Uint8Array {
    const run = spawnSync(VENV_PYTHON, ['-c', `
import sys, pyarrow as pa
data = sys.stdin.buffer.read()
sys.stdout.buffer.write(pa.Codec('lz4').compress(data, asbytes=True))
`], { input: data, maxBuffer: 1 << 26 });
    if (run.status !== 0) throw new Error(String(run.stderr));
    return new Uint8Array(run.stdout);
  }

  it('decodes pyarrow frames of runs, text and noise across many linked blocks', () => {
    const size = 600_000; // ~10 blocks of 64 KiB
    const data = new Uint8Array(size);
    let seed = 7;
    for (let i = 0; i < size; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      const region = Math.floor(i / 50_000) % 3;
      data[i] = region === 0 ? 0x61 : region === 1 ? 0x61 + (i % 26) : seed >>> 24; // run, pattern, noise
    }
    const frame = pyCompress(data);
    expect(frame.length).toBeLessThan(size); // compressed, so matches were exercised
    expect(Buffer.from(decodeLz4Frames(frame)).equals(Buffer.from(data))).toBe(true);
    expect(decodeLz4Frames(pyCompress(new Uint8Array(0)))).toEqual(new Uint8Array(0));
  });

  it('decodes hand-made frames: an uncompressed block, an overlapping match, two frames, a skippable frame', () => {
    const frame = (blocks: number[][], flags = 0x60): number[] => [0x04, 0x22, 0x4d, 0x18, flags, 0x70, 0x00, ...blocks.flat(), 0, 0, 0, 0];
    const u32 = (n: number): number[] => [n & 255, (n >> 8) & 255, (n >> 16) & 255, (n >>> 24) & 255];
    // Block 1: literals "ab", then a match of offset 2, length 2 + 4 (overlapping: "ababab"), then last literals "c".
    const block = [0x22, 0x61, 0x62, 0x02, 0x00, 0x10, 0x63];
    const raw = [0x78, 0x79];
    const bytes = new Uint8Array([
      ...frame([[...u32(block.length), ...block], [...u32(0x80000000 | raw.length), ...raw]]),
      ...u32(0x184d2a53), ...u32(3), 1, 2, 3, // skippable
      ...frame([[...u32(0x80000000 | 1), 0x7a]]),
    ]);
    expect(new TextDecoder().decode(decodeLz4Frames(bytes))).toBe('ababababcxyz');
  });

  it.each([
    ['a bad magic number', [1, 2, 3, 4, 0x60, 0x70, 0, 0, 0, 0, 0], /bad magic number/],
    ['a truncated block', [0x04, 0x22, 0x4d, 0x18, 0x60, 0x70, 0, 10, 0, 0, 0, 0x10], /ends inside a block/],
    ['a match before the start', [0x04, 0x22, 0x4d, 0x18, 0x60, 0x70, 0, 4, 0, 0, 0, 0x00, 0x05, 0x00, 0x00, 0, 0, 0, 0], /points before the start/],
    ['a missing end mark', [0x04, 0x22, 0x4d, 0x18, 0x60, 0x70, 0, 1, 0, 0, 0x80, 0x41], /ends inside a block size/],
    ['a block decoding beyond its maximum size', (() => {
      const block = [0x1f, 0x61, 0x01, 0x00, ...new Array<number>(300).fill(255), 0x00, 0x10, 0x61]; // 'a' × 76,520 in 64 KiB blocks
      return [0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0, block.length & 255, block.length >> 8, 0, 0, ...block, 0, 0, 0, 0];
    })(), /more than its maximum size/],
  ] as const)('refuses %s', (_what, bytes, message) => {
    expect(() => decodeLz4Frames(new Uint8Array(bytes))).toThrow(message);
  });
});
