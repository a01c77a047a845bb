import type { Writable } from 'node:stream';
import type { RandomAccessInput } from '../sources/random-access.js';

/**
 * Where files live: a local or shared directory, or a bucket and prefix of S3-compatible
 * storage. Sources read from it and targets write into it through these few operations, so
 * the exporter, the encoders and the sinks do not change with the place. Keys are relative to
 * the store's root (the directory, or `s3://bucket/prefix/`) and use `/` between levels.
 */
export interface ObjectStore {
  /** The root as the user gave it (`s3://bucket/prefix`, `/srv/exports`), for messages. */
  readonly location: string;
  /** How the user names `key` (`s3://bucket/prefix/key`, a path): an exported file's path. */
  locate(key: string): string;
  /**
   * The objects whose keys start with `prefix`, in no set order: at any depth, or with
   * `shallow` only those with no `/` after the prefix.
   */
  list(prefix: string, options?: { shallow?: boolean }): AsyncIterable<StoredObject>;
  /** The object's size, or null when there is none. */
  stat(key: string): Promise<StoredObject | null>;
  /** The object read by byte ranges (S3: ranged GETs, all of one version of it). */
  openRead(key: string): RandomAccessInput;
  /**
   * A Writable whose bytes become the object `key`: it finishes only once the object is stored
   * whole (S3: the multipart upload completed). Destroyed, it stops, and emits 'close' only
   * once nothing of it is still in flight (S3: the upload aborted, no object made); what a
   * directory's file had received stays until deleted.
   */
  openWrite(key: string): Writable;
  /** Gives `from` the name `to` (replacing any object there) and removes `from`. */
  publish(from: string, to: string): Promise<void>;
  /** Removes the objects; missing ones are no error. */
  delete(keys: readonly string[]): Promise<void>;
  /** Removes every object whose key starts with `prefix`; returns how many there were. */
  deletePrefix(prefix: string): Promise<number>;
}

export interface StoredObject {
  key: string;
  size: number;
  /** When it was last written, in ms since the epoch, where the store says (S3 LastModified, a file's mtime). */
  modified?: number;
}
