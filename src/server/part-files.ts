import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';

/**
 * An export's part as the server opens it to serve or check it: never through a symbolic link
 * (O_NOFOLLOW: a link put in place of a part in the data directory, by whoever can write
 * there, could otherwise serve any file the server can read), a regular file, of the size its
 * record gives. Null when it is not so.
 */
export async function openStoredPart(path: string, size: number): Promise<FileHandle | null> {
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return null;
  }
  const stats = await handle.stat().catch(() => null);
  if (stats?.isFile() && stats.size === size) return handle;
  await handle.close();
  return null;
}

/** True when the part is there as openStoredPart wants it and its bytes have the recorded MD5. */
export async function isStoredPartIntact(path: string, size: number, md5: string): Promise<boolean> {
  const handle = await openStoredPart(path, size);
  if (!handle) return false;
  try {
    const hash = createHash('md5');
    for await (const chunk of handle.createReadStream({ autoClose: false })) hash.update(chunk as Buffer);
    return hash.digest('hex') === md5;
  } catch {
    return false;
  } finally {
    await handle.close();
  }
}
