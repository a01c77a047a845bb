import type { ChunkKernel } from '../../parallel/kernel.js';
import { BytecodeCompressor, DataBuffer } from './bytecode.js';
import type { CaseBlock } from './case-block.js';
import { chooseSlotWriter } from './cells.js';
import { rowsPerBlock, type IssueCount } from './file-encoder.js';
import type { SavVariable } from './layout.js';

/** What a worker needs of the layout to fill case slots. */
export interface SavKernelSpec {
  variables: readonly SavVariable[];
  caseSize: number;
  /** Bytecode compression (sav and zsav): the chunk's whole groups are compressed here too. */
  compressed: boolean;
}

/**
 * A chunk's cases: `slotBytes` bytes of 8-byte slots, then one opcode per slot; the values it
 * could not store exactly. Compressed: bytecode groups start at global slot multiples of 8
 * (B7, as SavFileEncoder's compressor makes them), so the chunk's first `headSlots` slots
 * complete the group an earlier chunk left open, the next whole groups are compressed here
 * (`middleLength` bytes from `middleAt`), and the slots after them open the next group.
 */
export interface SavChunkInfo {
  slotBytes: number;
  issues: IssueCount[];
  headSlots: number;
  middleSlots: number;
  middleAt: number;
  middleLength: number;
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
      const bytes = alloc(middleAt(slots) + (spec.compressed ? BytecodeCompressor.maxBytes(slots) : 0));
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
      const info: SavChunkInfo = { slotBytes: slots * 8, issues: [...issues.values()], headSlots: 0, middleSlots: 0, middleAt: 0, middleLength: 0 };
      if (spec.compressed) compressMiddle(bytes, slots, firstRow, caseSize, info);
      return { bytes: [bytes], info };
    };
  },
};

/** Where the compressed groups go: after the slots and opcodes, 8-aligned for the typed views. */
const middleAt = (slots: number): number => (slots * 9 + 7) & ~7;

/** Compresses the chunk's whole bytecode groups after its slots and opcodes (see SavChunkInfo). */
function compressMiddle(bytes: Uint8Array, slots: number, firstRow: number, caseSize: number, info: SavChunkInfo): void {
  const phase = ((firstRow % 8) * (caseSize % 8)) % 8; // the chunk's first slot within its group
  info.headSlots = Math.min(slots, (8 - phase) % 8);
  info.middleSlots = Math.floor((slots - info.headSlots) / 8) * 8;
  info.middleAt = middleAt(slots);
  if (info.middleSlots === 0) return;
  const from = info.headSlots;
  const block: CaseBlock = {
    f64: new Float64Array(bytes.buffer, bytes.byteOffset + from * 8, info.middleSlots),
    i32: new Int32Array(bytes.buffer, bytes.byteOffset + from * 8, info.middleSlots * 2),
    u8: bytes.subarray(from * 8, (from + info.middleSlots) * 8),
    ops: bytes.subarray(slots * 8 + from, slots * 8 + from + info.middleSlots),
    base: 0, caseSize: 1,
  };
  const out = new DataBuffer(BytecodeCompressor.maxBytes(info.middleSlots), bytes.subarray(info.middleAt));
  new BytecodeCompressor(out).compress(block, info.middleSlots);
  info.middleLength = out.length;
}
