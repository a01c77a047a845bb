import { newShared } from './columns.js';
import type { ChunkResult } from './kernel.js';
import type { ChunkPiece, EncodeTask, PoolRunner, RangeAnswered } from './pool.js';
import { recyclable } from './recycle.js';

/**
 * An export's shared memory, used again and again: inputs free once a worker has answered,
 * outputs once the file has the bytes (recycle.ts). Nothing is transferred or allocated per
 * chunk: a few MB made and freed per chunk cost more than encoding them on two cores (page
 * faults, and V8 collections for "external memory pressure", up to 40 ms each). Shared by the
 * chunk dispatcher (chunks.ts) and parquet's row-group runner.
 */
export class SpareBuffers {
  private readonly inputs: SharedArrayBuffer[] = [];
  private readonly outputs: SharedArrayBuffer[] = [];

  /** `keep`: how many spare outputs to hold at most (asked each time: it may grow). */
  constructor(private readonly keep: () => number) {}

  /** An input buffer of at least `bytes`; give it back with returnInput once the worker answered. */
  takeInput(bytes: number): SharedArrayBuffer {
    return takeBuffer(this.inputs, bytes);
  }

  returnInput(buffer: SharedArrayBuffer): void {
    this.inputs.push(buffer);
  }

  /** An output buffer of at least `bytes` (the calling thread's chunks). */
  takeOutput(bytes: number): SharedArrayBuffer {
    return takeBuffer(this.outputs, bytes);
  }

  /** Up to `n` spare outputs for a worker's task (it may get none). */
  takeOutputs(n: number): SharedArrayBuffer[] {
    return this.outputs.splice(0, Math.min(this.outputs.length, n));
  }

  /**
   * The result's buffers come back to the spare outputs once the file has them (recycle.ts),
   * when each is the only view of its buffer.
   */
  own(result: ChunkResult): ChunkResult {
    const buffers = new Set(result.bytes.map((b) => b.buffer));
    if (buffers.size === result.bytes.length) {
      for (const bytes of result.bytes) recyclable(bytes, (buffer) => this.giveBack(buffer));
    }
    return result;
  }

  giveBack(buffer: ArrayBufferLike): void {
    if (buffer instanceof SharedArrayBuffer && this.outputs.length < this.keep()) this.outputs.push(buffer);
  }

  /**
   * Runs a range task (ranges.ts) on `pool` with up to `outputs` spare outputs; the spares it did
   * not use come back, its chunks' buffers are owned.
   */
  async runRange(pool: PoolRunner, task: EncodeTask, outputs: number, signal: AbortSignal): Promise<ChunkPiece[]> {
    const range = task.range as NonNullable<EncodeTask['range']>;
    range.spares = this.takeOutputs(outputs);
    let answer: RangeAnswered;
    try {
      answer = await pool.answer(task, signal) as RangeAnswered;
    } catch (err) {
      for (const buffer of range.spares) this.giveBack(buffer);
      throw err;
    }
    for (const buffer of answer.unused) this.giveBack(buffer);
    for (const piece of answer.pieces) this.own(piece.result);
    return answer.pieces;
  }
}

/** A buffer of at least `bytes` from `spare`, else a new one (with room for a somewhat larger chunk). */
function takeBuffer(spare: SharedArrayBuffer[], bytes: number): SharedArrayBuffer {
  const at = spare.findIndex((b) => b.byteLength >= bytes);
  if (at >= 0) return spare.splice(at, 1)[0];
  if (spare.length > 0) spare.shift(); // too small: let it go
  return newShared(bytes);
}
