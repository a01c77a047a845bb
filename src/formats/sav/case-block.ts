/**
 * The block of cases the per-column writers fill (fact sheet B7): values in 8-byte slots,
 * row-major as in the file, plus one bytecode opcode per slot.
 */
import type { ColumnView } from '../../table/columns.js';

/** B6/B7: the system-missing value, −DBL_MAX. */
export const SYSMIS = -Number.MAX_VALUE;
/** B7 opcodes. */
export const OP_RAW = 253;
export const OP_SPACES = 254;
export const OP_SYSMIS = 255;
/**
 * A block of cases being filled: row r's slot s is f64[base + r * caseSize + s] (i32 and u8
 * view the same memory), its opcode ops[r * caseSize + s].
 */
export interface CaseBlock {
  f64: Float64Array;
  i32: Int32Array;
  u8: Uint8Array;
  ops: Uint8Array;
  base: number;
  caseSize: number;
}

/** Fills rows [start, start + count) of a column into block rows 0..count-1. */
export type SlotWriter = (col: ColumnView, start: number, count: number, block: CaseBlock) => void;

/**
 * What a writer could not store exactly, by batch row: a string longer than its declared
 * width (statistics that undercounted) was cut; a double equal to −DBL_MAX (SYSMIS's own bit
 * pattern, B6) will read back as missing.
 */
export type ValueIssue = 'cut' | 'sysmis';
export type ValueReport = (row: number, issue: ValueIssue) => void;

/**
 * B7: integral values −99..151 compress to one byte (code = value + 100); −0 stays a raw
 * slot so its sign survives (readers then return −0, where code 100 would read back as +0).
 */
export function opcodeOf(x: number): number {
  return x >= -99 && x <= 151 && Math.floor(x) === x && (x !== 0 || 1 / x > 0) ? x + 100 : OP_RAW;
}

export const valid = (bits: Uint8Array, bit: number): boolean => ((bits[bit >> 3] >> (bit & 7)) & 1) === 1;
