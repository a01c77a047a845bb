// Two or more commands timed side by side: run in turn, round after round, so a shared, noisy
// machine slows them alike (issue #12: compare builds in one run, never against another day's
// figure). Each command is one string, split on spaces; `{out}` in it becomes a fresh empty
// directory for that run (removed after). Prints, per command, the median and the lower and
// upper quartiles of wall seconds and of CPU seconds (user + system, threads included) and the
// median peak RSS, from GNU time (`/usr/bin/time`, Linux; wall time alone without it).
//
//   node bench/side-by-side.mjs [--runs 9] '<command A>' '<command B>' …
//
// E.g. the previous build copied aside against this one, 5M rows to Parquet:
//   node bench/side-by-side.mjs --runs 11 \
//     'node /tmp/old/dist/cli/main.js /tmp/tabular-export-bench-5000000.arrow --format parquet --out {out}' \
//     'node dist/cli/main.js /tmp/tabular-export-bench-5000000.arrow --format parquet --out {out}'
// (The input is what `node bench/cli-compare.mjs` makes and keeps in the temp directory.) On
// this 2-core machine under its usual load, medians of 9–15 runs separate ~5 % differences;
// fewer runs, or a single run of each, do not.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values, positionals: commands } = parseArgs({ allowPositionals: true, options: { runs: { type: 'string', default: '9' } } });
const runs = Number(values.runs);
if (commands.length < 1 || !(runs >= 1)) {
  console.error("usage: node bench/side-by-side.mjs [--runs 9] '<command A>' '<command B>' …");
  process.exit(2);
}
const TIME = '/usr/bin/time';
const withTime = existsSync(TIME);
const work = mkdtempSync(join(tmpdir(), 'te-side-by-side-'));
const samples = commands.map(() => ({ wall: [], cpu: [], rss: [] }));

try {
  for (let round = 1; round <= runs; round++) {
    for (const [i, command] of commands.entries()) {
      const out = join(work, `out-${round}-${i}`);
      const timing = join(work, 'time.txt');
      const argv = command.split(' ').filter(Boolean).map((a) => a.replaceAll('{out}', out));
      const [file, ...args] = withTime ? [TIME, '-f', '%e %U %S %M', '-o', timing, ...argv] : argv;
      const started = performance.now();
      const run = spawnSync(file, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      const wall = (performance.now() - started) / 1000;
      rmSync(out, { recursive: true, force: true });
      if (run.status !== 0) throw new Error(`command ${i + 1} failed (exit ${run.status}): ${command}\n${run.stderr}`);
      const s = samples[i];
      if (withTime) {
        const [elapsed, user, system, rss] = readFileSync(timing, 'utf8').trim().split('\n').pop().split(' ').map(Number);
        s.wall.push(elapsed);
        s.cpu.push(user + system);
        s.rss.push(rss / 1024);
      } else {
        s.wall.push(wall);
      }
    }
    console.error(`round ${round}/${runs}`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  const at = q * (s.length - 1);
  const lo = Math.floor(at);
  return s[lo] + (s[Math.min(lo + 1, s.length - 1)] - s[lo]) * (at - lo);
};
const spread = (xs, unit) => `${quantile(xs, 0.5).toFixed(2)} ${unit} (${quantile(xs, 0.25).toFixed(2)}–${quantile(xs, 0.75).toFixed(2)})`;
console.log(`${runs} rounds, commands in turn; median (lower–upper quartile)`);
for (const [i, command] of commands.entries()) {
  const s = samples[i];
  const cpu = withTime ? `, CPU ${spread(s.cpu, 's')}, peak RSS ${quantile(s.rss, 0.5).toFixed(0)} MB` : '';
  console.log(`${String.fromCharCode(65 + i)}: wall ${spread(s.wall, 's')}${cpu}  ${command}`);
}
