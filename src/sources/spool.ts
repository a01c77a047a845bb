import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { once } from 'node:events';
import { join } from 'node:path';
import { AsyncByteQueue, RecordBatchStreamWriter } from 'apache-arrow';
import type { RecordBatch, Schema } from 'apache-arrow';
import { ExportError } from '../errors.js';
import { targetFailed } from '../sinks/target-error.js';
import { tempName } from '../temp-files.js';
import { fromBatches } from './batches.js';
import { fromIPC } from './ipc.js';
import type { BatchSource, OpenedSource } from './types.js';

/**
 * A temporary Arrow IPC stream file holding the batches of a one-shot source, so a two-pass
 * format can read them again (DESIGN.md, "Two-pass where a format needs it": the cost is disk,
 * never RAM). append() resolves once the batch's bytes are accepted by the file stream.
 */
export interface Spool {
  readonly path: string;
  append(batch: RecordBatch): Promise<void>;
  /** Ends the file and returns a reopenable source over it (numRows = rows appended). */
  finish(): Promise<BatchSource>;
  /** Deletes the file; safe to call twice, and before or after finish(). */
  remove(): Promise<void>;
}

/**
 * The writer's byte sink, emptied after every write: arrow's writer pushes each batch's bytes
 * into its sink synchronously, and taking them out at once lets append() hand them to the file
 * with backpressure instead of letting an internal queue grow.
 */
class TakeQueue extends AsyncByteQueue {
  private pending: Uint8Array[] = [];
  override write(value: Parameters<AsyncByteQueue['write']>[0]): void {
    if (!ArrayBuffer.isView(value)) throw new ExportError('INTERNAL', 'the Arrow IPC writer produced a non-binary chunk');
    if (value.byteLength > 0) this.pending.push(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
  }
  take(): Uint8Array[] {
    const out = this.pending;
    this.pending = [];
    return out;
  }
}

function sameSchema(a: Schema, b: Schema): boolean {
  if (a === b) return true;
  if (a.fields.length !== b.fields.length) return false;
  return a.fields.every((f, i) => f.name === b.fields[i].name && String(f.type) === String(b.fields[i].type));
}

/** Opens a new spool file in `dir` (created exclusively, under a random name). */
export async function createSpool(dir: string): Promise<Spool> {
  const path = join(dir, tempName('spool', '.arrows'));
  const out = createWriteStream(path, { flags: 'wx' });
  let failure: Error | null = null;
  out.on('error', (err) => { failure = err; });
  await Promise.race([once(out, 'open'), once(out, 'error')]).catch(() => undefined);
  if (failure) throw targetFailed('creating the spool file of a one-shot source (read twice by this format) in the temporary directory', failure);

  const queue = new TakeQueue();
  const writer = new RecordBatchStreamWriter();
  writer.reset(queue);
  let schema: Schema | null = null;
  let rows = 0;
  let state: 'open' | 'finished' | 'removed' = 'open';

  const flush = async (): Promise<void> => {
    let accepted = true;
    for (const chunk of queue.take()) accepted = out.write(chunk);
    if (!accepted) await once(out, 'drain');
    if (failure) throw failure;
  };

  const append = async (batch: RecordBatch): Promise<void> => {
    if (state !== 'open') throw new ExportError('INTERNAL', `append to a spool that is ${state}`);
    if (schema === null) schema = batch.schema;
    else if (!sameSchema(schema, batch.schema)) {
      // arrow's writer would silently start a second stream; a spool holds one schema.
      throw new ExportError('SCHEMA_MISMATCH', 'a batch has different columns or types than the first one', { row: rows });
    }
    try {
      writer.write(batch);
      rows += batch.numRows;
      await flush();
    } catch (err) {
      throw targetFailed('writing the spool file of a one-shot source in the temporary directory', err);
    }
  };

  const finish = async (): Promise<BatchSource> => {
    if (state !== 'open') throw new ExportError('INTERNAL', `finish a spool that is ${state}`);
    state = 'finished';
    try {
      if (schema !== null) writer.close(); // writes the end-of-stream marker
      await flush();
      out.end();
      await once(out, 'close');
    } catch (err) {
      throw targetFailed('writing the spool file of a one-shot source in the temporary directory', err);
    }
    return schema === null ? fromBatches([]) : withRowCount(fromIPC(path), rows);
  };

  const remove = async (): Promise<void> => {
    if (state === 'removed') return;
    state = 'removed';
    if (!out.closed) {
      out.destroy();
      await once(out, 'close').catch(() => undefined);
    }
    await rm(path, { force: true });
  };

  return { path, append, finish, remove };
}

/** The spool knows its row count, which an IPC stream file does not declare. */
function withRowCount(source: BatchSource, numRows: number): BatchSource {
  return {
    reopenable: source.reopenable,
    async open(): Promise<OpenedSource> {
      const opened = await source.open();
      return {
        schema: opened.schema, numRows, totalBytes: opened.totalBytes,
        bytesRead: () => opened.bytesRead(), batches: opened.batches, close: () => opened.close(),
      };
    },
  };
}
