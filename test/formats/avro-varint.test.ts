/**
 * Avro zig-zag varints (spec 1.11, "Binary Encoding"), checked against the spec's own table,
 * a BigInt reference written from the definition, and avsc's long and int types.
 */
import avsc from 'avsc';
import { describe, expect, it } from 'vitest';
import {
  measureLongNumber, writeInt, writeLongBigInt, writeLongHalves, writeLongNumber, writeVarUint32,
} from '../../src/formats/avro/varint.js';

const MAX = 2n ** 63n - 1n;
const MIN = -(2n ** 63n);

/** Straight from the definition: zigzag(n) = 2n for n >= 0, -2n - 1 below, then 7 bits a byte. */
function referenceLong(n: bigint): number[] {
  let z = n >= 0n ? 2n * n : -2n * n - 1n;
  const out: number[] = [];
  while (z >= 0x80n) {
    out.push(Number(z & 0x7fn) | 0x80);
    z >>= 7n;
  }
  out.push(Number(z));
  return out;
}

function bytesOf(write: (out: Uint8Array, pos: number) => number): number[] {
  const out = new Uint8Array(16);
  return [...out.subarray(0, write(out, 0))];
}

/** The two int32 halves of an int64, as the encoder reads them from a BigInt64Array. */
function halves(n: bigint): [number, number] {
  const words = new Int32Array(new BigInt64Array([n]).buffer);
  return [words[0], words[1]];
}

const LONGS: bigint[] = [
  0n, -1n, 1n, -2n, 2n, 63n, -64n, 64n, -65n, 2n ** 31n - 1n, -(2n ** 31n), 2n ** 31n, -(2n ** 31n) - 1n,
  2n ** 32n, -(2n ** 32n), 2n ** 53n, -(2n ** 53n), 2n ** 53n + 1n, -(2n ** 53n) - 1n, MAX, -MAX, MIN,
  1234567890123456789n, -987654321098765432n,
];

describe('avro zig-zag longs', () => {
  it('match the spec\'s table (0, -1, 1, -2, 2, ..., -64, 64)', () => {
    const table: [bigint, number[]][] = [[0n, [0x00]], [-1n, [0x01]], [1n, [0x02]], [-2n, [0x03]], [2n, [0x04]], [-64n, [0x7f]], [64n, [0x80, 0x01]]];
    for (const [n, bytes] of table) expect(bytesOf((o, p) => writeLongHalves(o, p, ...halves(n))), String(n)).toEqual(bytes);
  });

  it.each(LONGS.map((n) => ({ n, label: String(n) })))('$label: halves, BigInt and reference agree', ({ n }) => {
    const expected = referenceLong(n);
    expect(bytesOf((o, p) => writeLongHalves(o, p, ...halves(n)))).toEqual(expected);
    expect(bytesOf((o, p) => writeLongBigInt(o, p, n))).toEqual(expected);
    if (n >= -(2n ** 53n) && n <= 2n ** 53n) {
      expect(bytesOf((o, p) => writeLongNumber(o, p, Number(n)))).toEqual(expected);
    }
  });

  it('take 10 bytes at the extremes, as avsc writes them', () => {
    expect(referenceLong(MAX)).toHaveLength(10);
    expect(referenceLong(MIN)).toEqual([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    const long = avsc.Type.forSchema('long');
    for (const n of LONGS.filter((x) => Number.isSafeInteger(Number(x)) && BigInt(Number(x)) === x)) {
      expect(bytesOf((o, p) => writeLongHalves(o, p, ...halves(n))), String(n)).toEqual([...long.toBuffer(Number(n))]);
    }
  });

  it('measureLongNumber counts the bytes writeLongNumber writes', () => {
    for (const n of [0, 1, 63, 64, 8191, 8192, 2 ** 31, 2 ** 53]) {
      expect(measureLongNumber(n), String(n)).toBe(bytesOf((o, p) => writeLongNumber(o, p, n)).length);
    }
  });
});

describe('avro zig-zag ints', () => {
  it.each([0, -1, 1, 2 ** 31 - 1, -(2 ** 31), 719162, -719162, 2932896])('%d matches avsc', (n) => {
    expect(bytesOf((o, p) => writeInt(o, p, n))).toEqual([...avsc.Type.forSchema('int').toBuffer(n)]);
  });

  it('unsigned varints of lengths up to 2^32 - 1', () => {
    expect(bytesOf((o, p) => writeVarUint32(o, p, 0))).toEqual([0]);
    expect(bytesOf((o, p) => writeVarUint32(o, p, 300))).toEqual([0xac, 0x02]);
    expect(bytesOf((o, p) => writeVarUint32(o, p, 2 ** 32 - 2))).toEqual(referenceLong(2n ** 31n - 1n));
  });
});
