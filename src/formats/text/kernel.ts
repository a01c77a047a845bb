import type { EncodeChunk } from '../../parallel/kernel.js';
import { WRITE_SLACK } from './bytes.js';
import { bindRows, encodeRows, measureRows, type TextLayout } from './rows.js';

/** csv and jsonl chunks: the rows' lines in one buffer of their own (the same row loop as TextFileEncoder). */
export function textChunkEncoder(layout: TextLayout): EncodeChunk {
  return (cols, rows, firstRow, alloc) => {
    const bound = bindRows(layout, cols);
    // Sized for the worst case (2–4× the usual bytes) and not zero-filled: only the pages the
    // rows reach are touched (zero-filling the whole took a third of a worker's time).
    const out = alloc(measureRows(bound, 0, rows) + WRITE_SLACK);
    const end = encodeRows(bound, new DataView(out.buffer, out.byteOffset, out.length), 0, 0, rows, firstRow);
    return { bytes: [out.subarray(0, end)] };
  };
}
