import { constants, openSync, statSync } from 'node:fs';
import { Socket } from 'node:net';
import { extname } from 'node:path';
import { fromIPC, fromParquet } from '../sources/index.js';
import { fromS3 } from '../store/open.js';
import { isS3Url } from '../store/s3-location.js';
import type { BatchSource } from '../sources/types.js';

const IPC_EXTENSIONS = new Set(['.arrow', '.arrows', '.feather', '.ipc']);

/**
 * The command's input as a source: "-" is standard input, a named pipe is read as a stream,
 * `s3://bucket/key` an object in S3-compatible storage, anything else is a file; files and
 * objects of the kind their extension says. Returns a usage problem as text.
 */
export function sourceOf(input: string): BatchSource | string {
  if (input === '-') return fromIPC(process.stdin);
  const ext = extname(input).toLowerCase();
  if (ext !== '.parquet' && !IPC_EXTENSIONS.has(ext)) {
    return `cannot tell the input's kind from "${ext}": use .arrow, .arrows, .feather or .parquet`;
  }
  if (isS3Url(input)) {
    try {
      return fromS3(input); // read with ranged GETs
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
  }
  if (!isNamedPipe(input)) return ext === '.parquet' ? fromParquet(input) : fromIPC(input);
  if (ext === '.parquet') return `${input} is a named pipe, and Parquet is read from a file: give an Arrow IPC stream (.arrows) through a pipe`;
  const pipe = openNamedPipe(input);
  return pipe ? fromIPC(pipe) : fromIPC(input);
}

function isNamedPipe(path: string): boolean {
  try {
    return statSync(path).isFIFO();
  } catch {
    return false; // missing or unreadable: the source says so, as for any file
  }
}

/**
 * A named pipe opened without blocking and read through the event loop, as node reads a pipe
 * on stdin. Opened as a file, it would block a thread of libuv's pool in open(2) until a writer
 * came, and neither a cancel nor process.exit() (which joins that pool) could end the command:
 * the first SIGTERM seemed ignored (issue #11). Opened O_NONBLOCK, the read end waits in epoll
 * for a writer (it sees no end of input until a writer has come and gone).
 */
function openNamedPipe(path: string): Socket | null {
  try {
    const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    return new Socket({ fd, readable: true, writable: false });
  } catch {
    return null; // not readable: opened as a file, the source fails with the system's reason
  }
}
