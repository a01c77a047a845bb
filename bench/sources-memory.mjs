// Memory check for the streaming source adapters (run by hand, not part of npm test):
//   node --import tsx bench/sources-memory.mjs [rows=5000000]
// Writes a large table (id int64, x float64, s utf8) to os.tmpdir() as an Arrow IPC stream
// (.arrows), an Arrow IPC file (.arrow, written by arrow-js) and a Parquet file (parquet-wasm,
// default row groups), then reads each back through fromIPC / fromParquet in a fresh process and
// prints that process's peak RSS next to the file size. A process that only loads the modules
// gives the baseline. Streaming holds if peak RSS stays far below the file size.
import { spawnSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import {
  Field, Float64, Int64, RecordBatch, RecordBatchFileWriter, RecordBatchStreamWriter, Schema, Struct, Table, Utf8,
  makeData, tableToIPC,
} from 'apache-arrow';
import { Table as WasmTable, WriterPropertiesBuilder, transformParquetStream } from 'parquet-wasm/node';
import { fromIPC, fromParquet } from '../src/sources/index.ts';

const BATCH = 65_536;
const SCHEMA = new Schema([new Field('id', new Int64(), false), new Field('x', new Float64(), false), new Field('s', new Utf8(), false)]);
const encoder = new TextEncoder();

function* generateBatches(rows) {
  for (let first = 0; first < rows; first += BATCH) {
    const n = Math.min(BATCH, rows - first);
    const ids = new BigInt64Array(n);
    const xs = new Float64Array(n);
    const offsets = new Int32Array(n + 1);
    const parts = [];
    let used = 0;
    for (let i = 0; i < n; i++) {
      ids[i] = BigInt(first + i);
      xs[i] = (first + i) / 7;
      const bytes = encoder.encode(`item-${first + i}-${(first + i) % 97}`);
      parts.push(bytes);
      used += bytes.byteLength;
      offsets[i + 1] = used;
    }
    const text = new Uint8Array(used);
    parts.reduce((at, p) => (text.set(p, at), at + p.byteLength), 0);
    const children = [
      makeData({ type: new Int64(), length: n, data: ids }),
      makeData({ type: new Float64(), length: n, data: xs }),
      makeData({ type: new Utf8(), length: n, valueOffsets: offsets, data: text }),
    ];
    yield new RecordBatch(SCHEMA, makeData({ type: new Struct(SCHEMA.fields), length: n, nullCount: 0, children }));
  }
}

/** Writes IPC bytes batch by batch, waiting for the disk (memory O(batch)). */
async function writeIPC(Writer, rows, path) {
  const out = createWriteStream(path);
  const writer = new Writer();
  // The writer is an async iterable of its bytes: pump them to the file while batches are written.
  const pump = (async () => { for await (const chunk of writer) if (!out.write(chunk)) await once(out, 'drain'); })();
  for (const batch of generateBatches(rows)) {
    writer.write(batch);
    await new Promise((resolve) => setImmediate(resolve)); // let the pump take this batch's bytes
    if (out.writableNeedDrain) await once(out, 'drain');
  }
  writer.close();
  await pump;
  out.end();
  await once(out, 'close');
}

/** Writes Parquet through parquet-wasm's streaming writer, one wasm batch at a time. */
async function writeParquetFile(rows, path) {
  const batches = generateBatches(rows);
  const input = new ReadableStream({
    pull(controller) {
      const next = batches.next();
      if (next.done) return controller.close();
      const wasm = WasmTable.fromIPCStream(tableToIPC(new Table([next.value]), 'stream'));
      controller.enqueue(wasm.recordBatch(0));
      wasm.free();
    },
  });
  const bytes = await transformParquetStream(input, new WriterPropertiesBuilder().build());
  const out = createWriteStream(path);
  for await (const chunk of bytes) if (!out.write(chunk)) await once(out, 'drain');
  out.end();
  await once(out, 'close');
}

async function readAll(kind, path) {
  const started = process.hrtime.bigint();
  const opened = await (kind === 'parquet' ? fromParquet(path) : fromIPC(path)).open();
  let rows = 0;
  let batches = 0;
  for await (const batch of opened.batches) {
    rows += batch.numRows;
    batches++;
  }
  await opened.close();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { rows, batches, numRows: opened.numRows, bytesRead: opened.bytesRead(), seconds };
}

const MB = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

async function main() {
  const [mode, kind, path] = process.argv.slice(2);
  if (mode === 'read') {
    const result = kind === 'baseline' ? {} : await readAll(kind, path);
    console.log(JSON.stringify({ ...result, maxRSS: process.resourceUsage().maxRSS * 1024 }));
    return;
  }
  if (mode === 'write') {
    const rows = Number(path);
    if (kind.endsWith('.arrows')) await writeIPC(RecordBatchStreamWriter, rows, kind);
    else if (kind.endsWith('.arrow')) await writeIPC(RecordBatchFileWriter, rows, kind);
    else await writeParquetFile(rows, kind);
    return;
  }
  const rows = Number(mode ?? 5_000_000);
  const dir = await mkdtemp(join(tmpdir(), 'tabular-export-bench-'));
  const self = fileURLToPath(import.meta.url);
  const run = (args) => {
    const child = spawnSync(process.execPath, [...process.execArgv, self, ...args], { encoding: 'utf8', maxBuffer: 1 << 20 });
    if (child.status !== 0) throw new Error(`${args.join(' ')} failed:\n${child.stderr}`);
    return child.stdout.trim();
  };
  try {
    const files = [['ipc-stream', join(dir, 't.arrows')], ['ipc-file', join(dir, 't.arrow')], ['parquet', join(dir, 't.parquet')]];
    for (const [, file] of files) run(['write', file, String(rows)]);
    const baseline = JSON.parse(run(['read', 'baseline'])).maxRSS;
    console.log(`rows ${rows}; baseline peak RSS (modules loaded, nothing read) ${MB(baseline)}`);
    for (const [kind, file] of files) {
      const size = (await stat(file)).size;
      const r = JSON.parse(run(['read', kind === 'parquet' ? 'parquet' : 'ipc', file]));
      console.log(`${kind.padEnd(10)} file ${MB(size).padStart(9)}  peak RSS ${MB(r.maxRSS).padStart(9)}  ` +
        `(+${MB(r.maxRSS - baseline)} over baseline)  rows ${r.rows}  batches ${r.batches}  ` +
        `numRows ${r.numRows}  bytesRead ${r.bytesRead}  ${r.seconds.toFixed(1)} s`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
