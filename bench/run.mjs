// `npm run bench`: throughput per format on the 1,000,000-row benchmark table (tinybench, each
// format in its own process for its own peak RSS), then a streaming run of a large Arrow IPC
// stream through the CLI with its peak RSS. Adds the figures to bench/RESULTS.md.
//
//   node --expose-gc bench/run.mjs [--rows 1000000] [--iterations 5] [--formats csv,jsonl]
//                                  [--stream-rows 10000000] [--stream-formats csv] [--no-write]
//                                  [--no-reference]
//
// Unless --no-reference, the same table is also written by DuckDB and pyarrow (single-threaded,
// bench/reference.py in the project's .venv) in the same run, so the figures can be read side by
// side with independent writers on whatever load the shared machine has at the time.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { availableFormats } from '../dist/index.js';
import { writeBenchIPC } from './make-ipc.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const { values } = parseArgs({ options: {
  rows: { type: 'string', default: '1000000' },
  iterations: { type: 'string', default: '5' },
  formats: { type: 'string' },
  variants: { type: 'string', default: '' },
  'stream-rows': { type: 'string', default: '10000000' },
  'stream-formats': { type: 'string', default: 'csv' },
  'no-write': { type: 'boolean', default: false },
  'no-reference': { type: 'boolean', default: false },
} });
const rows = Number(values.rows);
const formats = values.formats ? values.formats.split(',') : availableFormats();
const mb = (b) => (b / 1e6).toFixed(0);
const lines = [];
const say = (line) => { console.log(line); lines.push(line); };
const load = () => loadavg().map((l) => l.toFixed(1)).join(' / ');

// Variants: extra option sets per format, e.g. --variants 'csv:{"csv":{"gzip":true}}'.
const runs = formats.map((f) => ({ format: f, options: {} }));
for (const v of values.variants.split(';').filter(Boolean)) {
  const at = v.indexOf(':');
  runs.push({ format: v.slice(0, at), options: JSON.parse(v.slice(at + 1)) });
}

say(`### ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC — node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}`);
say('');
const args = process.argv.slice(2).map((a) => (/[\s"';{}]/.test(a) ? `'${a}'` : a)).join(' ');
say(`Command: \`npm run bench${args ? ` -- ${args}` : ''}\``);
say('');
say(`Load average (1 / 5 / 15 min) at the start: ${load()}.`);
say('');
say(`Throughput on the ${rows.toLocaleString('en-US')}-row, 9-column benchmark table, single-threaded; median of ${values.iterations} timed runs after 1 warm-up (tinybench). Peak RSS includes the in-memory table (its RSS is shown).`);
say('');
say('| format | options | median s | rows/s | output MB | MB/s | table RSS MB | peak RSS MB |');
say('|---|---|---|---|---|---|---|---|');
for (const { format, options } of runs) {
  const out = execFileSync(process.execPath, ['--expose-gc', join(here, 'format-run.mjs'), format, String(rows), values.iterations, JSON.stringify(options)], { encoding: 'utf8', maxBuffer: 1 << 20 });
  const r = JSON.parse(out.trim().split('\n').at(-1));
  say(`| ${format} | ${Object.keys(options).length ? '`' + JSON.stringify(options) + '`' : 'defaults'} | ${(r.medianMs / 1000).toFixed(3)} | ${Math.round(r.rowsPerSec).toLocaleString('en-US')} | ${mb(r.size)} | ${r.mbPerSec.toFixed(1)} | ${mb(r.tableRss)} | ${mb(r.peakRss)} |`);
}

const python = join(root, '.venv', 'bin', 'python');
if (!values['no-reference']) {
  if (!existsSync(python)) throw new Error('bench: no .venv for the reference writers; run `node scripts/setup-readers.mjs` or pass --no-reference');
  const work = mkdtempSync(join(tmpdir(), 'te-ref-'));
  const input = join(work, 'table.arrows');
  await writeBenchIPC(rows, input);
  const out = execFileSync(python, [join(here, 'reference.py'), input, values.iterations, work], { encoding: 'utf8' });
  rmSync(work, { recursive: true, force: true });
  say('');
  say(`Reference writers on the same table in the same run (bench/reference.py: read into memory first, then written single-threaded — DuckDB \`SET threads=1\`, pyarrow with one CPU and one I/O thread; median of ${values.iterations} after 1 warm-up):`);
  say('');
  say('| writer | format | median s | rows/s | output MB | MB/s |');
  say('|---|---|---|---|---|---|');
  for (const line of out.trim().split('\n')) {
    const r = JSON.parse(line);
    say(`| ${r.writer} | ${r.format} | ${r.medianS.toFixed(3)} | ${Math.round(r.rows / r.medianS).toLocaleString('en-US')} | ${mb(r.size)} | ${(r.size / 1e6 / r.medianS).toFixed(1)} |`);
  }
}

const streamRows = Number(values['stream-rows']);
if (streamRows > 0) {
  const work = mkdtempSync(join(tmpdir(), 'te-stream-'));
  const input = join(tmpdir(), `tabular-export-bench-${streamRows}.arrows`);
  if (!existsSync(input)) await writeBenchIPC(streamRows, input);
  say('');
  say(`Streaming: ${streamRows.toLocaleString('en-US')} rows from an Arrow IPC stream file (${mb(statSync(input).size)} MB) through the CLI (\`node dist/cli/main.js ${'<file>'}.arrows --format <f> --out <dir>\`); peak RSS of the whole CLI process.`);
  say('');
  say('| format | wall s | rows/s | output MB | peak RSS MB |');
  say('|---|---|---|---|---|');
  for (const format of values['stream-formats'].split(',')) {
    const rssFile = join(work, 'rss');
    const started = performance.now();
    const res = spawnSync(process.execPath, ['--import', join(here, 'report-rss.mjs'), join(root, 'dist', 'cli', 'main.js'), input, '--format', format, '--out', join(work, format), '--json'],
      { env: { ...process.env, BENCH_RSS_FILE: rssFile }, encoding: 'utf8', maxBuffer: 1 << 24 });
    const seconds = (performance.now() - started) / 1000;
    if (res.status !== 0) throw new Error(`stream run failed: ${res.stderr}`);
    const exp = JSON.parse(res.stdout);
    say(`| ${format} | ${seconds.toFixed(1)} | ${Math.round(streamRows / seconds).toLocaleString('en-US')} | ${mb(exp.size)} | ${mb(Number(readFileSync(rssFile, 'utf8')))} |`);
    rmSync(join(work, format), { recursive: true, force: true });
  }
  rmSync(work, { recursive: true, force: true });
}
say('');
say(`Load average at the end: ${load()}.`);
say('');
if (!values['no-write']) {
  // Runs go in date order under "## npm run bench", before the closing sections that weigh
  // them against the issues' bars; without those, at the end.
  const file = join(here, 'RESULTS.md');
  const text = readFileSync(file, 'utf8');
  const at = text.indexOf("\n## Against the issues' bars");
  const section = lines.join('\n') + '\n';
  writeFileSync(file, at < 0 ? text + section : `${text.slice(0, at + 1)}${section}\n${text.slice(at + 1)}`);
}
