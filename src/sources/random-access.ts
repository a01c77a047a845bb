/**
 * A file read at any offset without a local path: an object in S3-compatible storage (ranged
 * GETs), or anything else that can serve byte ranges. fromParquet and fromIPC take one where
 * they take a path; they never need more than these few operations.
 */
export interface RandomAccessInput {
  /** Tells this shape apart from a Node stream in fromIPC's union of inputs. */
  readonly kind: 'random-access';
  /** The file's own name (`survey.parquet`), for messages and the export's default name: never a bucket or directory. */
  readonly name: string;
  /** Starts one pass over the file; each pass may see a newer version of it, never a mix of two. */
  open(): Promise<RandomAccessReader>;
}

export interface RandomAccessReader {
  readonly size: number;
  /** Up to `length` bytes at `offset`; fewer only at the end of the file. */
  read(offset: number, length: number): Promise<Uint8Array>;
  /** The bytes from `start` to `end` (exclusive) as they arrive, for reading in order (one request). */
  stream(start: number, end: number): AsyncIterable<Uint8Array>;
  /** Ends reads in flight and releases connections; safe to call twice. */
  close(): Promise<void>;
}

export function isRandomAccess(input: unknown): input is RandomAccessInput {
  return typeof input === 'object' && input !== null && (input as { kind?: unknown }).kind === 'random-access';
}

/** The name without its extension, as nameOfPath gives it for a path. */
export function nameOfFile(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(0, dot) : name;
}
