import type { S3ClientConfig } from '@aws-sdk/client-s3';
import { ExportError } from '../errors.js';

/** `s3://bucket/prefix`: the bucket, and the prefix with a trailing `/` (or '' for the bucket's root). */
export interface S3Location {
  bucket: string;
  prefix: string;
}

export function isS3Url(location: string): boolean {
  return location.startsWith('s3://');
}

/**
 * Parses `s3://bucket[/prefix]`. The bucket's name is checked loosely (S3-compatible servers
 * differ); keys keep their characters as given, only leading and repeated slashes dropped.
 */
export function parseS3Url(url: string): S3Location {
  if (!isS3Url(url)) throw new ExportError('INVALID_OPTION', `an S3 location starts with s3://, got ${JSON.stringify(url)}`);
  const rest = url.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{1,254}$/.test(bucket)) {
    throw new ExportError('INVALID_OPTION', `${JSON.stringify(url)} names no valid bucket: give s3://<bucket>/<prefix>`);
  }
  const parts = (slash < 0 ? '' : rest.slice(slash + 1)).split('/').filter((p) => p !== '');
  return { bucket, prefix: parts.length === 0 ? '' : `${parts.join('/')}/` };
}

/** Tuning and, where the environment is not to be used, the connection of an S3 store. */
export interface S3StoreOptions {
  /** Default: AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL (read by the SDK); unset means AWS itself. */
  endpoint?: string;
  /** Default: AWS_REGION, then AWS_DEFAULT_REGION, else us-east-1 (an S3-compatible server rarely cares). */
  region?: string;
  /** Default: the SDK's chain (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, then profiles, …). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Default: true when an endpoint is set (MinIO, s3rver, … want bucket names in the path). */
  forcePathStyle?: boolean;
  /**
   * Bytes of each part of a multipart upload (at least 5 MiB, S3's minimum). Default 8 MiB: an
   * object may then reach 80 GB (10,000 parts); memory per part being written is about
   * (queueSize + 1) × partSize.
   */
  partSize?: number;
  /** Parts of one object uploaded at once. Default 4. */
  queueSize?: number;
}

/**
 * The client's configuration: the standard AWS environment variables, path-style addressing
 * when an endpoint is set, and checksums only where an operation requires them. Since client-s3
 * 3.729 the SDK sends CRC32 checksums on every upload and validates them on every GET by
 * default, which S3-compatible servers (s3rver, R2, older MinIO) reject or do not return.
 */
export function s3ClientConfig(options: S3StoreOptions = {}, env: NodeJS.ProcessEnv = process.env): S3ClientConfig {
  const endpoint = options.endpoint ?? env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
  return {
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    region: options.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    ...(options.credentials ? { credentials: options.credentials } : {}),
    forcePathStyle: options.forcePathStyle ?? (endpoint !== undefined && endpoint !== ''),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  };
}
