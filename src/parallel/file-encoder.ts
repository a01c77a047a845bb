import type { RecordBatch } from 'apache-arrow';
import type { ByteSink, FileEncoder, Patch } from '../formats/protocol.js';
import { OrderedChunks, type ChunkDispatcher } from './chunks.js';
import type { ChunkResult } from './kernel.js';

/**
 * A file whose rows are encoded in chunks, here or in worker threads, and written in order:
 * csv and jsonl as they are; formats with more to do per chunk (dta, sav) pass `consume`.
 * `end` writes what follows the rows and returns the header patches.
 */
export class ChunkedFileEncoder implements FileEncoder {
  private readonly chunks: OrderedChunks;

  constructor(
    dispatcher: ChunkDispatcher,
    sink: ByteSink,
    consume?: (result: ChunkResult, firstRow: number, rows: number) => Promise<void>,
    private readonly end: () => Promise<Patch[]> = async () => [],
  ) {
    this.chunks = new OrderedChunks(dispatcher, consume ?? (async (result) => {
      for (const bytes of result.bytes) await sink.write(bytes);
    }));
  }

  writeBatch(batch: RecordBatch, firstRow: number): Promise<void> {
    return this.chunks.add(batch, firstRow);
  }

  bufferedRows(): number {
    return this.chunks.bufferedRows;
  }

  drain(): Promise<void> {
    return this.chunks.finish();
  }

  async endFile(): Promise<Patch[]> {
    await this.chunks.close();
    return this.end();
  }

  abort(reason: Error): void {
    this.chunks.abort(reason);
  }
}
