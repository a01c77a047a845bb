// `npm run bench`: throughput per format on the 1,000,000-row benchmark table (tinybench, each
// format and workers setting in its own process for its own peak RSS), with `workers: 1` and with
// the default workers; then a streaming run of a large Arrow IPC stream through the CLI with its
// peak RSS. Adds the figures to bench/RESULTS.md.
//
//   node --expose-gc bench/run.mjs [--rows 1000000] [--iterations 5] [--formats csv,jsonl]
//                                  [--variants 'avro:{"avro":{"codec":"null"}};…']
//                                  [--workers-list 1,default] [--reference-threads 1,all]
//                                  [--stream-rows 10000000] [--stream-formats csv] [--stream-kinds stream,file] [--no-write]
//                                  [--no-reference] [--avro-peer]
//
// --stream-kinds: the streaming run reads an Arrow IPC stream (.arrows, read in order by the
// calling thread) and/or an Arrow IPC file (.arrow, which worker threads read themselves, by
// ranges of record batches, when workers > 1).
//
// --workers-list: the `workers` settings each format (and each variant, and each streaming run)
// is run with; `default` leaves the option out (the Exporter's default: the available
// parallelism, at most 16). Ratios "× workers 1" need 1 in the list.
//
// Unless --no-reference, the same table is also written by DuckDB, pyarrow and polars in the same
// run (bench/reference.py in the project's .venv), once single-threaded and once with every
// library's default threads (all cores), each setting in a Python process of its own, so the
// figures can be read side by side with independent writers on whatever load the shared machine
// has at the time. --avro-peer adds polars' avro (deflate) writer, left out by default for its
// slowness (about 10 s a write at 1,000,000 rows, run 2 × (iterations + 1) times).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { availableFormats, defaultWorkers } from '../dist/index.js';
import { writeBenchIPC } from './make-ipc.mjs';
import { sourceState } from './source-state.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');

const { values } = parseArgs({ options: {
  rows: { type: 'string', default: '1000000' },
  iterations: { type: 'string', default: '5' },
  formats: { type: 'string' },
  variants: { type: 'string', default: '' },
  'workers-list': { type: 'string', default: '1,default' },
  'reference-threads': { type: 'string', default: '1,all' },
  'stream-rows': { type: 'string', default: '10000000' },
  'stream-formats': { type: 'string', default: 'csv' },
  'stream-kinds': { type: 'string', default: 'stream,file' },
  'no-write': { type: 'boolean', default: false },
  'no-reference': { type: 'boolean', default: false },
  'avro-peer': { type: 'boolean', default: false },
} });
const rows = Number(values.rows);
const formats = values.formats ? values.formats.split(',') : availableFormats();
const workersList = values['workers-list'].split(',').map((w) => w.trim()).filter(Boolean);
for (const w of workersList) {
  if (w !== 'default' && !/^\d+$/.test(w)) throw new Error(`--workers-list: "${w}" is neither a whole number nor "default"`);
}
const referenceThreads = values['reference-threads'].split(',').filter(Boolean);
for (const t of referenceThreads) if (t !== '1' && t !== 'all') throw new Error(`--reference-threads: "${t}" is neither 1 nor all`);
const defaults = defaultWorkers();
const mb = (b) => (b / 1e6).toFixed(0);
const int = (n) => Math.round(n).toLocaleString('en-US');
const ratio = (a, b) => (a && b ? `${(a / b).toFixed(2)}×` : '—');
const workersLabel = (w) => (w === 'default' ? `default (${defaults})` : w);
const lines = [];
const say = (line) => { console.log(line); lines.push(line); };
const load = () => loadavg().map((l) => l.toFixed(1)).join(' / ');

// Variants: extra option sets per format, e.g. --variants 'csv:{"csv":{"gzip":true}}'.
const runs = formats.map((f) => ({ format: f, options: {} }));
for (const v of values.variants.split(';').filter(Boolean)) {
  const at = v.indexOf(':');
  runs.push({ format: v.slice(0, at), options: JSON.parse(v.slice(at + 1)) });
}

say(`### ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC — node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${sourceState()}`);
say('');
const args = process.argv.slice(2).map((a) => (/[\s"';{}]/.test(a) ? `'${a}'` : a)).join(' ');
say(`Command: \`npm run bench${args ? ` -- ${args}` : ''}\``);
say('');
say(`Load average (1 / 5 / 15 min) at the start: ${load()}.`);
say('');
say(`Throughput on the ${rows.toLocaleString('en-US')}-row, 9-column benchmark table, with \`workers\` ${workersList.map(workersLabel).join(' and ')} (default: the available parallelism, at most 16); median of ${values.iterations} timed runs after 1 warm-up (tinybench), each format and setting in a process of its own. Peak RSS includes the in-memory table (its RSS is shown). "× workers 1": rows/s against the same format and options with \`workers: 1\`.`);
say('');
say('| format | options | workers | median s | rows/s | output MB | MB/s | table RSS MB | peak RSS MB | × workers 1 |');
say('|---|---|---|---|---|---|---|---|---|---|');
/** Ours: rows/s by `${format} ${JSON.stringify(options)}` and workers setting. */
const ours = new Map();
for (const { format, options } of runs) {
  const key = `${format} ${JSON.stringify(options)}`;
  for (const w of workersList) {
    const out = execFileSync(process.execPath, ['--expose-gc', join(here, 'format-run.mjs'), format, String(rows), values.iterations, JSON.stringify(options), w], { encoding: 'utf8', maxBuffer: 1 << 20 });
    const r = JSON.parse(out.trim().split('\n').at(-1));
    ours.set(`${key} ${w}`, r.rowsPerSec);
    const one = ours.get(`${key} 1`);
    say(`| ${format} | ${Object.keys(options).length ? '`' + JSON.stringify(options) + '`' : 'defaults'} | ${workersLabel(w)} | ${(r.medianMs / 1000).toFixed(3)} | ${int(r.rowsPerSec)} | ${mb(r.size)} | ${r.mbPerSec.toFixed(1)} | ${mb(r.tableRss)} | ${mb(r.peakRss)} | ${w === '1' ? '—' : ratio(r.rowsPerSec, one)} |`);
  }
}

const python = join(root, '.venv', 'bin', 'python');
if (!values['no-reference'] && referenceThreads.length) {
  if (!existsSync(python)) throw new Error('bench: no .venv for the reference writers; run `node scripts/setup-readers.mjs` or pass --no-reference');
  const work = mkdtempSync(join(tmpdir(), 'te-ref-'));
  const input = join(work, 'table.arrows');
  await writeBenchIPC(rows, input);
  const peerFormats = formats.filter((f) => ['csv', 'jsonl', 'parquet', ...(values['avro-peer'] ? ['avro'] : [])].includes(f));
  const refs = [];
  for (const threads of referenceThreads) {
    const out = execFileSync(python, [join(here, 'reference.py'), input, values.iterations, work, '--threads', threads, '--formats', peerFormats.join(',')], { encoding: 'utf8' });
    for (const line of out.trim().split('\n').filter(Boolean)) refs.push(JSON.parse(line));
  }
  rmSync(work, { recursive: true, force: true });
  say('');
  say(`Reference writers on the same table in the same run (bench/reference.py: read into memory first, not timed; DuckDB from its own in-memory table, polars from a DataFrame, pyarrow from the Arrow table). "1": DuckDB \`SET threads=1\`, pyarrow with one CPU and one I/O thread, polars with POLARS_MAX_THREADS=1; "all": each library's defaults. parquet snappy${peerFormats.includes('avro') ? ', avro deflate' : ''} (as ours). Median of ${values.iterations} after 1 warm-up. Peak RSS of the Python process during that writer's runs, the table in all three forms included.`);
  say('');
  say('| writer | threads | format | median s | rows/s | output MB | MB/s | peak RSS MB |');
  say('|---|---|---|---|---|---|---|---|');
  for (const r of refs) {
    say(`| ${r.writer} | ${r.threads === 'all' ? `all (${r.threadCount})` : r.threads} | ${r.format} | ${r.medianS.toFixed(3)} | ${int(r.rows / r.medianS)} | ${mb(r.size)} | ${(r.size / 1e6 / r.medianS).toFixed(1)} | ${mb(r.peakRss)} |`);
  }
  // Ratios: ours (default options) against each peer, rows/s over rows/s (> 1: ours is faster).
  const peerRate = (writer, format, threads) => {
    const r = refs.find((x) => x.writer === writer && x.format === format && x.threads === threads);
    return r ? r.rows / r.medianS : undefined;
  };
  const oneOf = (format) => ours.get(`${format} {} 1`);
  const defOf = (format) => ours.get(`${format} {} default`);
  say('');
  say('Ratios, rows/s over rows/s (above 1: ours is faster), ours with default options:');
  say('');
  say('| format | peer | peer 1 thread rows/s | peer all cores rows/s | ours workers 1 / peer 1 thread | ours default / peer 1 thread | ours default / peer all cores |');
  say('|---|---|---|---|---|---|---|');
  for (const format of peerFormats) {
    for (const writer of ['DuckDB', 'pyarrow', 'polars']) {
      const p1 = peerRate(writer, format, '1');
      const pAll = peerRate(writer, format, 'all');
      if (p1 === undefined && pAll === undefined) continue;
      say(`| ${format} | ${writer} | ${p1 ? int(p1) : '—'} | ${pAll ? int(pAll) : '—'} | ${ratio(oneOf(format), p1)} | ${ratio(defOf(format), p1)} | ${ratio(defOf(format), pAll)} |`);
    }
  }
}

const streamRows = Number(values['stream-rows']);
if (streamRows > 0) {
  for (const kind of values['stream-kinds'].split(',')) {
    const work = mkdtempSync(join(tmpdir(), 'te-stream-'));
    const ext = kind === 'file' ? 'arrow' : 'arrows';
    const input = join(tmpdir(), `tabular-export-bench-${streamRows}.${ext}`);
    if (!existsSync(input)) await writeBenchIPC(streamRows, input, { file: kind === 'file' });
    say('');
    const what = kind === 'file' ? 'an Arrow IPC file (read by ranges on the worker threads when workers > 1)' : 'an Arrow IPC stream file';
    say(`Streaming: ${streamRows.toLocaleString('en-US')} rows from ${what} (${mb(statSync(input).size)} MB) through the CLI (\`node dist/cli/main.js ${'<file>'}.${ext} --format <f> --out <dir> [--workers 1]\`); peak RSS (VmHWM) of the whole CLI process, its worker threads included.`);
    say('');
    say('| format | workers | wall s | rows/s | output MB | peak RSS MB | × workers 1 |');
    say('|---|---|---|---|---|---|---|');
    for (const format of values['stream-formats'].split(',')) {
      let one;
      for (const w of workersList) {
        const rssFile = join(work, 'rss');
        const started = performance.now();
        const res = spawnSync(process.execPath, ['--import', join(here, 'report-rss.mjs'), join(root, 'dist', 'cli', 'main.js'), input, '--format', format, '--out', join(work, format), '--json', ...(w === 'default' ? [] : ['--workers', w])],
          { env: { ...process.env, BENCH_RSS_FILE: rssFile }, encoding: 'utf8', maxBuffer: 1 << 24 });
        const seconds = (performance.now() - started) / 1000;
        if (res.status !== 0) throw new Error(`stream run failed: ${res.stderr}`);
        const exp = JSON.parse(res.stdout);
        const rate = streamRows / seconds;
        if (w === '1') one = rate;
        say(`| ${format} | ${workersLabel(w)} | ${seconds.toFixed(1)} | ${int(rate)} | ${mb(exp.size)} | ${mb(Number(readFileSync(rssFile, 'utf8')))} | ${w === '1' ? '—' : ratio(rate, one)} |`);
        rmSync(join(work, format), { recursive: true, force: true });
      }
    }
    rmSync(work, { recursive: true, force: true });
  }
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
