// `npm run bench:cli`: the whole CLI process against DuckDB, pyarrow and polars on the same table
// (issue #12's comparison). Makes once, cached in the temp directory, a 5,000,000-row Arrow IPC
// *file* of the benchmark table (bench/table.mjs; timestamps without a zone), reads it once so it
// sits in the page cache, then in one run, alternating, --runs times each:
//
//   - ours: `node dist/cli/main.js <file> --format <f> --out <tmpdir> --json` with the default
//     workers and with `--workers 1`, timed from spawn to exit; peak RSS (VmHWM) of the process,
//     its worker threads included, through bench/report-rss.mjs;
//   - the peers writing the same table from memory (bench/reference.py --serve, one Python process
//     single-threaded and one with all cores, each holding the table, read before any timing):
//     DuckDB COPY TO csv/json/parquet from its own in-memory table, pyarrow write_csv and
//     pq.write_table, polars write_csv/write_ndjson/write_parquet, and with --avro-peer polars
//     write_avro (deflate): left out by default, as it takes ~60 s a run at 5,000,000 rows here
//     (3.5 GB peak RSS), half the script's time with it.
//
// Prints the medians as markdown tables (seconds; ratios; rows/s and peak RSS with workers 1 and
// the default against issue #12's acceptance) and appends them, with the command, to
// bench/RESULTS.md.
//
//   node bench/cli-compare.mjs [--rows 5000000] [--runs 3] [--formats csv,jsonl,parquet,avro,dta,sav]
//                              [--peer-threads 1,all] [--no-peers] [--avro-peer] [--no-write]
//
// About 6 minutes at 5,000,000 rows and 3 runs on this 2-core machine under a load of 4–6 (12 with
// --avro-peer; --runs 5: about 10); the first run also writes the 361 MB input (~10 s). The
// machine is shared: at that load the runs of one job spread by up to 1.7×, so take the
// acceptance figures on a quiet machine, or with --runs 5.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createReadStream, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeBenchIPC } from './make-ipc.mjs';
import { sourceState } from './source-state.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');

const { values } = parseArgs({ options: {
  rows: { type: 'string', default: '5000000' },
  runs: { type: 'string', default: '3' },
  formats: { type: 'string', default: 'csv,jsonl,parquet,avro,dta,sav' },
  'peer-threads': { type: 'string', default: '1,all' },
  'no-peers': { type: 'boolean', default: false },
  'avro-peer': { type: 'boolean', default: false },
  'no-write': { type: 'boolean', default: false },
} });
const rows = Number(values.rows);
const runs = Number(values.runs);
const formats = values.formats.split(',').filter(Boolean);
const peerThreads = values['no-peers'] ? [] : values['peer-threads'].split(',').filter(Boolean);
for (const t of peerThreads) if (t !== '1' && t !== 'all') throw new Error(`--peer-threads: "${t}" is neither 1 nor all`);
const PEERS = ['DuckDB', 'pyarrow', 'polars'];
const PEER_FORMATS = ['csv', 'jsonl', 'parquet', ...(values['avro-peer'] ? ['avro'] : [])];
const cli = join(root, 'dist', 'cli', 'main.js');
const python = join(root, '.venv', 'bin', 'python');
if (!existsSync(cli)) throw new Error('bench: no dist/cli/main.js; run `npm run build` first');
if (peerThreads.length && !existsSync(python)) throw new Error('bench: no .venv for the peers; run `node scripts/setup-readers.mjs` or pass --no-peers');

const started = performance.now();
const log = (text) => console.error(`[${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${text}`);
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const mb = (b) => (b / 1e6).toFixed(0);
const int = (n) => Math.round(n).toLocaleString('en-US');
const secs = (s) => (s === undefined ? '—' : `${s.toFixed(2)} s`);
const load = () => loadavg().map((l) => l.toFixed(1)).join(' / ');

// The input: an Arrow IPC file, made once per row count (written under a temporary name first,
// so an interrupted run leaves no truncated cache behind).
const input = join(tmpdir(), `tabular-export-bench-${rows}.arrow`);
if (!existsSync(input)) {
  log(`writing ${input}`);
  const partial = `${input}.${process.pid}.partial`;
  await writeBenchIPC(rows, partial, { file: true });
  renameSync(partial, input);
}
for await (const _ of createReadStream(input, { highWaterMark: 1 << 22 })); // into the page cache
const work = mkdtempSync(join(tmpdir(), 'te-cli-compare-'));
const loadAtStart = load();

/** A reference.py --serve process: send a request, await its answer line. */
async function startPeers(threads) {
  const child = spawn(python, [join(here, 'reference.py'), input, '0', work, '--threads', threads, '--serve', '--formats', formats.filter((f) => PEER_FORMATS.includes(f)).join(',')],
    { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async () => {
    const { value, done } = await lines.next();
    if (done) throw new Error(`reference.py --threads ${threads} ended early (exit ${child.exitCode})`);
    return JSON.parse(value);
  };
  const ready = await next();
  return {
    threads, ready, writers: ready.writers,
    async write(writer, format) {
      child.stdin.write(`${JSON.stringify({ writer, format })}\n`);
      return next();
    },
    async close() { child.stdin.end(); if (child.exitCode === null) await once(child, 'exit'); },
  };
}

/** One whole CLI process; seconds from spawn to exit, peak RSS, output size. */
function runCli(format, workers) {
  const out = join(work, `out-${format}-${workers}`);
  const rssFile = join(work, 'rss');
  const args = ['--import', join(here, 'report-rss.mjs'), cli, input, '--format', format, '--out', out, '--json', ...(workers === 'default' ? [] : ['--workers', workers])];
  const t0 = performance.now();
  const res = spawnSync(process.execPath, args, { env: { ...process.env, BENCH_RSS_FILE: rssFile }, encoding: 'utf8', maxBuffer: 1 << 24 });
  const seconds = (performance.now() - t0) / 1000;
  if (res.status !== 0) throw new Error(`CLI ${format} --workers ${workers} failed (${res.status ?? res.signal}): ${res.stderr}`);
  const exp = JSON.parse(res.stdout);
  if (exp.status !== 'completed' || exp.table?.numRows !== rows) throw new Error(`CLI ${format}: ${exp.status}, ${exp.table?.numRows} rows`);
  const peakRss = Number(readFileSync(rssFile, 'utf8'));
  rmSync(out, { recursive: true, force: true });
  return { seconds, peakRss, size: exp.size };
}

const peers = [];
for (const threads of formats.some((f) => PEER_FORMATS.includes(f)) ? peerThreads : []) {
  log(`loading the table into reference.py --threads ${threads}`);
  peers.push(await startPeers(threads));
}
// One untimed run first: the first timed command, right after the peers have loaded the table,
// was 1.5–1.7× slower than in any later round in every full run of sessions 8 and 9 (csv with
// the default workers: 2.33–2.54 s, against 1.3–1.8 s in the other rounds).
log(`settling: one untimed ${formats[0]} run`);
runCli(formats[0], 'default');
const peerInfo = peers.map((p) => `${p.threads === '1' ? 'single-threaded' : 'all cores'}: ${Object.entries(p.ready.threadCounts).map(([k, v]) => `${k} ${v}`).join(', ')}`).join('; ');

// Jobs per format; each round runs them all, starting one further along each time, so no job
// always follows the same one.
/** results: key → [{ seconds, peakRss, size }] */
const results = new Map();
const add = (key, r) => { if (!results.has(key)) results.set(key, []); results.get(key).push(r); };
for (let round = 0; round < runs; round++) {
  for (const format of formats) {
    const jobs = [
      { key: `ours ${format} default`, run: async () => runCli(format, 'default') },
      { key: `ours ${format} 1`, run: async () => runCli(format, '1') },
    ];
    for (const p of peers) {
      for (const { writer, format: f } of p.writers) {
        if (f !== format) continue;
        jobs.push({ key: `${writer} ${format} ${p.threads}`, run: async () => p.write(writer, format) });
      }
    }
    for (let i = 0; i < jobs.length; i++) {
      const job = jobs[(i + round) % jobs.length];
      const r = await job.run();
      add(job.key, r);
      log(`round ${round + 1}/${runs} ${job.key}: ${r.seconds.toFixed(2)} s, peak RSS ${mb(r.peakRss)} MB`);
    }
  }
}
for (const p of peers) await p.close();
rmSync(work, { recursive: true, force: true });

const med = (key) => (results.has(key) ? median(results.get(key).map((r) => r.seconds)) : undefined);
const medRss = (key) => (results.has(key) ? median(results.get(key).map((r) => r.peakRss)) : undefined);
const range = (key) => { const xs = results.get(key).map((r) => r.seconds); return `${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}`; };
const columns = [];
for (const threads of peerThreads) {
  for (const writer of PEERS) {
    if (formats.some((f) => results.has(`${writer} ${f} ${threads}`))) columns.push({ writer, threads, label: `${writer} ${threads === '1' ? (writer === 'pyarrow' ? '1 CPU' : '1 thread') : 'all cores'}` });
  }
}
const defaults = peers.find((p) => p.threads === 'all')?.ready.threadCounts.polars;
const lines = [];
const say = (line = '') => { console.log(line); lines.push(line); };
const args = process.argv.slice(2).map((a) => (/[\s"';{}]/.test(a) ? `'${a}'` : a)).join(' ');

say(`## CLI against DuckDB, pyarrow and polars, ${rows.toLocaleString('en-US')} rows (${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC)`);
say();
say(`Command: \`npm run build && node bench/cli-compare.mjs${args ? ` ${args}` : ''}\` (node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${sourceState()}). Load average (1 / 5 / 15 min) at the start ${loadAtStart}, at the end ${load()}.`);
say();
say(`The ${rows.toLocaleString('en-US')}-row benchmark table (bench/table.mjs: 9 columns, timestamps without a zone) as an Arrow IPC file of ${mb(statSync(input).size)} MB in the page cache. Ours: the whole CLI process, \`node dist/cli/main.js <file> --format <f> --out <dir>\`, with the default workers and with \`--workers 1\`. Peers: writing the same table from memory (read before timing; bench/reference.py), one Python process single-threaded and one with every library's defaults (${peerInfo || 'none'}); DuckDB from its own in-memory table (jsonl: \`FORMAT json\`), pyarrow \`write_csv\` / \`pq.write_table\`, polars \`write_csv\` / \`write_ndjson\` / \`write_parquet\`${PEER_FORMATS.includes('avro') ? ' / \`write_avro\`' : ''}; parquet snappy${PEER_FORMATS.includes('avro') ? ', avro deflate' : ''}, as ours. Median of ${runs} runs each, alternating in one run. —: the peer writes no such format${PEER_FORMATS.includes('avro') ? '' : ' (or, for avro, was not run: polars only with --avro-peer)'}.`);
say();
// Rows as cells joined by ' | ' (no empty trailing cell when there are no peers).
const row = (cells) => `| ${cells.join(' | ')} |`;
say(row(['format', 'tabular-export CLI (default workers)', 'CLI --workers 1', ...columns.map((c) => c.label)]));
say(row(['---', '---', '---', ...columns.map(() => '---')]));
for (const f of formats) {
  say(row([f, secs(med(`ours ${f} default`)), secs(med(`ours ${f} 1`)), ...columns.map((c) => secs(med(`${c.writer} ${f} ${c.threads}`)))]));
}
if (columns.length) {
  say();
  say('Ours with the default workers against each peer: peer seconds over ours (above 1: ours is faster).');
  say();
  say(`| format | ${columns.map((c) => c.label).join(' | ')} |`);
  say(`|---|${columns.map(() => '---|').join('')}`);
  for (const f of formats) {
    const o = med(`ours ${f} default`);
    if (!columns.some((c) => results.has(`${c.writer} ${f} ${c.threads}`))) continue;
    say(`| ${f} | ${columns.map((c) => { const p = med(`${c.writer} ${f} ${c.threads}`); return p === undefined ? '—' : `${(p / o).toFixed(2)}×`; }).join(' | ')} |`);
  }
}
say();
say(`Ours, workers 1 against the default${defaults ? ` (${defaults} here)` : ''}: rows/s of the whole CLI process (median; the range of seconds beside it), peak RSS (median of the runs' VmHWM), and issue #12's acceptance — avro, dta and sav ≥ 1.4× their \`--workers 1\` rate; csv, jsonl and parquet with the default workers faster than DuckDB single-threaded and pyarrow single-threaded.`);
say();
say('| format | workers 1 rows/s (s) | default rows/s (s) | default / workers 1 | peak RSS MB, workers 1 | peak RSS MB, default | output MB | acceptance |');
say('|---|---|---|---|---|---|---|---|');
for (const f of formats) {
  const one = med(`ours ${f} 1`);
  const def = med(`ours ${f} default`);
  const speedup = one / def;
  let verdict;
  if (['avro', 'dta', 'sav'].includes(f)) verdict = `${speedup >= 1.4 ? 'met' : 'not met'} (≥ 1.40×)`;
  else {
    const bars = [['DuckDB', '1'], ['pyarrow', '1']].map(([w, t]) => [w, med(`${w} ${f} ${t}`)]).filter(([, s]) => s !== undefined);
    verdict = bars.length === 0 ? '— (no peer run)' : `${bars.every(([, s]) => def < s) ? 'met' : 'not met'} (${bars.map(([w, s]) => `${w} 1: ${s.toFixed(2)} s`).join(', ')})`;
  }
  const size = results.get(`ours ${f} default`)[0].size;
  say(`| ${f} | ${int(rows / one)} (${range(`ours ${f} 1`)}) | ${int(rows / def)} (${range(`ours ${f} default`)}) | ${speedup.toFixed(2)}× | ${mb(medRss(`ours ${f} 1`))} | ${mb(medRss(`ours ${f} default`))} | ${mb(size)} | ${verdict} |`);
}
if (peers.length) {
  say();
  say(`Peers' output MB and peak RSS MB of their Python process (table held in pyarrow, DuckDB and polars forms; ready at ${peers.map((p) => `${mb(p.ready.rss)} MB ${p.threads === '1' ? 'single-threaded' : 'all cores'}`).join(', ')}): ${columns.flatMap((c) => formats.filter((f) => results.has(`${c.writer} ${f} ${c.threads}`)).map((f) => `${c.label} ${f} ${mb(results.get(`${c.writer} ${f} ${c.threads}`)[0].size)} / ${mb(medRss(`${c.writer} ${f} ${c.threads}`))}`)).join('; ')}.`);
}
say();
const total = (performance.now() - started) / 1000;
log(`done in ${total.toFixed(0)} s`);
if (!values['no-write']) {
  const file = join(here, 'RESULTS.md');
  const text = readFileSync(file, 'utf8');
  writeFileSync(file, `${text.replace(/\n*$/, '\n')}\n${lines.join('\n')}`);
}
