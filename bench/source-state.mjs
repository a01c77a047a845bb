// The commit the figures of a bench run come from, and whether src/ differed from it, said in
// every section a bench script writes (bench/run.mjs, bench/cli-compare.mjs).
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export function sourceState() {
  const git = (...a) => spawnSync('git', a, { cwd: root, encoding: 'utf8' });
  const head = git('rev-parse', '--short', 'HEAD');
  if (head.status !== 0) return 'commit unknown (not a git checkout)';
  const dirty = git('status', '--porcelain', '--', 'src', 'package.json', 'tsup.config.ts').stdout.trim();
  return `commit ${head.stdout.trim()}${dirty ? ', with uncommitted changes in src/' : ''}`;
}
