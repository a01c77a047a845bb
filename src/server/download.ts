import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Export } from '../export/export.js';
import type { ExportFormat } from '../formats/protocol.js';
import type { ExportedFile } from '../pipeline/run.js';
import type { RandomAccessReader } from '../sources/random-access.js';
import { HttpError, sendError } from './http-io.js';
import { openStoredPart } from './part-files.js';

/** Media types per format; a gzip part (csv.gz, jsonl.gz) is served as the gzip file it is. */
const MEDIA_TYPES: Readonly<Record<ExportFormat, string>> = {
  csv: 'text/csv; charset=utf-8',
  jsonl: 'application/x-ndjson; charset=utf-8',
  parquet: 'application/vnd.apache.parquet',
  avro: 'application/avro',
  dta: 'application/x-stata-dta',
  sav: 'application/x-spss-sav',
};

/** Read size per chunk: on loopback 1 MiB doubled throughput over 256 KiB (measured), at 1 MiB of memory per download in flight. */
const READ_CHUNK = 1 << 20;

export type ByteRange = { start: number; end: number } | 'unsatisfiable' | null;

/**
 * Sends part `filePart` of a completed export (GET and HEAD). The file is streamed as it is on
 * disk, never compressed in transit (`no-transform` asks proxies the same), so Content-Length
 * and the MD5 always describe the bytes the client stores. A single byte range is answered
 * 206; several ranges, or a range that does not parse, get the whole file (RFC 9110 allows
 * ignoring Range). The MD5 of the whole file goes in Content-Digest on a 200, where the content
 * is the whole file, and in Repr-Digest on both (RFC 9530): on a 206 the content is only the
 * range, so a full-file digest there would be Repr-Digest's to carry.
 */
export async function sendExportFile(req: IncomingMessage, res: ServerResponse, exp: Export, filePart: string | null): Promise<void> {
  if (exp.status !== 'completed') {
    throw new HttpError(409, `export ${exp.id} is ${exp.status}; its files can be downloaded once it is completed`);
  }
  const index = parseFilePart(filePart);
  const file = exp.files[index];
  if (!file) throw new HttpError(404, `export ${exp.id} has ${exp.files.length} file(s): filePart ${index} does not exist (use 0 to ${exp.files.length - 1})`);
  const handle = file.path === null ? null : await openStoredPart(file.path, file.size);
  if (!handle) throw new HttpError(500, `file ${file.name} of export ${exp.id} is missing from the data directory or was changed`);
  try {
    await sendPart(req, res, exp, file, (start, end) => handle.createReadStream({ start, end, highWaterMark: READ_CHUNK, autoClose: false }));
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/**
 * Part `filePart` of a completed export whose files are in an ObjectStore (the distributed
 * mode's `--data`, a shared directory or s3://): the same answer as sendExportFile, the bytes
 * streamed from the store (S3: one ranged GET). `open` gives the file read by ranges, or null
 * when it is missing or not of the recorded size.
 */
export async function sendStoredExportFile(req: IncomingMessage, res: ServerResponse, exp: Export, filePart: string | null,
  open: (file: ExportedFile) => Promise<RandomAccessReader | null>): Promise<void> {
  if (exp.status !== 'completed') {
    throw new HttpError(409, `export ${exp.id} is ${exp.status}; its files can be downloaded once it is completed`);
  }
  const index = parseFilePart(filePart);
  const file = exp.files[index];
  if (!file) throw new HttpError(404, `export ${exp.id} has ${exp.files.length} file(s): filePart ${index} does not exist (use 0 to ${exp.files.length - 1})`);
  const reader = await open(file).catch(() => null);
  if (!reader || reader.size !== file.size) {
    await reader?.close();
    throw new HttpError(500, `file ${file.name} of export ${exp.id} is missing from the data store or was changed`);
  }
  try {
    await sendPart(req, res, exp, file, (start, end) => Readable.from(reader.stream(start, end + 1)));
  } finally {
    await reader.close().catch(() => undefined);
  }
}

/** The bytes `start` to `end` (inclusive) of a part. */
type ReadPart = (start: number, end: number) => NodeJS.ReadableStream;

async function sendPart(req: IncomingMessage, res: ServerResponse, exp: Export, file: ExportedFile, read: ReadPart): Promise<void> {
  const size = file.size;
  const digest = `md5=:${Buffer.from(file.md5, 'hex').toString('base64')}:`;
  const etag = `"${file.md5}"`;
  const headers: OutgoingHttpHeaders = {
    'Content-Type': file.name.endsWith('.gz') ? 'application/gzip' : MEDIA_TYPES[exp.format],
    'Content-Disposition': buildContentDisposition(file.name),
    'Accept-Ranges': 'bytes',
    ETag: etag,
    'Repr-Digest': digest,
    // The platform's Python client accepts a file already at its target by these two (issue #10).
    'X-Redivis-Size': String(size),
    'X-Redivis-Hash': `md5=${Buffer.from(file.md5, 'hex').toString('base64')}`,
    'Cache-Control': 'private, no-transform',
  };
  // If-Range: resume only if the part is still the one the client began with; else send it whole.
  const ifRange = req.headers['if-range'];
  const range = ifRange === undefined || ifRange === etag ? parseRange(req.headers.range, size) : null;
  if (range === 'unsatisfiable') {
    sendError(res, new HttpError(416, `the range ${String(req.headers.range)} is outside the file's ${size} bytes`, { 'Accept-Ranges': 'bytes', 'Content-Range': `bytes */${size}` }));
    return;
  }
  if (range) {
    res.writeHead(206, { ...headers, 'Content-Length': range.end - range.start + 1, 'Content-Range': `bytes ${range.start}-${range.end}/${size}` });
  } else {
    res.writeHead(200, { ...headers, 'Content-Length': size, 'Content-Digest': digest });
  }
  if (req.method === 'HEAD' || size === 0) {
    res.end();
    return;
  }
  const start = range ? range.start : 0;
  const end = range ? range.end : size - 1;
  const stream = read(start, end);
  try {
    await pipeline(stream, expectBytes(end - start + 1), res);
  } catch {
    // The client went away mid-download (it will resume with Range), or the file came up short
    // (it shrank while being sent): the streams and the socket are destroyed, so a client never
    // waits for bytes that will not come.
  }
}

/** Passes `expected` bytes on; fewer by the end is an error (the pipeline then destroys the socket). */
function expectBytes(expected: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      done(null, chunk);
    },
    flush(done) {
      done(seen === expected ? null : new Error(`sent ${seen} of ${expected} bytes: the file changed while it was sent`));
    },
  });
}

/** filePart: a non-negative integer, 0 when absent (a one-file export is downloaded as part 0). */
function parseFilePart(text: string | null): number {
  if (text === null) return 0;
  if (!/^\d{1,9}$/.test(text)) throw new HttpError(400, `filePart must be a non-negative integer, got "${text}"`);
  return Number(text);
}

/** One `bytes=` range of RFC 9110 §14.1.2 (first-last, first-, -suffix), clamped to the file. */
export function parseRange(header: string | undefined, size: number): ByteRange {
  if (header === undefined) return null;
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!match || (match[1] === '' && match[2] === '')) return null;
  const [, first, last] = match;
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  if (last !== '' && Number(last) < start) return null; // invalid: ignored, as the RFC says
  if (start >= size) return 'unsatisfiable';
  return { start, end };
}

/** RFC 6266: an ASCII fallback name plus the exact UTF-8 name (RFC 8187) for clients that read it. */
function buildContentDisposition(name: string): string {
  const fallback = name.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  const exact = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${fallback}"; filename*=UTF-8''${exact}`;
}
