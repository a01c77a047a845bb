import type { Alloc, ChunkKernel, EncodeParts } from '../../parallel/kernel.js';
import type { ColumnView } from '../../table/columns.js';
import type { VariableType } from '../../table/types.js';
import { compressorOf, type KernelCompression } from './codecs.js';
import { ChunkOutput, writeColumnChunk, type ColumnChunkInfo, type ValueKind } from './column-chunk.js';

/** What a thread needs to encode row groups of an export (structured clone). */
export interface ParquetKernelSpec {
  names: readonly string[];
  types: readonly VariableType[];
  compression: KernelCompression;
}

/** A row group's column chunks, their offsets from the group's first byte. */
export interface RowGroupInfo {
  rows: number;
  columns: ColumnChunkInfo[];
}

/** The PLAIN layout of each platform type (DESIGN.md: INT64, DOUBLE, BOOLEAN, INT32 DATE, INT64 TIMESTAMP/TIME, BYTE_ARRAY). */
export function valueKindOf(type: VariableType): ValueKind {
  switch (type) {
    case 'integer':
    case 'dateTime':
    case 'time': return 'i64';
    case 'float': return 'f64';
    case 'boolean': return 'bool';
    case 'date': return 'i32';
    case 'string':
    case 'geography': return 'bytes';
  }
}

/**
 * One chunk = one row group: every column's chunk (pages compressed), back to back, in
 * column order. The file's writer (kernel-encoder.ts) places the group and writes the footer.
 * A group read from several batches (a range, parallel/range-task.ts) is given as their
 * columns (`parts`), which the kernel joins as it copies them into its WebAssembly memory.
 */
export const parquetKernel: ChunkKernel<ParquetKernelSpec, RowGroupInfo> = {
  compile(spec) {
    const compress = compressorOf(spec.compression);
    const kinds = spec.types.map(valueKindOf);
    const out = new ChunkOutput(compress);
    const encodeParts: EncodeParts<RowGroupInfo> = (parts, rows, firstRow, alloc) => {
      out.reset();
      const columns = spec.names.map((name, c) => writeColumnChunk(out, parts.map((cols) => cols[c]), kinds[c], name, firstRow));
      const bytes = alloc(out.length);
      let at = 0;
      for (const piece of out.pieces) {
        bytes.set(piece, at);
        at += piece.length;
      }
      out.reset(); // the pages are copied: let them go
      return { bytes: [bytes], info: { rows, columns } };
    };
    return Object.assign((cols: readonly ColumnView[], rows: number, firstRow: number, alloc: Alloc) => encodeParts([cols], rows, firstRow, alloc), { parts: encodeParts });
  },
};
