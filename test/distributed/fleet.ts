/**
 * What the distributed tests share: worker processes (the built command, `node dist/cli/main.js
 * worker`, each a separate OS process killed by pid), test tables written by pyarrow, and the
 * independent readers' summary of an export's files (tables.py).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT, VENV_PYTHON } from '../helpers/readers.js';

const run = promisify(execFile);
export const CLI = join(PROJECT_ROOT, 'dist', 'cli', 'main.js');
const TABLES_PY = join(PROJECT_ROOT, 'test', 'distributed', 'tables.py');

/** Small lock and stall intervals: a killed worker's shard runs again within about 3 s. */
export const FAST_RECOVERY = ['--lock-duration', '2000', '--stalled-interval', '1000'];

export interface WorkerProcess {
  child: ChildProcess;
  pid: number;
  output: () => string;
  /** Resolves once the process has exited. */
  exited: Promise<void>;
}

/** Starts a `tabular-export worker` process; resolves once it says it is ready. */
export function startWorkerProcess(redisUrl: string, env: Record<string, string> = {}, extra: string[] = []): Promise<WorkerProcess> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" (npm test does)`);
  const child = spawn(process.execPath, [CLI, 'worker', '--redis', redisUrl, ...FAST_RECOVERY, ...extra], {
    env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout?.on('data', (d: Buffer) => { text += d; });
  child.stderr?.on('data', (d: Buffer) => { text += d; });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // The test process ending without its afterAll takes its workers along.
  const killOnExit = (): void => { child.kill('SIGKILL'); };
  process.once('exit', killOnExit);
  void exited.then(() => process.off('exit', killOnExit));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker did not start: ${text}`)), 20_000);
    const check = (): void => {
      if (text.includes('worker ready')) {
        clearTimeout(timer);
        resolve({ child, pid: child.pid as number, output: () => text, exited });
      }
    };
    child.stdout?.on('data', check);
    void exited.then(() => { clearTimeout(timer); reject(new Error(`worker exited before it was ready: ${text}`)); });
  });
}

/** SIGKILL (a crash) or SIGTERM (a stop); resolves once the process is gone. */
export async function stopWorker(worker: WorkerProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill(signal);
  await worker.exited;
}

/** Parquet files `<name>-000.parquet`, … (or Arrow IPC files `.arrow` of record batches of `rowGroup` rows) with ids 0..files*rows-1 in file order (tables.py write). */
export async function writeTable(dir: string, files: number, rowsPerFile: number, rowGroup: number, name = 't', kind: 'parquet' | 'ipc' = 'parquet'): Promise<void> {
  await run(VENV_PYTHON, [TABLES_PY, kind === 'ipc' ? 'write-ipc' : 'write', dir, String(files), String(rowsPerFile), String(rowGroup), name]);
}

export interface ReadSummary {
  rows: number;
  distinct: number;
  min: number | null;
  max: number | null;
  sum: number;
  ordered: boolean;
  nullS: number;
  headers?: number;
  pandasRows?: number;
  readstatRows?: number;
}

/** The files of one export (in order) read by the independent readers of their format. */
export async function readSummary(format: string, paths: readonly string[]): Promise<ReadSummary> {
  const { stdout } = await run(VENV_PYTHON, [TABLES_PY, 'check', format, ...paths], { maxBuffer: 1 << 20 });
  return JSON.parse(stdout) as ReadSummary;
}

/** Many exports' files read in one process of the readers (their start-up is most of a small check's time). */
export async function readSummaries(exports: readonly (readonly [string, readonly string[]])[]): Promise<ReadSummary[]> {
  const { stdout } = await run(VENV_PYTHON, [TABLES_PY, 'checkall', JSON.stringify(exports)], { maxBuffer: 1 << 20 });
  return JSON.parse(stdout) as ReadSummary[];
}

/** What readSummary gives for a table of `rows` rows made by writeTable: every id exactly once, in order. */
export function wholeTable(rows: number): Partial<ReadSummary> {
  return { rows, distinct: rows, min: 0, max: rows - 1, sum: (rows * (rows - 1)) / 2, ordered: true, nullS: Math.ceil(rows / 7) };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
