/**
 * Issue #10: temporary files and directories a crashed process left are swept when serve
 * starts — only ours: named by tempName, owned by this user, their process gone.
 */
import { spawnSync } from 'node:child_process';
import { chown, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sweepTempFiles, tempName } from '../../src/temp-files.js';
import { tempDir } from '../helpers/batches.js';
import { startCli, stop } from './serve-process.js';
import { writeSurvey } from './helpers.js';

/** A pid no process has any more: a child that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

/** tempName as a process with `pid` would have made it. */
const nameOf = (kind: string, pid: number, extension = ''): string => tempName('spool', extension).replace(/^tabular-export-spool-\d+-/, `tabular-export-${kind}-${pid}-`);

async function plant(dir: string): Promise<{ dead: string[]; kept: string[] }> {
  const pid = deadPid();
  const dead = [nameOf('spool', pid, '.arrows'), nameOf('ipc', pid, '.arrow'), nameOf('strl', pid, '.tmp'), nameOf('parts', pid)];
  const kept = [nameOf('spool', process.pid, '.arrows'), nameOf('strl', 1, '.tmp'), 'tabular-export-notes.txt', `tabular-export-spool-${pid}-not-a-uuid.arrows`, 'other.tmp'];
  for (const name of [...dead, ...kept]) {
    if (name.startsWith(`tabular-export-parts-${pid}`)) {
      await mkdir(join(dir, name));
      await writeFile(join(dir, name, 'part-0.dta'), 'partial');
    } else {
      await writeFile(join(dir, name), 'x');
    }
  }
  return { dead, kept };
}

describe('sweeping temporaries of dead processes', () => {
  it('removes what a dead process of ours left, and nothing else', async () => {
    const dir = await tempDir('te-sweep-');
    const { dead, kept } = await plant(dir);
    // A dead process's file owned by another user is not ours to remove.
    const foreign = nameOf('spool', deadPid(), '.arrows');
    await writeFile(join(dir, foreign), 'x');
    const root = typeof process.getuid === 'function' && process.getuid() === 0;
    if (root) await chown(join(dir, foreign), 65534, 65534);
    expect((await sweepTempFiles(dir)).sort()).toEqual((root ? dead : [...dead, foreign]).sort());
    expect((await readdir(dir)).sort()).toEqual((root ? [...kept, foreign] : kept).sort());
  });

  it('serve sweeps its temp directory at start, and says so on stderr', async () => {
    const root = await tempDir('te-sweep-serve-');
    const temp = join(root, 'tmp');
    const tables = join(root, 'tables');
    await mkdir(temp);
    await mkdir(tables);
    await writeSurvey(join(tables, 'survey.arrow'));
    const { dead, kept } = await plant(temp);
    const server = await startCli(['--tables', tables, '--data', join(root, 'data'), '--port', '0'], { TMPDIR: temp });
    try {
      expect((await readdir(temp)).sort()).toEqual([...kept].sort());
      for (const name of dead) expect(server.stderr()).toContain(`removed ${name}`);
    } finally {
      await stop(server.child, 'SIGTERM');
    }
  });
});
