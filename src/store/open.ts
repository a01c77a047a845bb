import { posix } from 'node:path';
import { ExportError } from '../errors.js';
import { fromIPC } from '../sources/ipc.js';
import { fromParquet } from '../sources/parquet.js';
import type { BatchSource } from '../sources/types.js';
import { DirectoryStore } from './directory.js';
import { isS3Url, parseS3Url } from './s3-location.js';
import type { S3StoreOptions } from './s3-location.js';
import { S3Store } from './s3.js';
import type { ObjectStore } from './types.js';

export interface StoreOptions {
  /** For `s3://` locations: connection and upload tuning (default: the AWS environment variables). */
  s3?: S3StoreOptions;
}

/** The store at `location`: `s3://bucket/prefix`, else a directory path. */
export function openStore(location: string, options: StoreOptions = {}): ObjectStore {
  return isS3Url(location) ? new S3Store(location, options.s3) : new DirectoryStore(location);
}

const IPC_EXTENSIONS = new Set(['.arrow', '.arrows', '.feather', '.ipc']);

/**
 * A table file in a store as a BatchSource, of the kind its extension says: `.parquet`, or
 * Arrow IPC (`.arrow`, `.feather`, `.ipc` files, `.arrows` streams). Read by ranges (S3: ranged GETs), never
 * downloaded whole: Parquet one row group at a time, IPC by its footer then in order.
 */
export function fromStore(store: ObjectStore, key: string): BatchSource {
  const ext = posix.extname(key).toLowerCase();
  const input = store.openRead(key);
  if (ext === '.parquet') return fromParquet(input);
  if (IPC_EXTENSIONS.has(ext)) return fromIPC(input);
  throw new ExportError('INVALID_OPTION', `cannot tell the kind of ${posix.basename(key)} from "${ext}": use .parquet, .arrow, .arrows or .feather`);
}

/** `s3://bucket/path/table.parquet` (or `.arrow`) as a BatchSource read with ranged GETs. */
export function fromS3(url: string, options: S3StoreOptions = {}): BatchSource {
  const { bucket, prefix } = parseS3Url(url);
  const key = prefix.replace(/\/$/, '');
  if (key === '') throw new ExportError('INVALID_OPTION', `${JSON.stringify(url)} names a bucket, not an object: give s3://<bucket>/<key>`);
  const dir = posix.dirname(key);
  return fromStore(new S3Store(`s3://${bucket}/${dir === '.' ? '' : dir}`, options), posix.basename(key));
}
