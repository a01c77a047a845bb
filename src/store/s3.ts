import type * as ClientS3 from '@aws-sdk/client-s3';
import type * as LibStorage from '@aws-sdk/lib-storage';
import { posix } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { lazyRequire } from '../lazy-require.js';
import type { RandomAccessInput, RandomAccessReader } from '../sources/random-access.js';
import { parseS3Url, s3ClientConfig } from './s3-location.js';
import type { S3Location, S3StoreOptions } from './s3-location.js';
import { uploadWritable } from './s3-upload.js';
import type { ObjectStore, StoredObject } from './types.js';

// The SDK is loaded only when an s3:// location is used: a CLI run that writes to a directory
// does not pay for parsing it (issue #12: start-up).
const loadClient = lazyRequire<typeof ClientS3>('@aws-sdk/client-s3');
const loadStorage = lazyRequire<typeof LibStorage>('@aws-sdk/lib-storage');

const MiB = 1024 * 1024;
const DEFAULT_PART_SIZE = 8 * MiB;
/** S3's least part size (all but the last part of a multipart upload). */
const MIN_PART_SIZE = 5 * MiB;
/** CopyObject copies at most 5 GB; past that, parts are copied (UploadPartCopy). */
const COPY_LIMIT = 5 * 1000 * 1000 * 1000;
const COPY_PART = 1024 * MiB;
/** DeleteObjects takes at most 1,000 keys a call. */
const DELETE_AT_ONCE = 1000;

/** One client per configuration and process: its connections are kept alive and shared. */
const clients = new Map<string, ClientS3.S3Client>();

function clientFor(options: S3StoreOptions): ClientS3.S3Client {
  const config = s3ClientConfig(options);
  const id = JSON.stringify({ ...config, credentials: options.credentials?.accessKeyId ?? null, env: process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL ?? null });
  let client = clients.get(id);
  if (!client) {
    const sdk = loadClient();
    client = new sdk.S3Client(config);
    clients.set(id, client);
  }
  return client;
}

/** Closes the clients this process made (their kept-alive connections); the next use makes new ones. */
export function closeS3Clients(): void {
  for (const client of clients.values()) client.destroy();
  clients.clear();
}

/**
 * A bucket and prefix of S3-compatible storage (`s3://bucket/prefix`) as an ObjectStore:
 * objects read with ranged GETs, written with multipart uploads, published by a server-side
 * copy. Keys are below the prefix.
 */
export class S3Store implements ObjectStore {
  readonly location: string;
  private readonly where: S3Location;
  private readonly client: ClientS3.S3Client;
  private readonly partSize: number;
  private readonly queueSize: number;

  constructor(url: string, options: S3StoreOptions = {}) {
    this.where = parseS3Url(url);
    this.location = `s3://${this.where.bucket}/${this.where.prefix}`.replace(/\/$/, '');
    this.client = clientFor(options);
    this.partSize = Math.max(MIN_PART_SIZE, options.partSize ?? DEFAULT_PART_SIZE);
    this.queueSize = Math.max(1, options.queueSize ?? 4);
  }

  private get sdk(): typeof ClientS3 {
    return loadClient();
  }

  private fullKey(key: string): string {
    return `${this.where.prefix}${key}`;
  }

  locate(key: string): string {
    return `s3://${this.where.bucket}/${this.fullKey(key)}`;
  }

  async *list(prefix: string, options: { shallow?: boolean } = {}): AsyncIterable<StoredObject> {
    const { ListObjectsV2Command } = this.sdk;
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({
        Bucket: this.where.bucket, Prefix: this.fullKey(prefix), ContinuationToken: token,
        ...(options.shallow ? { Delimiter: '/' } : {}),
      }));
      for (const item of page.Contents ?? []) {
        if (item.Key === undefined) continue;
        yield { key: item.Key.slice(this.where.prefix.length), size: item.Size ?? 0, ...(item.LastModified ? { modified: item.LastModified.getTime() } : {}) };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async stat(key: string): Promise<StoredObject | null> {
    try {
      const head = await this.client.send(new this.sdk.HeadObjectCommand({ Bucket: this.where.bucket, Key: this.fullKey(key) }));
      return { key, size: head.ContentLength ?? 0, ...(head.LastModified ? { modified: head.LastModified.getTime() } : {}) };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  openRead(key: string): RandomAccessInput {
    return { kind: 'random-access', name: posix.basename(key), open: () => this.openReader(key) };
  }

  /**
   * One pass over an object: its size and ETag from a HEAD, then every range asked with
   * If-Match on that ETag, so an object replaced while it is read fails the read (412) rather
   * than mixing two versions. close() aborts requests still in flight.
   */
  private async openReader(key: string): Promise<RandomAccessReader> {
    const { HeadObjectCommand, GetObjectCommand } = this.sdk;
    const Bucket = this.where.bucket;
    const Key = this.fullKey(key);
    const head = await this.client.send(new HeadObjectCommand({ Bucket, Key }));
    const size = head.ContentLength ?? 0;
    const etag = head.ETag;
    const stop = new AbortController();
    const get = async (start: number, end: number): Promise<Readable> => {
      const answer = await this.client.send(
        new GetObjectCommand({ Bucket, Key, Range: `bytes=${start}-${end - 1}`, ...(etag ? { IfMatch: etag } : {}) }),
        { abortSignal: stop.signal },
      );
      return answer.Body as Readable;
    };
    return {
      size,
      async read(offset, length) {
        const end = Math.min(size, offset + length);
        if (end <= offset) return new Uint8Array(0);
        const body = await get(offset, end);
        const chunks: Buffer[] = [];
        for await (const chunk of body) chunks.push(chunk as Buffer);
        return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
      },
      async *stream(start, end) {
        if (end <= start) return;
        const body = await get(start, Math.min(end, size));
        try {
          for await (const chunk of body) yield chunk as Uint8Array;
        } finally {
          body.destroy();
        }
      },
      async close() {
        stop.abort();
      },
    };
  }

  openWrite(key: string): Writable {
    return uploadWritable(loadStorage(), {
      client: this.client, bucket: this.where.bucket, key: this.fullKey(key), partSize: this.partSize, queueSize: this.queueSize,
    });
  }

  /** A server-side copy to the final key: `from` is left for deletePrefix (S3 has no rename). */
  async publish(from: string, to: string): Promise<void> {
    const source = await this.stat(from);
    if (source === null) throw new Error(`the part stored as ${from} is missing`);
    if (source.size > COPY_LIMIT) {
      await this.copyInParts(from, to, source.size);
      return;
    }
    await this.client.send(new this.sdk.CopyObjectCommand({
      Bucket: this.where.bucket, Key: this.fullKey(to), CopySource: this.copySource(from),
    }));
  }

  /** A copy of an object over 5 GB: a multipart upload of ranges copied on the server. */
  private async copyInParts(from: string, to: string, size: number): Promise<void> {
    const { CreateMultipartUploadCommand, UploadPartCopyCommand, CompleteMultipartUploadCommand, AbortMultipartUploadCommand } = this.sdk;
    const Bucket = this.where.bucket;
    const Key = this.fullKey(to);
    const { UploadId } = await this.client.send(new CreateMultipartUploadCommand({ Bucket, Key }));
    try {
      const parts: { PartNumber: number; ETag?: string }[] = [];
      for (let start = 0, n = 1; start < size; start += COPY_PART, n++) {
        const end = Math.min(size, start + COPY_PART) - 1;
        const copied = await this.client.send(new UploadPartCopyCommand({
          Bucket, Key, UploadId, PartNumber: n, CopySource: this.copySource(from), CopySourceRange: `bytes=${start}-${end}`,
        }));
        parts.push({ PartNumber: n, ETag: copied.CopyPartResult?.ETag });
      }
      await this.client.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: parts } }));
    } catch (err) {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId })).catch(() => undefined);
      throw err;
    }
  }

  /** `bucket/key` URL-encoded segment by segment, as CopySource wants it. */
  private copySource(key: string): string {
    return [this.where.bucket, ...this.fullKey(key).split('/')].map(encodeURIComponent).join('/');
  }

  async delete(keys: readonly string[]): Promise<void> {
    const { DeleteObjectsCommand } = this.sdk;
    for (let i = 0; i < keys.length; i += DELETE_AT_ONCE) {
      const batch = keys.slice(i, i + DELETE_AT_ONCE).map((key) => ({ Key: this.fullKey(key) }));
      const answer = await this.client.send(new DeleteObjectsCommand({ Bucket: this.where.bucket, Delete: { Objects: batch, Quiet: true } }));
      const failed = answer.Errors?.[0];
      if (failed) throw new Error(`cannot remove ${failed.Key?.slice(this.where.prefix.length) ?? 'an object'}: ${failed.Code ?? ''} ${failed.Message ?? ''}`.trim());
    }
  }

  async deletePrefix(prefix: string): Promise<number> {
    const keys: string[] = [];
    for await (const { key } of this.list(prefix)) keys.push(key);
    await this.delete(keys);
    return keys.length;
  }
}

function isNotFound(err: unknown): boolean {
  const meta = (err as { $metadata?: { httpStatusCode?: number } }).$metadata;
  const name = (err as { name?: string }).name;
  return meta?.httpStatusCode === 404 || name === 'NotFound' || name === 'NoSuchKey';
}
