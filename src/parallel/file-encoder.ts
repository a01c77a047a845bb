import type { RecordBatch } from 'apache-arrow';
import type { ByteSink, FileEncoder, Patch } from '../formats/protocol.js';
import { OrderedChunks, type ChunkDispatcher } from './chunks.js';
import type { ChunkResult } from './kernel.js';
import type { RangeItem } from './ranges.js';

/**
 * What a format does around its chunks, when it does more than write their bytes: dta and sav
 * hand them to their single-threaded file encoder, which keeps the counts, writes the tail and
 * makes the patches, so both paths end a file the same way.
 */
export interface ChunkedFileHooks {
  /** Takes a chunk's result, in order (default: writes its bytes). */
  consume?(result: ChunkResult, firstRow: number, rows: number): Promise<void>;
  /** Writes what follows the rows; returns the header patches (default: nothing). */
  end?(): Promise<Patch[]>;
  /** Frees what the format holds when the file is given up. */
  abort?(reason: Error): void | Promise<void>;
  /** The format's warnings about the file's values. */
  readonly warnings?: readonly string[];
}

/**
 * A file whose rows are encoded in chunks, here or in worker threads, and written in order:
 * csv and jsonl as they are, dta and sav through their hooks.
 */
export class ChunkedFileEncoder implements FileEncoder {
  private readonly chunks: OrderedChunks;

  constructor(dispatcher: ChunkDispatcher, sink: ByteSink, private readonly hooks: ChunkedFileHooks = {}) {
    const consume = hooks.consume?.bind(hooks) ?? (async (result: ChunkResult) => {
      for (const bytes of result.bytes) await sink.write(bytes);
    });
    this.chunks = new OrderedChunks(dispatcher, consume);
  }

  get warnings(): readonly string[] | undefined {
    return this.hooks.warnings;
  }

  writeBatch(batch: RecordBatch, firstRow: number): Promise<void> {
    return this.chunks.add(batch, firstRow);
  }

  writeRange(item: RangeItem): Promise<void> {
    return this.chunks.addRange(item);
  }

  bufferedRows(): number {
    return this.chunks.bufferedRows;
  }

  drain(): Promise<void> {
    return this.chunks.finish();
  }

  async endFile(): Promise<Patch[]> {
    await this.chunks.close();
    return this.hooks.end ? this.hooks.end() : [];
  }

  async abort(reason: Error): Promise<void> {
    this.chunks.abort(reason);
    await this.hooks.abort?.(reason);
  }
}
