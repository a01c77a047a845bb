import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../helpers/readers.js';

/** The built command line (npm test builds it first). */
export const CLI = join(PROJECT_ROOT, 'dist', 'cli', 'main.js');

export interface ServeProcess {
  child: ChildProcess;
  url: string;
  /** What the process wrote on standard error so far. */
  stderr: () => string;
}

/** Starts `tabular-export serve` as a child process and resolves with the API URL it prints. */
export function startCli(args: string[], env: Record<string, string> = {}): Promise<ServeProcess> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" (npm test does)`);
  const child = spawn(process.execPath, [CLI, 'serve', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => { err += d; });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`serve did not start: ${err}`)); }, 20_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d;
      const match = /listening on (\S+)/.exec(out);
      if (match) { clearTimeout(timer); resolve({ child, url: match[1], stderr: () => err }); }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`serve exited with ${code}: ${err}`)); });
  });
}

/** Sends `signal` and resolves with the exit code (null when killed by the signal). */
export function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.once('exit', (code) => resolve(code));
    child.kill(signal);
  });
}
