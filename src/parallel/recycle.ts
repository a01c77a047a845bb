/**
 * Buffers that go round instead of being made anew for every chunk: a chunk's output, in
 * shared memory, is written by a worker, hashed by the MD5 thread, written to the file, and
 * once the file has it, goes back to the export's spare list for a later chunk (chunks.ts).
 *
 * A buffer is registered with the function that takes it back. Only code that is done with
 * every view of the buffer calls recycle(): the local-file writer, after the bytes are on
 * their way to the kernel. A caller's own Writable never recycles (it may keep the bytes).
 */
const owners = new WeakMap<ArrayBufferLike, (buffer: ArrayBufferLike) => void>();

/** `bytes` is the only view of its buffer in use; `giveBack` takes the buffer when done. */
export function recyclable(bytes: Uint8Array, giveBack: (buffer: ArrayBufferLike) => void): void {
  owners.set(bytes.buffer, giveBack);
}

/** Every view of `bytes`' buffer is done with: hand the buffer back to its owner, if any. */
export function recycle(bytes: Uint8Array): void {
  const giveBack = owners.get(bytes.buffer);
  if (giveBack === undefined) return;
  owners.delete(bytes.buffer);
  giveBack(bytes.buffer);
}
