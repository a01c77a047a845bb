/**
 * The S3 store against a local s3rver: list, stat, ranged reads, multipart uploads, publish,
 * deletes; and a writer destroyed mid-upload leaves no object.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Store, closeS3Clients, openStore } from '../../src/store/index.js';
import { startS3, type S3Server } from '../services/s3.js';

let s3: S3Server;
let restoreEnv: () => void;

beforeAll(async () => {
  s3 = await startS3(['store']);
  restoreEnv = s3.useEnv();
});

afterAll(async () => {
  closeS3Clients();
  restoreEnv?.();
  await s3?.stop();
});

async function put(store: S3Store, key: string, bytes: Uint8Array): Promise<void> {
  await pipeline(Readable.from([Buffer.from(bytes)]), store.openWrite(key));
}

async function keys(store: S3Store, prefix = ''): Promise<string[]> {
  const found: string[] = [];
  for await (const { key } of store.list(prefix)) found.push(key);
  return found.sort();
}

describe('S3Store', () => {
  it('stores, lists, stats, reads ranges of, publishes and deletes objects', async () => {
    const store = openStore('s3://store/runs/one') as S3Store;
    expect(store).toBeInstanceOf(S3Store);
    const bytes = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));
    await put(store, '_temporary/x/0.bin', bytes);
    await put(store, 'a/b.bin', Buffer.from('deep'));
    expect(await keys(store)).toEqual(['_temporary/x/0.bin', 'a/b.bin']);
    const shallow: string[] = [];
    for await (const { key } of store.list('', { shallow: true })) shallow.push(key);
    expect(shallow).toEqual([]);
    expect(await store.stat('_temporary/x/0.bin')).toEqual({ key: '_temporary/x/0.bin', size: 1000, modified: expect.any(Number) as number });
    expect(await store.stat('missing')).toBeNull();

    const reader = await store.openRead('_temporary/x/0.bin').open();
    expect(reader.size).toBe(1000);
    expect(Buffer.from(await reader.read(10, 20))).toEqual(bytes.subarray(10, 30));
    expect(Buffer.from(await reader.read(990, 100))).toEqual(bytes.subarray(990));
    const streamed: Buffer[] = [];
    for await (const chunk of reader.stream(100, 900)) streamed.push(Buffer.from(chunk));
    expect(Buffer.concat(streamed)).toEqual(bytes.subarray(100, 900));
    await reader.close();

    await store.publish('_temporary/x/0.bin', 'final.bin');
    expect((await store.stat('final.bin'))?.size).toBe(1000);
    expect(store.locate('final.bin')).toBe('s3://store/runs/one/final.bin');
    expect(await store.deletePrefix('_temporary/')).toBe(1);
    expect(await keys(store)).toEqual(['a/b.bin', 'final.bin']);
    await store.delete(['a/b.bin', 'final.bin', 'never-there']);
    expect(await keys(store)).toEqual([]);
  });

  it('uploads an object larger than a part as a multipart upload', async () => {
    const store = new S3Store('s3://store/big', { partSize: 5 * 1024 * 1024, queueSize: 2 });
    const chunk = Buffer.alloc(1024 * 1024, 7);
    const chunks = Array.from({ length: 12 }, (_, i) => Buffer.alloc(chunk.length, i));
    await pipeline(Readable.from(chunks), store.openWrite('big.bin'));
    expect((await store.stat('big.bin'))?.size).toBe(12 * 1024 * 1024);
    const reader = await store.openRead('big.bin').open();
    expect(Buffer.from(await reader.read(11 * 1024 * 1024 - 2, 4))).toEqual(Buffer.from([10, 10, 11, 11]));
    await reader.close();
    await store.deletePrefix('');
  });

  it('a writer destroyed mid-upload leaves no object, and closes only once the upload has settled', async () => {
    const store = new S3Store('s3://store/cut', { partSize: 5 * 1024 * 1024 });
    const writer = store.openWrite('cut.bin');
    for (let i = 0; i < 8; i++) {
      if (!writer.write(Buffer.alloc(1024 * 1024, i))) await new Promise((r) => writer.once('drain', r));
    }
    const closed = new Promise((r) => writer.once('close', r));
    writer.on('error', () => undefined);
    writer.destroy(new Error('stop'));
    await closed;
    expect(await keys(store)).toEqual([]);
  });

  it('an upload to a bucket that does not exist fails the writer', async () => {
    const store = new S3Store('s3://no-such-bucket/x');
    await expect(pipeline(Readable.from([Buffer.from('x')]), store.openWrite('x.bin'))).rejects.toThrow(/bucket/i);
  });
});
