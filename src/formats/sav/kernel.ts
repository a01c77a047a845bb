import type { ChunkKernel } from '../../parallel/kernel.js';
import type { CaseBlock } from './case-block.js';
import { chooseSlotWriter } from './cells.js';
import { rowsPerBlock, type IssueCount } from './file-encoder.js';
import type { SavVariable } from './layout.js';

/** What a worker needs of the layout to fill case slots. */
export interface SavKernelSpec {
  variables: readonly SavVariable[];
  caseSize: number;
}

/** A chunk's cases: `slotBytes` bytes of 8-byte slots, then one opcode per slot; the values it could not store exactly. */
export interface SavChunkInfo {
  slotBytes: number;
  issues: IssueCount[];
}

/**
 * Fills a chunk's case slots and opcodes block by block, as SavFileEncoder.writeBatch does (so
 * the issues come in the same order); the calling thread compresses them in order.
 */
export const savKernel: ChunkKernel<SavKernelSpec, SavChunkInfo> = {
  compile(spec) {
    const caseSize = Math.max(1, spec.caseSize);
    const perBlock = rowsPerBlock(caseSize);
    let issues = new Map<string, IssueCount>();
    let chunkFirstRow = 0;
    const writers = spec.variables.map((v) => chooseSlotWriter(v, (row, issue) => {
      const key = `${v.column}:${issue}`;
      const seen = issues.get(key);
      if (seen) seen.count++;
      else issues.set(key, { column: v.column, issue, first: chunkFirstRow + row, count: 1 });
    }));
    return (cols, rows, firstRow, alloc) => {
      issues = new Map();
      chunkFirstRow = firstRow;
      const slots = rows * caseSize;
      const bytes = alloc(slots * 9);
      const block: CaseBlock = {
        f64: new Float64Array(bytes.buffer, bytes.byteOffset, slots),
        i32: new Int32Array(bytes.buffer, bytes.byteOffset, slots * 2),
        u8: bytes.subarray(0, slots * 8),
        ops: bytes, base: 0, caseSize,
      };
      for (let start = 0; start < rows; start += perBlock) {
        const count = Math.min(perBlock, rows - start);
        block.base = start * caseSize;
        block.ops = bytes.subarray(slots * 8 + start * caseSize, slots * 8 + (start + count) * caseSize);
        for (let j = 0; j < writers.length; j++) writers[j](cols[j], start, count, block);
      }
      return { bytes: [bytes], info: { slotBytes: slots * 8, issues: [...issues.values()] } };
    };
  },
};
