import type { EncodeChunk } from '../../parallel/kernel.js';
import { bindRows, encodeRows, measureRows, type TextLayout } from './rows.js';

/** csv and jsonl chunks: the rows' lines in one buffer of their own (the same row loop as TextFileEncoder). */
export function textChunkEncoder(layout: TextLayout): EncodeChunk {
  return (cols, rows, firstRow, alloc) => {
    const bound = bindRows(layout, cols);
    // Sized for the worst case (2–6× the usual bytes for strings) and not zero-filled: only
    // the pages the rows reach are touched.
    const out = alloc(measureRows(bound, 0, rows));
    const end = encodeRows(bound, out, 0, 0, rows, firstRow);
    return { bytes: [out.subarray(0, end)] };
  };
}
