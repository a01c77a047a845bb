/**
 * Issue #11, items 2 and 9: the CLI under SIGTERM. A split export stopped at a random moment
 * exits 130 (or 0 if it had finished) and leaves no `.partial` file (1 in 4 did); a CLI waiting
 * for its input (a named pipe no one writes to, a stdin that sends nothing) exits at the first
 * SIGTERM (it ignored it: the export could not end while its source was being opened).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, constants, existsSync, openSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RecordBatchStreamWriter } from 'apache-arrow';
import { beforeAll, describe, expect, it } from 'vitest';
import { Random } from '../fixtures/random.js';
import { idBatch, sleep, tempDir } from '../helpers/batches.js';
import { PROJECT_ROOT } from '../helpers/readers.js';

const CLI = join(PROJECT_ROOT, 'dist', 'cli', 'main.js');
const SAMPLE = join(PROJECT_ROOT, 'fixtures', 'sample', 'survey.arrow');
const ROWS = 300_000;
const ROWS_PER_FILE = 1000;

interface Exit { code: number | null; signal: NodeJS.Signals | null; stderr: string; at: number }

function exited(child: ChildProcess): Promise<Exit> {
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => { stderr += d; });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stderr, at: Date.now() }));
  });
}

/** Sends SIGTERM to a CLI waiting on its input: it must end cancelled (130) within a second, leaving nothing in `out`. */
async function expectEndedBySigterm(child: ChildProcess, ended: Promise<Exit>, out: string): Promise<void> {
  const sent = Date.now();
  child.kill('SIGTERM');
  const result = await ended;
  expect(result.code, result.stderr).toBe(130);
  expect(result.at - sent).toBeLessThan(1000);
  expect(result.stderr).toBe('tabular-export: cancelled: csv: the export was cancelled: interrupted\n');
  expect(existsSync(out) ? await readdir(out) : []).toEqual([]);
}

/** Resolves once `pid` holds `path` open (its export has opened its input), or after `ms`. */
async function holdsOpen(pid: number, path: string, ms = 5000): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    try {
      const dir = `/proc/${pid}/fd`;
      if (readdirSync(dir).some((fd) => { try { return readlinkSync(join(dir, fd)) === path; } catch { return false; } })) return true;
    } catch {
      return false; // the process is gone
    }
    await sleep(5);
  }
  return false;
}

/** CPU time used by `pid` so far, in clock ticks (utime + stime of /proc/<pid>/stat), or null once it is gone. */
function cpuTicks(pid: number): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return null;
  }
}

/**
 * Resolves once `pid` has started and sits blocked (its CPU time unchanged for 150 ms): then
 * it waits for its input, with its signal handlers in place.
 */
async function blocked(pid: number, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  let last = cpuTicks(pid);
  let still = 0;
  while (Date.now() < until && still < 3) {
    await sleep(50);
    const now = cpuTicks(pid);
    still = now !== null && now === last ? still + 1 : 0;
    last = now;
  }
}

let table: string;

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" (npm test does)`);
  const writer = new RecordBatchStreamWriter();
  for (let start = 0; start < ROWS; start += 10_000) writer.write(idBatch(start, 10_000));
  writer.finish();
  table = join(await tempDir(), 'ids.arrows');
  await writeFile(table, writer.toUint8Array(true));
});

describe('the CLI under SIGTERM (issue #11)', () => {
  it('10 SIGTERMs at random moments of a split export: exit 130 and nothing left, or 0 and every part', async () => {
    // How long the export runs once it has opened its input, to draw the moments from.
    const full = await tempDir();
    const child = spawn(process.execPath, [CLI, table, '--format', 'csv', '--out', full, '--max-rows-per-file', String(ROWS_PER_FILE)], { stdio: ['ignore', 'ignore', 'pipe'] });
    const done = exited(child);
    expect(await holdsOpen(child.pid as number, table)).toBe(true);
    const started = Date.now();
    const whole = await done;
    expect(whole.code, whole.stderr).toBe(0);
    const duration = whole.at - started;
    const parts = ROWS / ROWS_PER_FILE;
    expect(await readdir(full)).toHaveLength(parts);

    const random = new Random(5);
    let cancelled = 0;
    for (let attempt = 0; attempt < 10; attempt++) {
      const out = await tempDir();
      const run = spawn(process.execPath, [CLI, table, '--format', 'csv', '--out', out, '--max-rows-per-file', String(ROWS_PER_FILE)], { stdio: ['ignore', 'ignore', 'pipe'] });
      const ended = exited(run);
      expect(await holdsOpen(run.pid as number, table)).toBe(true);
      const delay = Math.floor(random.float() * 0.9 * duration);
      await sleep(delay);
      run.kill('SIGTERM');
      const result = await ended;
      const files = await readdir(out);
      const what = `attempt ${attempt}: SIGTERM after ${delay} of ${duration} ms: exit ${result.code} signal ${result.signal}: ${result.stderr}`;
      expect(files.filter((f) => f.endsWith('.partial')), what).toEqual([]);
      if (result.code === 130) {
        cancelled += 1;
        expect(result.stderr, what).toBe('tabular-export: cancelled: csv: the export was cancelled: interrupted\n');
        expect(files, what).toEqual([]);
      } else {
        expect(result.code, what).toBe(0);
        expect(files, what).toHaveLength(parts);
      }
    }
    // The moments are drawn over (nearly) the whole export: most land while it runs.
    expect(cancelled).toBeGreaterThanOrEqual(3);
  }, 120_000);

  it('waiting on a named pipe nobody writes to, the first SIGTERM ends it within a second, with 130', async () => {
    const dir = await tempDir();
    const fifo = join(dir, 'p.arrows');
    execFileSync('mkfifo', [fifo]);
    const out = join(dir, 'out');
    const child = spawn(process.execPath, [CLI, fifo, '--format', 'csv', '--out', out], { stdio: ['ignore', 'ignore', 'pipe'] });
    const ended = exited(child);
    await holdsOpen(child.pid as number, fifo, 3000);
    await blocked(child.pid as number);
    await expectEndedBySigterm(child, ended, out);
  }, 20_000);

  it('input "-" from a named pipe with no writer: the same', async () => {
    const dir = await tempDir();
    const fifo = join(dir, 'p');
    execFileSync('mkfifo', [fifo]);
    // Opened without blocking (there is no writer), and given to the CLI as its stdin.
    const fd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const out = join(dir, 'out');
    const child = spawn(process.execPath, [CLI, '-', '--format', 'csv', '--out', out], { stdio: [fd, 'ignore', 'pipe'] });
    closeSync(fd);
    const ended = exited(child);
    await blocked(child.pid as number); // its stdin is open from the start: wait until it waits on it
    await expectEndedBySigterm(child, ended, out);
  }, 20_000);

  it('a named pipe is read as a stream once a writer comes: the same file as from the file itself', async () => {
    const dir = await tempDir();
    const fifo = join(dir, 'survey.arrow');
    execFileSync('mkfifo', [fifo]);
    const out = join(dir, 'out');
    const child = spawn(process.execPath, [CLI, fifo, '--format', 'csv', '--out', out], { stdio: ['ignore', 'ignore', 'pipe'] });
    const ended = exited(child);
    expect(await holdsOpen(child.pid as number, fifo)).toBe(true); // so the write below finds a reader
    await writeFile(fifo, readFileSync(SAMPLE));
    const result = await ended;
    expect(result.code, result.stderr).toBe(0);
    const direct = join(dir, 'direct');
    const run = exited(spawn(process.execPath, [CLI, SAMPLE, '--format', 'csv', '--out', direct], { stdio: ['ignore', 'ignore', 'pipe'] }));
    expect((await run).code).toBe(0);
    expect(readFileSync(join(out, 'survey.csv'))).toEqual(readFileSync(join(direct, 'survey.csv')));
  }, 20_000);
});
