/**
 * The pure-JS snappy compressor, judged by an independent decompressor (cramjam's, the one
 * fastavro uses, run in the readers' venv), on the shapes that exercise every tag: empty and
 * tiny inputs, long literals (1–4 length bytes), long copies (split at 64), near and far
 * offsets, fragment boundaries (64 KiB), incompressible data. Plus the CRC-32 of the codec.
 */
import { execFile } from 'node:child_process';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32, crc32Table } from '../../src/formats/avro/codecs.js';
import { compressSnappy, maxSnappyLength } from '../../src/formats/avro/snappy.js';
import { VENV_PYTHON } from '../helpers/readers.js';

function compress(input: Uint8Array): Uint8Array {
  const out = new Uint8Array(maxSnappyLength(input.length) + 8);
  // Compress from an offset into a larger buffer, as the codec does (block data after HEAD_ROOM).
  const padded = new Uint8Array(input.length + 7);
  padded.set(input, 7);
  const end = compressSnappy(padded, 7, padded.length, out, 3);
  return out.slice(3, end);
}

/** Decompresses with cramjam.snappy.decompress_raw; rejects when the venv lacks it. */
function decompressWithCramjam(blocks: readonly Uint8Array[]): Promise<Buffer[]> {
  const script = 'import sys, json, cramjam\n'
    + 'blocks = json.load(sys.stdin)\n'
    + 'print(json.dumps([bytes(cramjam.snappy.decompress_raw(bytes.fromhex(b))).hex() for b in blocks]))\n';
  return new Promise((resolve, reject) => {
    const child = execFile(VENV_PYTHON, ['-c', script], { maxBuffer: 256 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`cramjam (the snappy decoder fastavro uses) failed: ${stderr || error.message}`));
      else resolve((JSON.parse(stdout) as string[]).map((h) => Buffer.from(h, 'hex')));
    });
    child.stdin?.end(JSON.stringify(blocks.map((b) => Buffer.from(b).toString('hex'))));
  });
}

function pseudoRandom(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const repeat = (unit: Uint8Array, n: number): Uint8Array => {
  const out = new Uint8Array(unit.length * n);
  for (let i = 0; i < n; i++) out.set(unit, i * unit.length);
  return out;
};
const join = (...parts: Uint8Array[]): Uint8Array => Uint8Array.from(parts.flatMap((p) => [...p]));

const CASES: [string, Uint8Array][] = [
  ['empty', new Uint8Array(0)],
  ['one byte', text('x')],
  ['14 bytes (below the input margin)', text('abcdefghijklmn')],
  ['a run of one byte', new Uint8Array(1000).fill(7)],
  ['a 70-byte copy (split 64 + rest)', join(pseudoRandom(70, 1), pseudoRandom(70, 1))],
  ['copies of 4..80 bytes', join(...Array.from({ length: 77 }, (_, i) => join(pseudoRandom(i + 4, i), pseudoRandom(i + 4, i))))],
  ['a far copy (offset > 2047)', join(pseudoRandom(5000, 2), pseudoRandom(5000, 2))],
  ['literal of 60 bytes', pseudoRandom(60, 3)],
  ['literal of 256 bytes', pseudoRandom(256, 4)],
  ['literal of 70,000 bytes (crosses a fragment)', pseudoRandom(70_000, 5)],
  ['repetitive text over 3 fragments', repeat(text('the quick brown fox, 42; '), 8000)],
  ['incompressible 1 MiB', pseudoRandom(1 << 20, 6)],
  ['mixed 300 kB', join(pseudoRandom(100_000, 7), repeat(text('abc'), 30_000), pseudoRandom(100_000, 7), new Uint8Array(10_000))],
];

describe('snappy compression', () => {
  it('round-trips through cramjam for every case', async () => {
    const compressed = CASES.map(([, input]) => compress(input));
    const back = await decompressWithCramjam(compressed);
    CASES.forEach(([name, input], i) => {
      expect(Buffer.from(input).equals(back[i]), name).toBe(true);
      expect(compressed[i].length, name).toBeLessThanOrEqual(maxSnappyLength(input.length));
    });
  }, 60_000);

  it('compresses repetitive data well and incompressible data with little overhead', () => {
    expect(compress(repeat(text('the quick brown fox, 42; '), 8000)).length).toBeLessThan(20_000);
    const random = pseudoRandom(1 << 20, 9);
    expect(compress(random).length).toBeLessThan(random.length * 1.001);
  });
});

describe('crc32 of the snappy codec', () => {
  it('the table fallback agrees with zlib on known and random data', () => {
    expect(crc32Table(text('123456789'))).toBe(0xcbf43926); // the CRC-32/ISO-HDLC check value
    expect(crc32Table(new Uint8Array(0))).toBe(0);
    for (const n of [1, 7, 1000, 65_537]) {
      const data = pseudoRandom(n, n);
      expect(crc32Table(data), String(n)).toBe(zlibCrc32(data) >>> 0);
      expect(crc32(data), String(n)).toBe(zlibCrc32(data) >>> 0);
    }
  });
});
