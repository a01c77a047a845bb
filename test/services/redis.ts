/**
 * A real redis-server (Debian's package, installed by scripts/setup-services.mjs) for the
 * distributed mode's tests: started on a free loopback port with its own temporary directory,
 * no persistence, `noeviction` (what BullMQ requires); stopped by pid, its directory removed.
 * Where the command is missing, `redisMissing` says why and the tests skip.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';

export interface RedisServer {
  readonly port: number;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  readonly pid: number;
  /** Its working directory (removed by stop). */
  readonly directory: string;
  /** Stops the server (SIGTERM, SIGKILL after 2 s) and removes its directory; safe to call twice. */
  stop(): Promise<void>;
}

function findRedis(): string | null {
  const found = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  return found.status === 0 ? 'redis-server' : null;
}

/** Null when redis-server can run here, else why the Redis tests skip. */
export const redisMissing: string | null = findRedis() === null
  ? 'redis-server is not installed (scripts/setup-services.mjs installs it as root: apt-get install -y redis-server); the Redis tests are skipped'
  : null;

const START_TIMEOUT = 10_000;

export async function startRedis(): Promise<RedisServer> {
  if (redisMissing) throw new Error(redisMissing);
  const dir = await mkdtemp(join(tmpdir(), 'te-redis-'));
  let lastError: Error | null = null;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    try {
      const child = await launch(port, dir);
      return handle(child, port, dir);
    } catch (err) {
      lastError = err as Error; // most likely the port was taken meanwhile: try another
    }
  }
  await rm(dir, { recursive: true, force: true });
  throw lastError ?? new Error('redis-server did not start');
}

function launch(port: number, dir: string): Promise<ChildProcess> {
  const args = [
    '--port', String(port), '--bind', '127.0.0.1', '--dir', dir,
    '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction', '--daemonize', 'no',
    '--protected-mode', 'yes', '--loglevel', 'notice',
  ];
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => fail(new Error(`redis-server did not get ready in ${START_TIMEOUT} ms:\n${output.slice(-2000)}`)), START_TIMEOUT);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        child.off('exit', onExit);
        // Keep draining its log, so a full pipe never blocks it.
        child.stdout?.resume();
        child.stderr?.resume();
        resolve(child);
      }
    };
    const onExit = (code: number | null, signal: string | null): void => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited (${code ?? signal}) before it was ready:\n${output.slice(-2000)}`));
    };
    const fail = (err: Error): void => {
      child.kill('SIGKILL');
      reject(err);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => { output += chunk.toString('utf8'); });
    child.once('exit', onExit);
    child.once('error', (err) => { clearTimeout(timer); reject(err); });
  });
}

function handle(child: ChildProcess, port: number, dir: string): RedisServer {
  let stopped: Promise<void> | null = null;
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  // A test process that ends without its afterAll (a crash, a timeout kill) takes its server along.
  const killOnExit = (): void => { child.kill('SIGKILL'); };
  process.once('exit', killOnExit);
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    pid: child.pid as number,
    directory: dir,
    stop: () => (stopped ??= (async () => {
      process.off('exit', killOnExit);
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(killer);
      await rm(dir, { recursive: true, force: true });
    })()),
  };
}
