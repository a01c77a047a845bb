// The HTTP acceptance measure of issue #6: an export of the benchmark table created and downloaded
// over loopback through `tabular-export serve` (dist/: run `npm run build` first). The server runs
// in its own process, as in production; this process is the client: it POSTs, polls, then
// downloads every part in parallel, checking each part's MD5 against Content-Digest.
// Prints, per format: the time from POST to completed, the download time and throughput, and the
// time from POST to the last byte.
//
//   node bench/make-ipc.mjs 1000000 /tmp/bench1m.arrows      # once (made here too when missing)
//   node bench/http.mjs [--input /tmp/bench1m.arrows] [--rows 1000000] [--formats csv,parquet]
//                       [--poll-ms 50] [--no-verify]
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { get } from 'node:http';
import { copyFile, link, mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeBenchIPC } from './make-ipc.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(root, 'dist', 'cli', 'main.js');
const { values } = parseArgs({ options: {
  input: { type: 'string' },
  rows: { type: 'string', default: '1000000' },
  formats: { type: 'string', default: 'csv,parquet' },
  'poll-ms': { type: 'string', default: '50' },
  'no-verify': { type: 'boolean', default: false },
} });
const rows = Number(values.rows);
const pollMs = Number(values['poll-ms']);
const input = values.input ?? join(tmpdir(), `bench${rows === 1_000_000 ? '1m' : rows}.arrows`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const seconds = (ms) => (ms / 1000).toFixed(2);

if (!existsSync(CLI)) { console.error(`${CLI} is missing: run "npm run build" first`); process.exit(2); }
if (!existsSync(input)) { console.log(`writing ${input} (${rows} rows)…`); await writeBenchIPC(rows, input); }

const work = await mkdtemp(join(tmpdir(), 'te-http-bench-'));
const tables = join(work, 'tables');
await mkdir(tables);
// A hard link when the temp dir is on the same file system (symbolic links are not tables).
await link(input, join(tables, 'bench.arrows')).catch(() => copyFile(input, join(tables, 'bench.arrows')));

const server = spawn(process.execPath, [CLI, 'serve', '--tables', tables, '--data', join(work, 'data'), '--port', '0', '--concurrency', '1'], { stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise((resolve, reject) => {
  let out = '';
  server.stdout.on('data', (d) => { out += d; const m = /listening on (\S+)/.exec(out); if (m) resolve(m[1]); });
  server.on('exit', (code) => reject(new Error(`the server exited with ${code}`)));
});

async function api(method, path, body) {
  const res = await fetch(url + path, { method, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, json: await res.json() };
}

/**
 * Streams one part to nowhere, hashing it as a client that verifies would. node:http rather
 * than fetch: fetch's web streams cost more CPU per byte than the server does (measured), so they
 * would time the client.
 */
function downloadPart(id, part) {
  return new Promise((resolve, reject) => {
    const req = get(`${url}/exports/${id}/download?filePart=${part}`, (res) => {
      if (res.statusCode !== 200) { reject(new Error(`part ${part}: HTTP ${res.statusCode}`)); res.resume(); return; }
      const hash = values['no-verify'] ? null : createHash('md5');
      let bytes = 0;
      res.on('data', (chunk) => { bytes += chunk.byteLength; hash?.update(chunk); });
      res.on('error', reject);
      res.on('end', () => {
        if (bytes !== Number(res.headers['content-length'])) reject(new Error(`part ${part}: ${bytes} bytes, Content-Length ${res.headers['content-length']}`));
        else if (hash && `md5=:${hash.digest('base64')}:` !== res.headers['content-digest']) reject(new Error(`part ${part}: MD5 differs from Content-Digest`));
        else resolve(bytes);
      });
    });
    req.on('error', reject);
  });
}

const inputMB = (await stat(input)).size / 1e6;
console.log(`node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}; input ${input} (${rows.toLocaleString('en-US')} rows, ${inputMB.toFixed(0)} MB Arrow IPC stream); poll every ${pollMs} ms; MD5 ${values['no-verify'] ? 'not checked' : 'checked'}`);
console.log('');
console.log('| format | parts | size MB | POST → completed s | download s | download MB/s | POST → last byte s | rows/s end to end |');
console.log('|---|---|---|---|---|---|---|---|');
try {
  for (const format of values.formats.split(',')) {
    const t0 = performance.now();
    const created = await api('POST', '/tables/bench/exports', { format });
    if (created.status !== 200) { console.log(`| ${format} | ${created.json.error.message} |`); continue; }
    let exp = created.json;
    while (exp.status === 'queued' || exp.status === 'running') {
      await sleep(pollMs);
      exp = (await api('GET', `/exports/${exp.id}`)).json;
    }
    const t1 = performance.now();
    if (exp.status !== 'completed') { console.log(`| ${format} | ${exp.status}: ${exp.errorMessage} |`); continue; }
    // Real clients fetch the parts in parallel.
    const sizes = await Promise.all(Array.from({ length: exp.fileCount }, (_, part) => downloadPart(exp.id, part)));
    const t2 = performance.now();
    const size = sizes.reduce((a, b) => a + b, 0);
    console.log(`| ${format} | ${exp.fileCount} | ${(size / 1e6).toFixed(1)} | ${seconds(t1 - t0)} | ${seconds(t2 - t1)} | ${(size / 1e6 / ((t2 - t1) / 1000)).toFixed(0)} | ${seconds(t2 - t0)} | ${Math.round(rows / ((t2 - t0) / 1000)).toLocaleString('en-US')} |`);
  }
} finally {
  server.kill('SIGTERM');
  await new Promise((resolve) => server.once('exit', resolve));
  await rm(work, { recursive: true, force: true });
}
