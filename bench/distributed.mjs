#!/usr/bin/env node
// The distributed mode's scale bench (issue #13): a 20,000,000-row table in 8 Parquet files
// (written once by pyarrow with test/distributed/tables.py into $BENCH_DIR, default
// /tmp/te-bench-dist), exported to parquet and csv by 1, 2 and 4 `tabular-export worker`
// processes over a redis-server of its own, into a local directory. Prints a Markdown table:
// wall time from create to completed, rows/s, the finalize job's own time (csv: joining the
// shards' bytes into one file and hashing it), and the load average.
//
// Usage: npm run build && node bench/distributed.mjs [--workers 1,2,4] [--formats parquet,csv] [--rows-per-file 2500000]
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Queue } from 'bullmq';
import { DistributedExporter } from '../dist/index.js';

const root = new URL('..', import.meta.url).pathname;
const { values } = parseArgs({ options: {
  workers: { type: 'string', default: '1,2,4' }, formats: { type: 'string', default: 'parquet,csv' },
  'rows-per-file': { type: 'string', default: '2500000' }, files: { type: 'string', default: '8' },
} });
const FILES = Number(values.files);
const PER_FILE = Number(values['rows-per-file']);
const dir = process.env.BENCH_DIR ?? '/tmp/te-bench-dist';
const tables = join(dir, `t${FILES}x${PER_FILE}`);

if (!existsSync(tables)) {
  process.stderr.write(`writing ${FILES} x ${PER_FILE} rows into ${tables} (pyarrow, row groups of 500,000)\n`);
  execFileSync(join(root, '.venv/bin/python'), [join(root, 'test/distributed/tables.py'), 'write', tables, String(FILES), String(PER_FILE), '500000', 'bench'], { stdio: 'inherit' });
}

const port = 20000 + Math.floor(Math.random() * 20000);
const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'], { stdio: 'ignore' });
await new Promise((r) => setTimeout(r, 500));
const url = `redis://127.0.0.1:${port}`;

function startWorker() {
  const child = spawn(process.execPath, [join(root, 'dist/cli/main.js'), 'worker', '--redis', url], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve) => child.stdout.on('data', (d) => { if (String(d).includes('worker ready')) resolve(child); }));
}

const exporter = new DistributedExporter({ redis: url });
const finalize = new Queue('finalize', { connection: { host: '127.0.0.1', port }, prefix: 'tabular-export' });
const rows = [];
try {
  for (const n of values.workers.split(',').map(Number)) {
    const workers = await Promise.all(Array.from({ length: n }, startWorker));
    for (const format of values.formats.split(',')) {
      const out = join(dir, 'out', format);
      rmSync(out, { recursive: true, force: true });
      mkdirSync(out, { recursive: true });
      const load = loadavg()[0];
      const t0 = performance.now();
      const created = await exporter.create(tables, { format, out });
      const exp = await exporter.done(created.id);
      const wall = (performance.now() - t0) / 1000;
      // The export is completed from inside the finalize job, a moment before BullMQ records its return value.
      let job = await finalize.getJob(created.id);
      for (let i = 0; i < 50 && job?.returnvalue?.ms === undefined; i++) {
        await new Promise((r) => setTimeout(r, 100));
        job = await finalize.getJob(created.id);
      }
      const fin = (job?.returnvalue?.ms ?? NaN) / 1000;
      if (exp.status !== 'completed') throw new Error(`${format}: ${exp.status}: ${exp.errorMessage}`);
      const total = FILES * PER_FILE;
      rows.push(`| ${n} | ${format} | ${wall.toFixed(1)} s | ${Math.round(total / wall).toLocaleString('en-US')} | ${(exp.size / 1e6).toFixed(0)} MB in ${exp.fileCount} | ${fin.toFixed(2)} s | ${load.toFixed(1)} |`);
      process.stderr.write(`${rows.at(-1)}\n`);
      rmSync(out, { recursive: true, force: true });
    }
    for (const w of workers) w.kill('SIGTERM');
    await Promise.all(workers.map((w) => new Promise((r) => w.once('exit', r))));
  }
} finally {
  await exporter.close();
  await finalize.close();
  redis.kill('SIGTERM');
}
console.log(`${FILES * PER_FILE} rows in ${FILES} Parquet files, shards of 2,000,000 rows (default), 1 thread per worker\n`);
console.log('| workers | format | create → completed | rows/s | output | finalize | load avg (1 min) at start |');
console.log('|---|---|---|---|---|---|---|');
for (const r of rows) console.log(r);
