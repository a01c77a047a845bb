import { outputAllocator, rowsPerChunk, sliceViews } from './columns.js';
import type { EncodeChunk } from './kernel.js';
import type { EncodeTask, MeasureAnswered, RangeAnswered, ChunkPiece } from './pool.js';
import { readRange } from './range-read.js';
import { StatisticsCollector } from '../table/statistics.js';

/**
 * A worker's part of a range task (chunks.ts): it reads the batches itself (range-read.ts) and
 * encodes them in chunks as the calling thread would cut them, so the bytes are the same.
 */
export function encodeRange(task: EncodeTask, encode: EncodeChunk): RangeAnswered {
  const range = task.range as NonNullable<EncodeTask['range']>;
  const spares = range.spares;
  const alloc = outputAllocator(spares);
  const pieces: ChunkPiece[] = [];
  const batches = readRange(range.spec, task.firstRow);
  if (range.whole) {
    // One chunk of several batches (a parquet row group): the kernel joins them (EncodeChunk.parts).
    if (!encode.parts) throw new Error(`the ${task.kernel} kernel cannot take a range as one chunk`);
    pieces.push({ result: encode.parts(batches.map((b) => b.cols), task.rows, task.firstRow, alloc), firstRow: task.firstRow, rows: task.rows });
    return { pieces, unused: spares };
  }
  for (const batch of batches) {
    const step = rowsPerChunk(batch.cols, batch.rows, range.rowMultiple, range.chunkRows);
    for (let start = 0; start < batch.rows; start += step) {
      const end = Math.min(batch.rows, start + step);
      const cols = start === 0 && end === batch.rows ? batch.cols : sliceViews(batch.cols, start, end);
      pieces.push({ result: encode(cols, end - start, batch.firstRow + start, alloc), firstRow: batch.firstRow + start, rows: end - start });
    }
  }
  return { pieces, unused: spares };
}

/** A range's rows and statistics, for a first pass spread over the threads (first-pass.ts). */
export function measureRange(task: EncodeTask): MeasureAnswered {
  const range = task.range as NonNullable<EncodeTask['range']>;
  const collector = new StatisticsCollector(range.spec.table);
  for (const batch of readRange(range.spec, task.firstRow)) collector.addColumns(batch.cols, batch.rows);
  return { rows: collector.rows, stats: collector.columnStatistics() };
}
