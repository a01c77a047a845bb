import { DataType } from 'apache-arrow';
import type { Schema } from 'apache-arrow';
import type { BatchBlock, FileLayout } from './ipc-footer.js';

/**
 * A source whose batches worker threads can read themselves, by ranges (issue #12): an Arrow
 * IPC file on a local path whose footer lists every record batch with its rows and no
 * dictionary batches (a dictionary would have to reach every range first). The calling thread
 * then never touches the rows: it hands out batch ranges and writes what comes back in order.
 */
export interface SourceRanges {
  readonly path: string;
  /** How errors name the input (ipc-messages.ts ipcLabel). */
  readonly label: string;
  readonly schema: Schema;
  readonly blocks: readonly BatchBlock[];
  /** The first block's index among the file's batches (a source of a range of them: fromIPC's `batches`). */
  readonly firstBatch?: number;
  /**
   * The OpenedSource.batches these ranges stand for. A wrapper that hands out other batches
   * (paced, filtered) but copies the rest of the opened source has other `batches`: the
   * pipeline then reads those, in order, and never the ranges.
   */
  readonly batches?: AsyncIterable<unknown>;
}

/** The ranges of a local IPC file's layout, or null when it cannot be read by ranges. */
export function rangesOf(path: string, label: string, layout: FileLayout | null): SourceRanges | null {
  if (layout === null || layout.blocks === null || hasDictionaries(layout)) return null;
  return { path, label, schema: layout.schema, blocks: layout.blocks };
}

/** True when the file has dictionary-encoded columns: its batches cannot be read on their own. */
export function hasDictionaries(layout: FileLayout): boolean {
  return layout.dictionaries > 0 || layout.schema.fields.some((f) => hasDictionary(f.type));
}

function hasDictionary(type: DataType): boolean {
  return DataType.isDictionary(type) || (type.children ?? []).some((c) => hasDictionary(c.type));
}
