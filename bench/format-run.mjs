// One format's throughput run, in its own process so its peak RSS is its own.
// Usage: node bench/format-run.mjs <format> <rows> <iterations> [json options] [workers: n | default]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bench } from 'tinybench';
import { defaultWorkers, exportTable, fromBatches } from '../dist/index.js';
import { benchBatches } from './table.mjs';
import { readFileSync } from 'node:fs';

/** This process's own peak RSS (VmHWM; see report-rss.mjs). */
function peakRss() {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : process.resourceUsage().maxRSS * 1024;
}

const [format, rowsText, itText, optionsText, workersText = 'default'] = process.argv.slice(2);
const rows = Number(rowsText);
const options = optionsText ? JSON.parse(optionsText) : {};
// `default`: no `workers` in the request, so the Exporter's default (defaultWorkers()) applies.
const workers = workersText === 'default' ? undefined : Number(workersText);
const batches = [...benchBatches(rows)];
globalThis.gc?.();
const tableRss = process.memoryUsage().rss;
const dir = await mkdtemp(join(tmpdir(), 'te-bench-'));
let size = 0;
const bench = new Bench({ iterations: Number(itText), warmupIterations: 1, time: 0, warmupTime: 0 });
bench.add(format, async () => {
  const exp = await exportTable(fromBatches(batches), { format, out: dir, name: 'bench', ...options, ...(workers === undefined ? {} : { workers }) });
  if (exp.status !== 'completed') throw new Error(`${format}: ${exp.errorMessage}`);
  size = exp.size;
});
await bench.run();
await rm(dir, { recursive: true, force: true });
const task = bench.tasks[0];
const result = task.result;
if (!result || result.state === 'errored' || result.error) throw result?.error ?? new Error(`${format}: benchmark failed`);
const latency = result.latency ?? result;
const medianMs = latency.p50 ?? latency.median;
const samples = latency.samplesCount ?? latency.samples?.length ?? Number(itText);
process.stdout.write(JSON.stringify({
  format, rows, options, workers: workers ?? defaultWorkers(), medianMs, minMs: latency.min, maxMs: latency.max, samples, size,
  rowsPerSec: rows / (medianMs / 1000), mbPerSec: size / 1e6 / (medianMs / 1000),
  tableRss, peakRss: peakRss(),
}) + '\n');
