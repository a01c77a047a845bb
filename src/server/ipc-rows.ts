import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { MessageHeader } from 'apache-arrow';
import type { Schema } from 'apache-arrow';
import { FILE_HEAD, hasFileMagic, readFileLayout } from '../sources/ipc-footer.js';
import { fileReadAt } from '../sources/ipc-input.js';
import { checkColumnLengths, ipcLabel, readMessageAt, sourceFailed, topLevelNodeCounts } from '../sources/ipc-messages.js';

/**
 * The row count of an Arrow IPC stream (or of the stream part of an IPC file), read from the
 * record batch messages' metadata with small positioned reads; bodies are skipped, never read.
 * A stream has no footer, so this is the only way to give `numRows` in a table's base
 * representation without decoding the whole file.
 *
 * Every length is checked before it moves the reader (readMessageAt): metadata and body inside
 * the file, never negative, so each message starts after the one before and the walk ends
 * within size / 4 steps. A damaged file throws SOURCE_FAILED naming the file (not its path)
 * and the byte; it once sent this loop back to offset 0 for ever on a negative body length.
 */
export async function countIPCRows(path: string): Promise<number> {
  // Named as fromIPC names a path (either format), so both report a damaged table alike.
  const label = ipcLabel('file', path);
  let handle: FileHandle | null = null;
  try {
    handle = await open(path, 'r');
    const file = handle;
    const size = (await file.stat()).size;
    const readAt = fileReadAt(file, size);
    let offset = 0;
    let end = size;
    let topLevel: number[] | null = null;
    if (hasFileMagic(await readAt(0, FILE_HEAD))) {
      const layout = await readFileLayout(readAt, size, label);
      end = layout.streamEnd;
      topLevel = topLevelNodeCounts(layout.schema);
      offset = FILE_HEAD;
    }
    let rows = 0;
    // A stream may end without its end-of-stream marker; the file's footer may follow its marker.
    while (offset < end) {
      const found = await readMessageAt(readAt, offset, end, label);
      if (found === null) break;
      const { message } = found;
      if (message.headerType === MessageHeader.Schema) topLevel = topLevelNodeCounts(message.header() as Schema);
      // A batch counts the rows its columns hold, not just what its header says.
      checkColumnLengths(message, topLevel, label, offset);
      if (message.headerType === MessageHeader.RecordBatch) rows += (message.header() as { length: number }).length;
      offset = found.next;
    }
    return rows;
  } catch (err) {
    throw sourceFailed(label, err);
  } finally {
    await handle?.close();
  }
}
