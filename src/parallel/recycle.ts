/**
 * Buffers that go round instead of being made anew for every chunk: a chunk's output, in
 * shared memory, is written by a worker, then hashed by the MD5 thread and written to the
 * file at the same time, and once both are done with it, goes back to the export's spare list
 * for a later chunk (chunks.ts).
 *
 * A buffer is registered with the function that takes it back and one hold, the file's: the
 * local-file writer releases it once the bytes are on their way to the kernel (a caller's own
 * Writable never does: it may keep the bytes, so the buffer is then simply not reused). Readers
 * that work on the buffer meanwhile (the MD5 thread) take a hold of their own and release it
 * when done. The buffer goes back when the last hold is released.
 */
interface Owner {
  giveBack: (buffer: ArrayBufferLike) => void;
  holds: number;
}

const owners = new WeakMap<ArrayBufferLike, Owner>();

/** `bytes` is the only view of its buffer in use; `giveBack` takes the buffer when every hold is released. */
export function recyclable(bytes: Uint8Array, giveBack: (buffer: ArrayBufferLike) => void): void {
  owners.set(bytes.buffer, { giveBack, holds: 1 });
}

/** Takes one more hold on a recyclable buffer; false (and no hold) for any other. */
export function retain(bytes: Uint8Array): boolean {
  const owner = owners.get(bytes.buffer);
  if (owner === undefined) return false;
  owner.holds++;
  return true;
}

/** Releases one hold; the last hands the buffer back to its owner. Nothing for other buffers. */
export function recycle(bytes: Uint8Array): void {
  const owner = owners.get(bytes.buffer);
  if (owner === undefined) return;
  if (--owner.holds > 0) return;
  owners.delete(bytes.buffer);
  owner.giveBack(bytes.buffer);
}
