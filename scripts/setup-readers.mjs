#!/usr/bin/env node
// Installs the independent readers that judge every export file (DESIGN.md): a Python venv
// at <project>/.venv with pandas, pyarrow, fastavro and duckdb, and the Debian packages
// readstat and pspp. Run by `npm test` before vitest and by .ci/run. A missing reader must
// make the tests fail, never skip, so every failure here exits non-zero with a clear message.
// Idempotent: a stamp in .venv holds a hash of requirements.txt, and pip is skipped when it matches.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const venv = join(root, '.venv');
const venvPython = join(venv, 'bin', 'python');
const requirements = join(root, 'test', 'readers', 'requirements.txt');
const stampFile = join(venv, '.readers-stamp');
const COMMANDS = ['readstat', 'pspp-convert', 'pspp'];
const APT_PACKAGES = ['readstat', 'pspp'];

function step(text) {
  console.log(`setup-readers: ${text}`);
}

function fail(text, output) {
  if (output) console.error(output.trimEnd().split('\n').slice(-30).join('\n'));
  console.error(`setup-readers: FAILED: ${text}`);
  process.exit(1);
}

/** Runs a command, capturing its output; fails the script with the output tail on error. */
function run(command, args, what, env = process.env) {
  const result = spawnSync(command, args, { cwd: root, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.error) fail(`${what}: cannot run ${command}: ${result.error.message}`);
  if (result.status !== 0) {
    fail(`${what}: \`${command} ${args.join(' ')}\` exited with ${result.status ?? result.signal}`,
      `${result.stdout ?? ''}${result.stderr ?? ''}`);
  }
  return result.stdout;
}

/** The absolute path of a command found on PATH, or null. */
function which(command) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return null;
}

function ensureVenv() {
  if (existsSync(venvPython)) {
    const probe = spawnSync(venvPython, ['-c', 'import sys'], { encoding: 'utf8' });
    if (probe.status === 0) {
      step(`venv ok (${venv})`);
      return;
    }
    step('venv python is broken; recreating');
  }
  const python = process.env.PYTHON ?? which('python3');
  if (!python) fail('python3 not found on PATH (set PYTHON to a Python 3 interpreter)');
  run(python, ['-m', 'venv', '--clear', venv], 'creating the venv (python3 -m venv; on Debian: apt-get install python3-venv)');
  step(`venv created with ${python}`);
}

function ensurePythonPackages() {
  if (!existsSync(requirements)) fail(`missing ${requirements}`);
  const pythonVersion = run(venvPython, ['-c', 'import sys; print(sys.version)'], 'reading the venv python version');
  const stamp = createHash('sha256').update(readFileSync(requirements)).update(pythonVersion).digest('hex');
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8').trim() === stamp) {
    step('python readers up to date (requirements.txt unchanged)');
    return;
  }
  const started = Date.now();
  run(venvPython, ['-m', 'pip', 'install', '--disable-pip-version-check', '-r', requirements],
    'pip install -r test/readers/requirements.txt (the machine\'s pip config must point at a package mirror)');
  run(venvPython, ['-c', 'import pandas, pyarrow, fastavro, duckdb'], 'importing the python readers after install');
  writeFileSync(stampFile, `${stamp}\n`);
  step(`python readers installed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

function ensureDebianReaders() {
  let missing = COMMANDS.filter((c) => which(c) === null);
  if (missing.length === 0) {
    step(`${COMMANDS.join(', ')} found`);
    return;
  }
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot) {
    fail(`missing command(s) ${missing.join(', ')}; as root run: apt-get install -y ${APT_PACKAGES.join(' ')}`);
  }
  step(`missing ${missing.join(', ')}; installing ${APT_PACKAGES.join(' ')} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  run('apt-get', ['update'], 'apt-get update', env);
  run('apt-get', ['install', '-y', '--no-install-recommends', ...APT_PACKAGES], 'apt-get install', env);
  missing = COMMANDS.filter((c) => which(c) === null);
  if (missing.length) fail(`apt-get installed ${APT_PACKAGES.join(' ')} but ${missing.join(', ')} is still not on PATH`);
  step(`${COMMANDS.join(', ')} installed`);
}

ensureVenv();
ensurePythonPackages();
ensureDebianReaders();
step('all readers ready');
