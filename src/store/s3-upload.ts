import type { S3Client } from '@aws-sdk/client-s3';
import type * as LibStorage from '@aws-sdk/lib-storage';
import { PassThrough, Writable } from 'node:stream';

export interface UploadTarget {
  client: S3Client;
  bucket: string;
  key: string;
  partSize: number;
  queueSize: number;
}

/**
 * A Writable whose bytes become one S3 object through lib-storage's Upload: a single PutObject
 * when they fit in one part, else a multipart upload of `partSize` parts, `queueSize` at once.
 * It finishes only when the object is stored whole, and fails when the upload does.
 *
 * Destroyed before that, it ends the upload's body with the error: the Upload stops taking
 * parts, waits for those in flight and aborts the multipart upload (nothing was completed, so
 * no object appears), and only then does the Writable emit 'close'. (Upload.abort() instead
 * rejects at once and leaves its in-flight requests running: a caller could not know when
 * nothing more of the object would arrive.)
 */
export function uploadWritable(storage: typeof LibStorage, target: UploadTarget): Writable {
  const body = new PassThrough();
  const upload = new storage.Upload({
    client: target.client,
    params: { Bucket: target.bucket, Key: target.key, Body: body },
    partSize: target.partSize,
    queueSize: target.queueSize,
    leavePartsOnError: false,
  });
  const settled = upload.done();
  let release: (() => void) | null = null; // a write waiting for the body to drain
  const onDrainOrClose = (): void => {
    const waiting = release;
    release = null;
    waiting?.();
  };
  body.on('drain', onDrainOrClose);
  body.on('close', onDrainOrClose);

  const out = new Writable({
    write(chunk: Buffer, _encoding, cb) {
      if (body.destroyed) {
        cb(new Error('the upload stopped'));
        return;
      }
      if (body.write(chunk)) cb();
      else release = () => cb();
    },
    final(cb) {
      body.end();
      settled.then(() => cb(), (err: unknown) => cb(asError(err)));
    },
    destroy(err, cb) {
      if (!body.writableFinished) body.destroy(err ?? new Error('the upload was stopped'));
      // 'close' waits for the Upload to settle: after it, no request of this object is in flight.
      settled.then(() => cb(err), () => cb(err));
    },
  });
  // An upload failing before the end (no such bucket, access denied) fails the writer at once.
  settled.catch((err: unknown) => { if (!out.destroyed) out.destroy(asError(err)); });
  return out;
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
