import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { Message, MessageHeader } from 'apache-arrow';

const MAGIC = 'ARROW1';
/** Magic plus padding before the stream part of an IPC file. */
const FILE_HEAD = 8;
/** The legacy (pre-1.0) format had no continuation marker; a message length is never this large. */
const CONTINUATION = -1;

/**
 * The row count of an Arrow IPC stream (or of the stream part of an IPC file), read from the
 * record batch messages' metadata with small positioned reads; bodies are skipped, never read.
 * A stream has no footer, so this is the only way to give `numRows` in a table's base
 * representation without decoding the whole file. Null when the bytes do not parse as messages.
 */
export async function countIPCRows(path: string): Promise<number | null> {
  const handle = await open(path, 'r');
  try {
    const size = (await handle.stat()).size;
    const head = await readAt(handle, 0, FILE_HEAD);
    let offset = head.toString('latin1', 0, MAGIC.length) === MAGIC ? FILE_HEAD : 0;
    let rows = 0;
    while (offset + 4 <= size) {
      const prefix = await readAt(handle, offset, 8);
      if (prefix.byteLength < 4) return null;
      const first = prefix.readInt32LE(0);
      const continued = first === CONTINUATION;
      if (continued && prefix.byteLength < 8) return null;
      const length = continued ? prefix.readInt32LE(4) : first;
      if (length === 0) return rows; // end-of-stream marker
      if (length < 0) return null;
      const start = offset + (continued ? 8 : 4);
      const metadata = await readAt(handle, start, length);
      if (metadata.byteLength < length) return null;
      const message = decodeMessage(metadata);
      if (!message) return null;
      if (message.headerType === MessageHeader.RecordBatch) {
        rows += (message.header() as { length: number }).length;
      }
      offset = start + length + message.bodyLength;
    }
    return offset === size ? rows : null; // a stream may end without its end-of-stream marker
  } finally {
    await handle.close();
  }
}

function decodeMessage(bytes: Buffer): Message | null {
  try {
    return Message.decode(bytes);
  } catch {
    return null;
  }
}

async function readAt(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(buffer, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return buffer.subarray(0, done);
}
