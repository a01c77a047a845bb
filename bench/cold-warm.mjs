// The same export several times in one process (the library, as a service embeds it): the first
// pays for a cold process — V8 compiling the encoders on its helper threads, the worker threads'
// first, slowly run chunks, the threads' own start — and the next ones show what a warm process
// does. Prints each run's wall time, the CPU seconds it took (every thread of the process, from
// /proc/self/task; Linux) and the threads that took more than 15 ms of it (offset from the main
// thread's id: the main thread, V8's helpers, libuv's pool, then the worker threads).
//
//   npm run build && node bench/cold-warm.mjs [--format parquet] [--rows 5000000] [--times 4] [--workers N]
//
// Reads the benchmark table's IPC file that `node bench/cli-compare.mjs` keeps in the temp
// directory (made here if missing). Measured 2026-12-06 (bench/RESULTS.md, session 7): parquet
// 5M rows, the first export 1.19–1.54 s and 2.25–2.40 s of CPU, the next 0.81–0.95 s and
// 1.55–1.70 s.
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { writeBenchIPC } from './make-ipc.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: {
  format: { type: 'string', default: 'parquet' },
  rows: { type: 'string', default: '5000000' },
  times: { type: 'string', default: '4' },
  workers: { type: 'string' },
} });
const library = join(root, 'dist', 'index.js');
if (!existsSync(library)) throw new Error('bench: no dist/index.js; run `npm run build` first');
const { exportTable, fromIPC } = await import(pathToFileURL(library).href);

const rows = Number(values.rows);
const input = join(tmpdir(), `tabular-export-bench-${rows}.arrow`);
if (!existsSync(input)) {
  console.error(`writing ${input}`);
  const partial = `${input}.${process.pid}.partial`;
  await writeBenchIPC(rows, partial, { file: true });
  renameSync(partial, input);
}

/** CPU milliseconds of each thread of this process so far, by thread id. */
function threadCpu() {
  const cpu = new Map();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      cpu.set(Number(tid), Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]) / 1e6);
    } catch {
      // the thread ended
    }
  }
  return cpu;
}

const work = mkdtempSync(join(tmpdir(), 'te-cold-warm-'));
try {
  for (let run = 0; run < Number(values.times); run++) {
    const out = join(work, `run-${run}`);
    const before = threadCpu();
    const started = performance.now();
    const done = await exportTable(fromIPC(input), {
      format: values.format, out, ...(values.workers === undefined ? {} : { workers: Number(values.workers) }),
    });
    const wall = performance.now() - started;
    const after = threadCpu();
    if (done.status !== 'completed') throw new Error(`export ${run} ${done.status}: ${done.errorMessage}`);
    let total = 0;
    const threads = [];
    for (const [tid, ms] of after) {
      const spent = ms - (before.get(tid) ?? 0);
      total += spent;
      if (spent > 15) threads.push(`+${tid - process.pid} ${(spent / 1000).toFixed(2)}`);
    }
    console.log(`${run === 0 ? 'cold' : 'warm'} ${values.format} ${rows} rows: wall ${(wall / 1000).toFixed(2)} s, CPU ${(total / 1000).toFixed(2)} s (${threads.join(', ')})`);
    rmSync(out, { recursive: true, force: true });
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
process.exit(0); // the pool's idle threads would keep the process for their 30 s
