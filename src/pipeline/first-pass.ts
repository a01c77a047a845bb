import type { RecordBatch } from 'apache-arrow';
import { PoolRunner, type MeasureAnswered } from '../parallel/pool.js';
import { planRanges } from '../parallel/ranges.js';
import type { SourceRanges } from '../sources/ranges.js';
import { createSpool, type Spool } from '../sources/spool.js';
import type { BatchSource } from '../sources/types.js';
import { StatisticsCollector } from '../table/statistics.js';
import type { Table } from '../table/types.js';
import { positionBatches } from './batches.js';

export interface FirstPassResult {
  /** The table with numRows and statistics filled in. */
  table: Table;
  /** What the main pass reads: the source again, or the spool of a one-shot source. */
  source: BatchSource;
  /** The spool to remove once the export ends, if one was made. */
  spool: Spool | null;
}

/**
 * Reads everything once to learn what a two-pass format (dta, sav) must fix before its first
 * byte: the row count and per-column statistics. A re-readable source is simply read again
 * afterwards; a one-shot stream is spooled to a temporary Arrow IPC file as it goes, so the cost
 * is disk, never memory.
 */
export async function runFirstPass(
  table: Table, batches: AsyncIterable<RecordBatch>, source: BatchSource, tempDir: string, signal: AbortSignal, format: string,
): Promise<FirstPassResult> {
  const collector = new StatisticsCollector(table);
  const spool = source.reopenable ? null : await createSpool(tempDir);
  try {
    for await (const { batch } of positionBatches(batches, table, format)) {
      signal.throwIfAborted();
      collector.add(batch);
      if (spool) await spool.append(batch);
    }
    return { table: collector.result(), source: spool ? await spool.finish() : source, spool };
  } catch (err) {
    await spool?.remove();
    throw err;
  }
}

/**
 * The first pass over a source that worker threads read by ranges (ranges.ts): each range's
 * rows are read and measured in a worker, at most two per thread at once, and the statistics
 * merged here in order, so the first failure in row order is the one reported.
 */
export async function measureRanges(table: Table, ranges: SourceRanges, workers: number, signal: AbortSignal, format: string): Promise<Table> {
  const collector = new StatisticsCollector(table);
  const runner = new PoolRunner(workers, format);
  const window: Promise<MeasureAnswered>[] = [];
  const take = async (): Promise<void> => {
    const { rows, stats } = await (window.shift() as Promise<MeasureAnswered>);
    signal.throwIfAborted();
    collector.merge(rows, stats);
  };
  for (const item of planRanges(ranges, table)) {
    signal.throwIfAborted();
    if (window.length >= 2 * workers) await take();
    const task = { kernel: null, key: '', spec: null, rows: item.rows, firstRow: item.firstRow, columns: [], buffer: null, output: null, measure: true,
      range: { spec: item.spec, chunkRows: undefined, rowMultiple: 1, spares: [] } };
    const answer = runner.answer(task, signal) as Promise<MeasureAnswered>;
    answer.catch(() => undefined); // observed in order by take()
    window.push(answer);
  }
  while (window.length > 0) await take();
  return collector.result();
}
