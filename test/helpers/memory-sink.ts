/**
 * An in-memory ByteSink for encoder unit tests. It keeps every buffer it is handed, as the real
 * sink does until the stream consumes it, plus a private copy: reading the bytes back checks that
 * no encoder wrote into a buffer after handing it over (the Buffer#slice bug, found in csv).
 */
import { writeFileSync } from 'node:fs';
import type { RecordBatch } from 'apache-arrow';
import { expect } from 'vitest';
import type { ByteSink } from '../../src/formats/protocol.js';
import { StatisticsCollector } from '../../src/table/statistics.js';
import type { Table } from '../../src/table/types.js';

export class MemorySink implements ByteSink {
  readonly chunks: Uint8Array[] = [];
  private readonly copies: Uint8Array[] = [];
  bytesWritten = 0;

  async write(bytes: Uint8Array): Promise<void> {
    this.chunks.push(bytes);
    this.copies.push(bytes.slice());
    this.bytesWritten += bytes.length;
  }

  bytes(): Buffer {
    this.chunks.forEach((c, i) => expect(Buffer.from(c).equals(this.copies[i]), `chunk ${i} was modified after write`).toBe(true));
    return Buffer.concat(this.chunks);
  }

  text(): string {
    return this.bytes().toString('utf8');
  }
}

/** Writes what the sink holds to `path` (checked as bytes() does); returns the path. */
export function saveSink(sink: MemorySink, path: string): string {
  writeFileSync(path, sink.bytes());
  return path;
}

/** The table with numRows and statistics, as the pipeline's first pass gives it to prepare(). */
export function measured(table: Table, batches: readonly RecordBatch[]): Table {
  const collector = new StatisticsCollector(table);
  for (const b of batches) collector.add(b);
  return collector.result();
}
