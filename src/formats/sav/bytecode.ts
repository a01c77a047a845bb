/**
 * Case data output (fact sheet B7): raw 8-byte slots (compression 0) or the bytecode stream
 * (compression 1): groups of 8 one-byte opcodes, each followed by the raw slots of its 253
 * opcodes. Groups run across case and batch boundaries, as SPSS and PSPP write them.
 */
import { Buffer } from 'node:buffer';
import { OP_RAW, type CaseBlock } from './case-block.js';

/**
 * Where finished data bytes go: the file (sink) or the zsav block compressor. `copies` says
 * the bytes are copied before write() resolves, so the buffer may be reused; otherwise they
 * belong to the receiver (ByteSink contract) and are never touched again.
 */
export interface DataOutput {
  write(bytes: Uint8Array): Promise<void>;
  readonly copies: boolean;
}

/** Uninitialized memory at byte offset 0, so the 8-byte slots are aligned for typed views. */
function allocAligned(size: number): Uint8Array {
  return Buffer.allocUnsafeSlow(size);
}

/** An output buffer of whole slots: u8/i32/f64 views of the same 8-aligned memory. */
export class DataBuffer {
  u8!: Uint8Array;
  i32!: Int32Array;
  f64!: Float64Array;
  /** Bytes filled; always a multiple of 8. */
  length = 0;

  /** `memory` (8-aligned) instead of a new allocation: a chunk's output in shared memory (kernel.ts). */
  constructor(readonly capacity: number, memory?: Uint8Array) {
    this.adopt(memory ?? allocAligned(capacity));
  }

  private adopt(bytes: Uint8Array): void {
    this.u8 = bytes;
    this.i32 = new Int32Array(bytes.buffer, bytes.byteOffset, bytes.length >> 2);
    this.f64 = new Float64Array(bytes.buffer, bytes.byteOffset, bytes.length >> 3);
  }

  /**
   * Hands bytes [0, upTo) to `out` and keeps [upTo, length) (an open bytecode group) at the
   * start of the buffer. A buffer handed over is replaced, never written again.
   */
  async drain(upTo: number, out: DataOutput): Promise<void> {
    if (upTo === 0) return;
    const tail = this.length - upTo;
    if (out.copies) {
      await out.write(this.u8.subarray(0, upTo));
      this.u8.copyWithin(0, upTo, this.length);
    } else {
      const filled = this.u8.subarray(0, upTo);
      const next = allocAligned(this.capacity);
      next.set(this.u8.subarray(upTo, this.length));
      this.adopt(next);
      await out.write(filled);
    }
    this.length = tail;
  }
}

/** The bytecode compressor's state across blocks: the open group and how many opcodes it has. */
export class BytecodeCompressor {
  /** Byte position of the open group's 8 opcodes in the buffer. */
  private group = 0;
  /** Opcodes in the open group; 8 means no group is open. */
  private filled = 8;

  constructor(private readonly buffer: DataBuffer) {}

  /** Bytes that may be handed out now: everything before the open group. */
  get complete(): number {
    return this.filled === 8 ? this.buffer.length : this.group;
  }

  /** Worst case for `slots` slots: each raw (8 bytes) plus one opcode byte per slot, plus a group. */
  static maxBytes(slots: number): number {
    return slots * 9 + 16;
  }

  /** Appends the opcodes and raw slots of `count` cases of `block` to the buffer. */
  compress(block: CaseBlock, count: number): void {
    const n = count * block.caseSize;
    const ops = block.ops;
    const src = block.i32;
    const out = this.buffer;
    const u8 = out.u8;
    const dst = out.i32;
    const base = block.base * 2;
    let pos = out.length;
    let group = this.group;
    let filled = this.filled;
    let s = 0;
    // Two 32-bit moves copy a raw slot's bits exactly (a double load/store could touch NaN bits).
    for (; s < n && filled < 8; s++) { // finish the group left open by the previous block
      const op = ops[s];
      u8[group + filled++] = op;
      if (op === OP_RAW) {
        dst[pos >> 2] = src[base + 2 * s];
        dst[(pos >> 2) + 1] = src[base + 2 * s + 1];
        pos += 8;
      }
    }
    for (; filled === 8 && s + 8 <= n; s += 8) { // whole groups: no per-slot check for the group's end
      group = pos;
      pos += 8;
      for (let k = 0; k < 8; k++) {
        const op = ops[s + k];
        u8[group + k] = op;
        if (op === OP_RAW) {
          dst[pos >> 2] = src[base + 2 * (s + k)];
          dst[(pos >> 2) + 1] = src[base + 2 * (s + k) + 1];
          pos += 8;
        }
      }
    }
    if (filled === 8 && s < n) { // a last, partial group stays open for the next block
      group = pos;
      pos += 8;
      filled = 0;
      for (; s < n; s++) {
        const op = ops[s];
        u8[group + filled++] = op;
        if (op === OP_RAW) {
          dst[pos >> 2] = src[base + 2 * s];
          dst[(pos >> 2) + 1] = src[base + 2 * s + 1];
          pos += 8;
        }
      }
    }
    out.length = pos;
    this.group = group;
    this.filled = filled;
  }

  /** Closes the open group, padding its opcodes with 0 (no-op), B7. */
  finish(): void {
    if (this.filled === 8) return;
    this.buffer.u8.fill(0, this.group + this.filled, this.group + 8);
    this.filled = 8;
  }

  /** After the buffer handed out `upTo` bytes, the open group moved down with the tail. */
  shifted(upTo: number): void {
    if (this.filled !== 8) this.group -= upTo;
  }
}
