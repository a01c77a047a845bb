/**
 * String case data (fact sheet B4, B7, C11): bytes copied straight from the Arrow UTF-8 buffer,
 * space-padded to the variable's slots; a slot of 8 spaces is opcode 254, any other 253. A
 * null is all spaces. A value longer than the declared width (statistics that undercounted)
 * is cut on a character boundary and reported, never split inside a UTF-8 sequence.
 */
import { OP_RAW, OP_SPACES, valid, type CaseBlock, type ValueReport, type SlotWriter } from './case-block.js';
import type { SavVariable } from './layout.js';

const SPACES_WORD = 0x20202020;

/** The largest n ≤ max that does not end inside a UTF-8 character (C11). */
function utf8Cut(bytes: Uint8Array, start: number, max: number): number {
  let n = max;
  while (n > 0 && (bytes[start + n] & 0xc0) === 0x80) n--;
  return n;
}

/**
 * Copies `n` bytes of `src` from `from` to the slots from `firstSlot` on, space-padded to
 * `slots` slots, and sets every slot's opcode. The last, partial slot is filled with spaces
 * first and the copy overwrites its start; whole 4-byte words are moved at once (the
 * destination is 8-aligned; the source is read unaligned through a DataView, never past the
 * value's end). shortStringWriter repeats this body inline: it runs once per string cell.
 */
function fillSlots(block: CaseBlock, srcView: DataView, src: Uint8Array, from: number, n: number,
  firstSlot: number, slots: number, op: number): void {
  const { i32, u8, ops } = block;
  const dst = firstSlot * 8;
  const filled = (n + 7) >> 3;
  if ((n & 7) !== 0) {
    i32[(firstSlot + filled - 1) * 2] = SPACES_WORD;
    i32[(firstSlot + filled - 1) * 2 + 1] = SPACES_WORD;
  }
  let k = 0;
  for (; k + 4 <= n; k += 4) i32[(dst + k) >> 2] = srcView.getInt32(from + k, true);
  for (; k < n; k++) u8[dst + k] = src[from + k];
  let q = firstSlot * 2;
  for (let j = 0; j < filled; j++, q += 2) ops[op + j] = i32[q] === SPACES_WORD && i32[q + 1] === SPACES_WORD ? OP_SPACES : OP_RAW;
  for (let j = filled; j < slots; j++, q += 2) {
    i32[q] = SPACES_WORD;
    i32[q + 1] = SPACES_WORD;
    ops[op + j] = OP_SPACES;
  }
}

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A string of at most 255 bytes: one variable record, its bytes in consecutive slots. */
export function shortStringWriter(v: SavVariable, report: ValueReport): SlotWriter {
  const slot = v.firstSlot;
  const width = v.width;
  const slots = v.slots;
  return (col, start, count, block) => {
    const { caseSize, i32, u8, ops } = block;
    const src = col.values as Uint8Array;
    const srcView = viewOf(src);
    const offsets = col.offsets as Int32Array;
    const bits = col.validity;
    for (let r = 0, at = block.base + slot, op = slot; r < count; r++, at += caseSize, op += caseSize) {
      const i = start + r;
      const a = offsets[i];
      let len = 0;
      if (bits === null || valid(bits, col.bitOffset + i)) {
        len = offsets[i + 1] - a;
        if (len > width) {
          len = utf8Cut(src, a, width);
          report(i, 'cut');
        }
      }
      // fillSlots(block, srcView, src, a, len, at, slots, op), inlined by hand (a third faster).
      const dst = at * 8;
      const filled = (len + 7) >> 3;
      if ((len & 7) !== 0) {
        i32[(at + filled - 1) * 2] = SPACES_WORD;
        i32[(at + filled - 1) * 2 + 1] = SPACES_WORD;
      }
      let k = 0;
      for (; k + 4 <= len; k += 4) i32[(dst + k) >> 2] = srcView.getInt32(a + k, true);
      for (; k < len; k++) u8[dst + k] = src[a + k];
      let q = at * 2;
      for (let j = 0; j < filled; j++, q += 2) ops[op + j] = i32[q] === SPACES_WORD && i32[q + 1] === SPACES_WORD ? OP_SPACES : OP_RAW;
      for (let j = filled; j < slots; j++, q += 2) {
        i32[q] = SPACES_WORD;
        i32[q + 1] = SPACES_WORD;
        ops[op + j] = OP_SPACES;
      }
    }
  };
}

/**
 * A very long string (B4): segment k holds bytes 255k .. 255k + 254 of the value in its own
 * slots (a 255-wide segment takes 32 slots, the last byte a spare space); the last segment
 * holds the rest, padded to its slots.
 */
export function veryLongStringWriter(v: SavVariable, report: ValueReport): SlotWriter {
  const width = v.width;
  const pieces = v.segments.map((s, k) => ({ firstSlot: s.firstSlot, slots: s.slots, byteStart: 255 * k, capacity: s.width }));
  return (col, start, count, block) => {
    const caseSize = block.caseSize;
    const src = col.values as Uint8Array;
    const srcView = viewOf(src);
    const offsets = col.offsets as Int32Array;
    const bits = col.validity;
    for (let r = 0, row = block.base, op = 0; r < count; r++, row += caseSize, op += caseSize) {
      const i = start + r;
      const a = offsets[i];
      let len = 0;
      if (bits === null || valid(bits, col.bitOffset + i)) {
        len = offsets[i + 1] - a;
        if (len > width) {
          len = utf8Cut(src, a, width);
          report(i, 'cut');
        }
      }
      for (const piece of pieces) {
        const n = Math.max(0, Math.min(len - piece.byteStart, piece.capacity));
        fillSlots(block, srcView, src, a + piece.byteStart, n, row + piece.firstSlot, piece.slots, op + piece.firstSlot);
      }
    }
  };
}
