import { randomUUID } from 'node:crypto';
import { lstat, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** What each temporary is for: a spooled source, a copied IPC stream, a dta strL spool, a stream target's parts. */
export type TempKind = 'spool' | 'ipc' | 'strl' | 'parts';

/**
 * `tabular-export-<kind>-<pid>-<uuid><extension>`. The name says whose it is, so a process that
 * starts after a crash can tell the temporaries a dead process left from those of a live one
 * (another export running beside it) and remove only the former (sweepTempFiles).
 */
export function tempName(kind: TempKind, extension = ''): string {
  return `tabular-export-${kind}-${process.pid}-${randomUUID()}${extension}`;
}

const TEMP_NAME = /^tabular-export-(?:spool|ipc|strl|parts)-(\d+)-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?:\.[A-Za-z0-9.]+)?$/;

/** False only when no process has this pid (a process of another user is alive, just not ours to signal). */
function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * Removes the temporaries in `dir` that a process of this library left when it died (a crash,
 * a kill -9): only entries named by tempName, owned by this user, whose process is gone.
 * Returns their names. Anything else in the directory is left alone.
 */
export async function sweepTempFiles(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const uid = typeof process.getuid === 'function' ? process.getuid() : null;
  const removed: string[] = [];
  for (const name of names) {
    const match = TEMP_NAME.exec(name);
    if (!match || isAlive(Number(match[1]))) continue;
    const path = join(dir, name);
    const stats = await lstat(path).catch(() => null);
    if (!stats || (uid !== null && stats.uid !== uid)) continue;
    await rm(path, { recursive: true, force: true }).then(() => removed.push(name), () => undefined);
  }
  return removed;
}
