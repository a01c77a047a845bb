import type { ChunkKernel } from '../../parallel/kernel.js';
import { bindColumn, CELL_WRITERS, type RowChunk } from './data.js';
import { fillRows } from './file-encoder.js';
import type { DtaColumn } from './types.js';

/** What a worker needs of the plan to write `<data>` rows (no strL columns: those files stay on one thread). */
export interface DtaKernelSpec {
  columns: readonly DtaColumn[];
  columnOffsets: readonly number[];
  rowLength: number;
  strlVBytes: 2 | 3;
}

/** dta rows of a chunk, the same bytes DtaFileEncoder writes; info: cells written as missing, per column. */
export const dtaKernel: ChunkKernel<DtaKernelSpec, number[]> = {
  compile(spec) {
    const writers = spec.columns.map((c) => CELL_WRITERS[c.kind]);
    return (cols, rows, firstRow, alloc) => {
      const bound = spec.columns.map((c, i) => bindColumn(c, cols[i], i + 1));
      // Not zero-filled: every cell writer writes all of its bytes (no strL columns here).
      const bytes = alloc(rows * spec.rowLength);
      const chunk: RowChunk = {
        bytes, view: new DataView(bytes.buffer, bytes.byteOffset, bytes.length), stride: spec.rowLength, obsBase: 1, strlVBytes: spec.strlVBytes,
      };
      fillRows(spec.columns, spec.columnOffsets, bound, writers, chunk, 0, rows, firstRow);
      return { bytes: [bytes], info: bound.map((b) => b.unrepresentable) };
    };
  },
};
