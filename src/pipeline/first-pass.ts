import type { RecordBatch } from 'apache-arrow';
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
