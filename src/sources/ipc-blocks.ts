import { RecordBatchReader, type RecordBatch, type Schema } from 'apache-arrow';
import { ExportError } from '../errors.js';
import { checkBatch } from './ipc-batch-check.js';
import { registerIPCDecoders } from './ipc-codecs.js';
import type { BatchBlock } from './ipc-footer.js';
import { corrupt, decodeMessage, readPrefix, sourceFailed } from './ipc-messages.js';
import { MessageFollower } from './ipc-stream-check.js';

/**
 * Record batches decoded from their blocks' bytes (an IPC file's footer says where they are),
 * with the checks of a sequential read: every message followed by MessageFollower (lengths,
 * compressed sizes) before apache-arrow sees it, then each batch against its buffers
 * (checkBatch). `bytes` holds the file from offset `start` to the last block's end;
 * `firstBatch` is the first block's index in the file (errors name the batch). Used by the
 * worker threads' ranges (src/parallel/range-read.ts) and by a source of a range of batches
 * (fromIPC's `batches`, the shards of a distributed export).
 */
export function decodeBlocks(bytes: Uint8Array, start: number, blocks: readonly BatchBlock[], schemaMessage: Uint8Array, label: string, firstBatch: number): RecordBatch[] {
  registerIPCDecoders();
  const schema = schemaOf(schemaMessage, label);
  const chunks: Uint8Array[] = [schemaMessage];
  for (const block of blocks) {
    const at = block.offset - start;
    const length = block.metaDataLength + block.bodyLength;
    const message = bytes.subarray(at, at + length);
    if (message.byteLength < length) throw corrupt(label, block.offset + message.byteLength, 'the file ends inside a record batch its footer points to (truncated?)');
    const follower = new MessageFollower({ label, start: block.offset, end: block.offset + length, schema });
    follower.feed(message);
    follower.finish();
    chunks.push(message.subarray(0, block.metaDataLength), message.subarray(block.metaDataLength));
  }
  const out: RecordBatch[] = [];
  try {
    for (const batch of RecordBatchReader.from(chunks)) {
      checkBatch(batch, label, firstBatch + out.length);
      out.push(batch);
    }
  } catch (err) {
    if (err instanceof ExportError) throw err;
    throw sourceFailed(label, err);
  }
  if (out.length !== blocks.length) {
    throw corrupt(label, start, `the footer's record batch blocks ${firstBatch}–${firstBatch + blocks.length - 1} hold ${out.length} batches`);
  }
  return out;
}

function schemaOf(message: Uint8Array, label: string): Schema {
  const prefix = readPrefix(message, label, 0);
  if (prefix === null) throw corrupt(label, null, 'the schema message is cut short');
  return decodeMessage(message.subarray(prefix.size, prefix.size + prefix.metadataLength), label, 0).header() as Schema;
}
