// How close the parts of a split export come to maxFileSize, per format, on the benchmark table.
// Usage: npm run build && node bench/split-sizes.mjs [--rows 1000000] [--limits 8000000,2000000]
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { exportTable, fromIPC } from '../dist/index.js';
import { writeBenchIPC } from './make-ipc.mjs';

const { values } = parseArgs({ options: {
  rows: { type: 'string', default: '1000000' },
  limits: { type: 'string', default: '8000000,2000000' },
} });
const input = join(tmpdir(), `tabular-export-bench-${values.rows}.arrows`);
if (!existsSync(input)) await writeBenchIPC(Number(values.rows), input);

const runs = [
  { label: 'csv', format: 'csv' },
  { label: 'csv.gz', format: 'csv', csv: { gzip: true } },
  { label: 'jsonl', format: 'jsonl' },
  { label: 'parquet', format: 'parquet' },
  { label: 'avro', format: 'avro' },
];
const mb = (n) => (n / 1e6).toFixed(3);
console.log('| limit | format | parts | first MB | others but the last, min–max MB | last MB | over the limit |');
console.log('|---|---|---|---|---|---|---|');
for (const limit of values.limits.split(',').map(Number)) {
  for (const { label, ...request } of runs) {
    const out = mkdtempSync(join(tmpdir(), 'te-split-'));
    const exp = await exportTable(fromIPC(input), { ...request, out, name: 'bench', maxFileSize: limit });
    if (exp.status !== 'completed') throw new Error(`${label}: ${exp.errorMessage}`);
    const sizes = exp.files.map((f) => f.size);
    const middle = sizes.slice(1, -1);
    const range = middle.length ? `${mb(Math.min(...middle))}–${mb(Math.max(...middle))}` : '—';
    const over = sizes.filter((s) => s > limit).length;
    console.log(`| ${mb(limit)} MB | ${label} | ${sizes.length} | ${mb(sizes[0])} | ${range} | ${mb(sizes.at(-1))} | ${over} |`);
    rmSync(out, { recursive: true, force: true });
  }
}
