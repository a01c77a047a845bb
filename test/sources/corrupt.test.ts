/**
 * Damaged inputs, one case each (issue #11, item 4): every reader (a path, a buffer, a one-shot
 * stream, and the server's row count) fails at once with SOURCE_FAILED saying what is wrong,
 * naming the file and not its directory. The first case is the issue's: a negative body length
 * that sent the row count back to offset 0 for ever. The fuzz over the same fixtures is
 * corrupt-fuzz.test.ts.
 */
import { createReadStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MessageHeader } from 'apache-arrow';
import { beforeAll, describe, expect, it } from 'vitest';
import { ExportError, fromIPC, fromParquet } from '../../src/index.js';
import { countIPCRows } from '../../src/server/ipc-rows.js';
import { decodeLz4Frames } from '../../src/sources/ipc-codecs.js';
import { decodeZstd } from '../../src/sources/ipc-zstd.js';
import { tempDir } from '../helpers/batches.js';
import { ipcLengthFields, makeFixtures, messagesOf } from './corrupt-fixtures.js';
import type { Fixture, LengthField, MessageInfo } from './corrupt-fixtures.js';
import { drain } from './corrupt-runner.js';

/** Every answer comes within this (the acceptance line of issue #11 for the server). */
const FAST_MS = 1000;

/** Buffers of a fixture batch, in column order: i32, i64, f, b, s (validity, offsets, data), d, t, cat. */
const S_OFFSETS = 9;
const CAT_KEYS = 16;

interface Damage {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly fields: readonly LengthField[];
  readonly messages: readonly MessageInfo[];
}

interface Case {
  readonly name: string;
  readonly fixture: string;
  readonly damage: (d: Damage) => Uint8Array | void;
  /** What every failing reader's message says. */
  readonly says: RegExp;
  /** What a one-shot stream's says, when it differs (its length is unknown, so a length past the end shows as the stream ending early). */
  readonly streamSays?: RegExp;
  /** The row count reads message headers only, so damage inside a body is not its to see. */
  readonly counts?: boolean;
}

const field = (d: Damage, what: string, nth = 0): LengthField => d.fields.filter((f) => f.what === what)[nth];
const firstBatch = (d: Damage): MessageInfo => d.messages.filter((m) => m.headerType === MessageHeader.RecordBatch)[0];

const CASES: readonly Case[] = [
  {
    name: 'a negative body length that points back to the first message (the issue: countIPCRows looped for ever)',
    fixture: 'arrow-js stream',
    damage: (d) => { const f = field(d, 'body length', 2); d.view.setBigInt64(f.at, f.rewind ?? -1n, true); },
    says: /body length is negative/,
  },
  { name: 'a negative metadata length', fixture: 'arrow-js stream', damage: (d) => d.view.setInt32(field(d, 'metadata length', 2).at, -8, true), says: /metadata length is negative \(-8\)/ },
  {
    name: 'a metadata length past the end of the file', fixture: 'arrow-js stream',
    damage: (d) => d.view.setInt32(field(d, 'metadata length', 3).at, d.bytes.byteLength, true), says: /metadata .* runs past the end of the input/,
    streamSays: /the input ends inside a message \(truncated\?\)/,
  },
  {
    name: 'a body length past the end of the file', fixture: 'arrow-js stream',
    damage: (d) => d.view.setBigInt64(field(d, 'body length', 3).at, BigInt(d.bytes.byteLength), true), says: /body .* runs past the end of the input/,
    streamSays: /the input ends inside a message \(truncated\?\)/,
  },
  {
    name: 'a vector of 4 billion field nodes (arrow-js would loop over every one)', fixture: 'arrow-js stream',
    damage: (d) => d.view.setUint32(field(d, 'node count', 1).at, 0xfffffff0, true), says: /not a valid flatbuffer: a vector of 4294967280 elements/,
  },
  {
    name: 'a batch length of 2^30 over columns of 100 values (arrow-js padded every column to it: 128 MiB each)', fixture: 'arrow-js stream',
    damage: (d) => d.view.setBigInt64(field(d, 'batch length', 1).at, 2n ** 30n, true), says: /a record batch of 1073741824 rows has a column of 100 values/,
  },
  {
    name: 'a buffer outside its body', fixture: 'arrow-js stream',
    damage: (d) => d.view.setBigInt64(field(d, 'buffer offset', 3).at, BigInt(d.bytes.byteLength), true), says: /a record batch has a buffer of \d+ bytes at offset/,
  },
  {
    name: 'a validity bitmap shorter than its column', fixture: 'arrow-js stream', counts: true,
    damage: (d) => d.view.setBigInt64(field(d, 'buffer length', 3).at, 1n, true), says: /batch 0, column "i32" has a validity bitmap of 1 bytes for 100 values/,
  },
  {
    name: 'string offsets past the string bytes', fixture: 'arrow-js stream', counts: true,
    damage: (d) => { const m = firstBatch(d); d.view.setInt32(m.bodyStart + m.buffers[S_OFFSETS].offset + 400, 0x3fffffff, true); },
    says: /batch 0, column "s" has offsets up to 1073741823 over \d+ values/,
  },
  {
    name: 'a dictionary key outside its dictionary', fixture: 'arrow-js stream', counts: true,
    damage: (d) => { const m = firstBatch(d); d.view.setInt32(m.bodyStart + m.buffers[CAT_KEYS].offset + 4, 99, true); },
    says: /batch 0, column "cat" has key 99 at value 1, outside its dictionary of 3/,
  },
  { name: 'a negative footer length', fixture: 'arrow-js file', damage: (d) => d.view.setInt32(field(d, 'footer length').at, -24, true), says: /footer length \(-24\) does not fit/ },
  {
    name: 'a footer block that points back before the one before it', fixture: 'arrow-js file',
    damage: (d) => d.view.setBigInt64(field(d, 'block offset', 2).at, 8n, true), says: /record batch block 1 .* is not inside the file's messages after block 0/,
  },
  { name: 'a file cut short', fixture: 'arrow-js file', damage: (d) => d.bytes.subarray(0, d.bytes.byteLength - 300), says: /does not end with its footer \(truncated\?\)/ },
  { name: 'a stream cut inside a body', fixture: 'arrow-js stream', damage: (d) => d.bytes.subarray(0, firstBatch(d).bodyStart + 40), says: /body .* runs past the end|ends inside a message/ },
  {
    name: 'an LZ4 buffer declaring 2^40 bytes uncompressed', fixture: 'pyarrow stream lz4', counts: true,
    damage: (d) => d.view.setBigInt64(field(d, 'uncompressed length', 3).at, 2n ** 40n, true), says: /declares 1099511627776 bytes uncompressed \(at most \d+ possible\)/,
  },
  {
    name: 'a ZSTD buffer declaring one byte more than its frame holds', fixture: 'pyarrow stream zstd', counts: true,
    damage: (d) => { const at = field(d, 'uncompressed length', 3).at; d.view.setBigInt64(at, d.view.getBigInt64(at, true) + 1n, true); },
    says: /corrupt ZSTD frame: the frame's content size \d+ differs from the \d+ bytes its buffer declares/,
  },
];


/** Runs `read`, expecting SOURCE_FAILED within FAST_MS; returns the message. */
async function failsFast(read: () => Promise<unknown>): Promise<string> {
  const start = performance.now();
  const error = await read().then(() => null, (err: unknown) => err);
  expect(performance.now() - start).toBeLessThan(FAST_MS);
  expect(error).toBeInstanceOf(ExportError);
  expect((error as ExportError).code).toBe('SOURCE_FAILED');
  return (error as ExportError).message;
}

describe('corrupt Arrow IPC inputs fail at once with SOURCE_FAILED saying what is wrong', () => {
  let dir = '';
  const fixtures = new Map<string, Fixture>();
  beforeAll(async () => {
    dir = await tempDir('te-corrupt-');
    for (const f of await makeFixtures(dir)) fixtures.set(f.name, f);
  });

  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_, c) => {
    const original = fixtures.get(c.fixture)?.bytes;
    if (!original) throw new Error(`no fixture ${c.fixture}`);
    const copy = original.slice();
    const damage: Damage = { bytes: copy, view: new DataView(copy.buffer), fields: ipcLengthFields(original), messages: messagesOf(original) };
    const bytes = c.damage(damage) ?? copy;
    const caseDir = join(dir, c.name.replace(/\W+/g, '-').slice(0, 60));
    await mkdir(caseDir);
    const path = join(caseDir, 'damaged.arrow');
    await writeFile(path, bytes);

    const byPath = await failsFast(() => drain(fromIPC(path)));
    expect(byPath).toMatch(c.says);
    expect(byPath).toContain('Arrow IPC file damaged.arrow');
    expect(byPath).not.toContain(caseDir);
    expect(await failsFast(() => drain(fromIPC(bytes)))).toMatch(c.says);
    expect(await failsFast(() => drain(fromIPC(createReadStream(path), { tempDir: caseDir })))).toMatch(c.streamSays ?? c.says);
    if (c.counts) {
      expect(await countIPCRows(path)).toBe(400);
    } else {
      const counting = await failsFast(() => countIPCRows(path));
      expect(counting).toMatch(c.says);
      expect(counting).toContain('Arrow IPC file damaged.arrow');
      expect(counting).not.toContain(caseDir);
    }
  });
});

describe('the codecs refuse sizes a damaged buffer declares, before allocating them', () => {
  it('LZ4: a frame content size of 2^40, and a frame that decodes to other than its buffer declares', () => {
    const header = [0x04, 0x22, 0x4d, 0x18, 0x48, 0x40, 0, 0, 0, 0, 0, 1, 0, 0, 0x00];
    const block = [0x04, 0, 0, 0x80, 0x61, 0x62, 0x63, 0x64, 0, 0, 0, 0]; // one stored block "abcd", end mark
    const frame = new Uint8Array([...header, ...block]);
    expect(() => decodeLz4Frames(frame)).toThrow(/content size 1099511627776 exceeds/);
    const plain = new Uint8Array([0x04, 0x22, 0x4d, 0x18, 0x40, 0x40, 0x00, ...block]);
    expect(new TextDecoder().decode(decodeLz4Frames(plain, 4))).toBe('abcd');
    expect(() => decodeLz4Frames(plain, 5)).toThrow(/decodes to 4 bytes, not the 5 its buffer declares/);
    expect(() => decodeLz4Frames(plain, 3)).toThrow(/exceeds the 3 bytes/);
  });

  it('ZSTD: a window larger than decoders accept, or a content size other than the buffer declares', () => {
    // Frame header: magic, descriptor (no content size, not single segment), window descriptor exponent 31.
    const hugeWindow = new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0xf8, 0x01, 0x00, 0x00]);
    expect(() => decodeZstd(hugeWindow, null, 1 << 20)).toThrow(/window of \d+ bytes is larger than zstd decoders accept/);
    // Single segment, 1-byte content size 4, one raw block "abcd" (last block, type raw, size 4).
    const frame = new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, 0x20, 0x04, 0x21, 0x00, 0x00, 0x61, 0x62, 0x63, 0x64]);
    expect(new TextDecoder().decode(decodeZstd(frame, 4, 1 << 20))).toBe('abcd');
    expect(() => decodeZstd(frame, 5, 1 << 20)).toThrow(/content size 4 differs from the 5 bytes its buffer declares/);
  });
});

describe('corrupt Parquet files fail at once with SOURCE_FAILED, and a panic of parquet-wasm ends only its worker', () => {
  let dir = '';
  let parquet: Uint8Array = new Uint8Array(0);
  beforeAll(async () => {
    dir = await tempDir('te-corrupt-pq-');
    parquet = (await makeFixtures(dir)).find((f) => f.name === 'parquet-wasm parquet')?.bytes ?? parquet;
  });

  async function readDamaged(name: string, bytes: Uint8Array): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, bytes);
    const message = await failsFast(() => drain(fromParquet(path)));
    expect(message).toContain(`Parquet file ${name}`);
    expect(message).not.toContain(dir);
    return message;
  }

  it.each([
    ['no leading magic', (b: Uint8Array) => { b[0] = 0x51; return b; }, /does not start with the Parquet magic number/],
    ['cut short', (b: Uint8Array) => b.subarray(0, b.byteLength - 100), /does not end with the Parquet magic number PAR1 \(truncated\?\)/],
    ['a footer length of 2^31', (b: Uint8Array) => { new DataView(b.buffer).setUint32(b.byteLength - 8, 2 ** 31, true); return b; }, /footer length \(2147483648\) does not fit/],
    ['a footer length of 0', (b: Uint8Array) => { new DataView(b.buffer).setUint32(b.byteLength - 8, 0, true); return b; }, /footer length \(0\) does not fit/],
  ] as const)('%s', async (name, damage, says) => {
    expect(await readDamaged(`${name.replace(/\W+/g, '-')}.parquet`, damage(parquet.slice()))).toMatch(says);
  });

  it('a footer that makes parquet-wasm panic (a wasm trap) fails the read, and the next file reads as before', async () => {
    const footerLength = new DataView(parquet.buffer, parquet.byteOffset).getUint32(parquet.byteLength - 8, true);
    let panicked = '';
    // Single-bit flips through the footer, in a fixed order, until one makes the Rust code panic
    // (about one in eight does); the fixture's bytes are fixed, so this finds the same one each run.
    for (let k = 0; k < 200 && !panicked; k++) {
      const bytes = parquet.slice();
      const at = bytes.byteLength - 9 - ((k * 37) % footerLength);
      bytes[at] ^= 1 << (k % 8);
      const path = join(dir, `flip-${k}.parquet`);
      await writeFile(path, bytes);
      const error = await drain(fromParquet(path)).then(() => null, (err: unknown) => err);
      if (error instanceof ExportError && error.message.includes('crashed')) panicked = error.message;
    }
    expect(panicked).toMatch(/cannot read Parquet file flip-\d+\.parquet: the Parquet reader crashed on it \(RuntimeError: unreachable\)/);
    await writeFile(join(dir, 'good.parquet'), parquet);
    expect(await drain(fromParquet(join(dir, 'good.parquet')))).toBe(400);
  });
});
