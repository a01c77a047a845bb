#!/usr/bin/env node
// Installs the independent readers that judge every export file (DESIGN.md): a Python venv
// at <project>/.venv with pandas, pyarrow, fastavro, duckdb and polars, and the Debian packages
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
const requirements = join(root, 'test', 'readers', 'requirements.txt');
// The platform's Python client, pinned beside the project (../shared), used only as a test oracle
// of `serve`; its own venv, from the requirements file beside it (their pins differ from ours).
const clientDir = process.env.REDIVIS_CLIENT_DIR ?? join(root, '..', 'shared', 'clients', 'redivis-python');
const clientVenv = join(root, '.venv-client');
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

function pythonOf(dir) {
  return join(dir, 'bin', 'python');
}

function ensureVenv(dir) {
  const python = pythonOf(dir);
  if (existsSync(python)) {
    const probe = spawnSync(python, ['-c', 'import sys'], { encoding: 'utf8' });
    if (probe.status === 0) {
      step(`venv ok (${dir})`);
      return;
    }
    step(`venv python of ${dir} is broken; recreating`);
  }
  const base = process.env.PYTHON ?? which('python3');
  if (!base) fail('python3 not found on PATH (set PYTHON to a Python 3 interpreter)');
  run(base, ['-m', 'venv', '--clear', dir], 'creating the venv (python3 -m venv; on Debian: apt-get install python3-venv)');
  step(`venv ${dir} created with ${base}`);
}

/**
 * pip install -r `reqs` into the venv `dir`, then `check` (Python code) must run. Skipped when
 * a stamp in the venv holds the hash of the requirements and the Python version.
 */
function ensurePythonPackages(dir, reqs, check, what, env = process.env) {
  if (!existsSync(reqs)) fail(`missing ${reqs}`);
  const python = pythonOf(dir);
  const stampFile = join(dir, '.readers-stamp');
  const pythonVersion = run(python, ['-c', 'import sys; print(sys.version)'], 'reading the venv python version');
  const stamp = createHash('sha256').update(readFileSync(reqs)).update(pythonVersion).digest('hex');
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8').trim() === stamp) {
    step(`${what} up to date (${reqs} unchanged)`);
    return;
  }
  const started = Date.now();
  run(python, ['-m', 'pip', 'install', '--disable-pip-version-check', '-r', reqs],
    `pip install -r ${reqs} (the machine's pip config must point at a package mirror)`);
  run(python, ['-c', check], `importing ${what} after install`, env);
  writeFileSync(stampFile, `${stamp}\n`);
  step(`${what} installed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/** The client's venv, when its pinned copy is there; without it its tests say so and skip. */
function ensureClient() {
  const clientRequirements = join(clientDir, 'requirements.txt');
  if (!existsSync(clientRequirements)) {
    step(`the platform's Python client is not at ${clientDir} (set REDIVIS_CLIENT_DIR): its tests will skip`);
    return;
  }
  ensureVenv(clientVenv);
  ensurePythonPackages(clientVenv, clientRequirements, 'import redivis', `the platform's Python client (${clientDir})`,
    { ...process.env, PYTHONPATH: clientDir });
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

ensureVenv(venv);
ensurePythonPackages(venv, requirements, 'import pandas, pyarrow, fastavro, duckdb, polars', 'python readers');
ensureDebianReaders();
ensureClient();
step('all readers ready');
