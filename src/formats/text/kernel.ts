import type { EncodeChunk } from '../../parallel/kernel.js';
import { WRITE_SLACK } from './bytes.js';
import { bindRows, encodeRows, measureRows, type TextLayout } from './rows.js';

/** csv and jsonl chunks: the rows' lines in one buffer of their own (the same row loop as TextFileEncoder). */
export function textChunkEncoder(layout: TextLayout): EncodeChunk {
  let primed = false;
  return (cols, rows, firstRow, alloc) => {
    if (!primed) {
      primed = true;
      primeRowLoop(layout, cols, rows, firstRow);
    }
    const bound = bindRows(layout, cols);
    // Sized for the worst case (2–4× the usual bytes) and not zero-filled: only the pages the
    // rows reach are touched (zero-filling the whole took a third of a worker's time).
    const out = alloc(measureRows(bound, 0, rows) + WRITE_SLACK);
    const end = encodeRows(bound, new DataView(out.buffer, out.byteOffset, out.length), 0, 0, rows, firstRow);
    return { bytes: [out.subarray(0, end)] };
  };
}

/**
 * Runs the layout's row loop over the chunk's first few rows, into scratch, several times and
 * with two bindings of its writers, before the chunk itself. V8 gives a function its feedback
 * vector only after its first calls, and compiled the loop while its first chunk ran: the loop's
 * start had no feedback, and each writer's call site knew one closure, that of the first batch.
 * Each thread then threw the compiled loop away at the next chunk and at the next batch, and
 * compiled it again (~25 ms of compiling a time). Errors are the chunk's to report.
 */
function primeRowLoop(layout: TextLayout, cols: Parameters<EncodeChunk>[0], rows: number, firstRow: number): void {
  const n = Math.min(rows, 8);
  if (n === 0) return;
  const bindings = [bindRows(layout, cols), bindRows(layout, cols)];
  const out = new DataView(new ArrayBuffer(measureRows(bindings[0], 0, n) + WRITE_SLACK));
  try {
    for (let round = 0; round < 16; round++) encodeRows(bindings[round & 1], out, 0, 0, n, firstRow);
  } catch {
    // the chunk reports it
  }
}
