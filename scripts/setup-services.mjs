#!/usr/bin/env node
// Installs the services the distributed mode's tests start (issue #13): Debian's redis-server.
// Run by `npm test` after setup-readers and by .ci/run. The S3-compatible test server (s3rver)
// is an npm devDependency and needs nothing here. Unlike a missing reader, a Redis that cannot
// be installed (no root, no package) is not fatal: the tests that need it say so and skip.
// Idempotent: nothing is done when redis-server is on PATH.
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

const COMMAND = 'redis-server';
const APT_PACKAGE = 'redis-server';

function step(text) {
  console.log(`setup-services: ${text}`);
}

function which(command) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, command), constants.X_OK);
      return join(dir, command);
    } catch {
      // not in this directory
    }
  }
  return null;
}

/** Runs apt-get; returns the output tail on failure, null on success. */
function aptGet(args, env) {
  const result = spawnSync('apt-get', args, { env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.error) return result.error.message;
  if (result.status !== 0) return `${result.stdout ?? ''}${result.stderr ?? ''}`.trimEnd().split('\n').slice(-10).join('\n');
  return null;
}

function ensureRedis() {
  if (which(COMMAND)) {
    step(`${COMMAND} found`);
    return;
  }
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot) {
    step(`${COMMAND} is missing and this is not root (as root: apt-get install -y ${APT_PACKAGE}): the Redis tests will skip`);
    return;
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  step(`${COMMAND} is missing; installing ${APT_PACKAGE} with apt-get`);
  // The package lists may be missing or stale on a fresh machine: update once, and only if the
  // first attempt fails.
  let problem = aptGet(['install', '-y', '--no-install-recommends', APT_PACKAGE], env);
  if (problem !== null) {
    problem = aptGet(['update'], env) ?? aptGet(['install', '-y', '--no-install-recommends', APT_PACKAGE], env);
  }
  if (problem !== null || !which(COMMAND)) {
    if (problem) console.error(problem);
    step(`could not install ${APT_PACKAGE}: the Redis tests will skip`);
    return;
  }
  step(`${COMMAND} installed`);
}

ensureRedis();
