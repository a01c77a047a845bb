/**
 * csv and jsonl encoders vs fast-csv on the 9-column benchmark table of bench/table.mjs
 * (its first 200,000 rows). Run: `npx tsx bench/csv-encoders.bench.ts`
 * (optional arguments: a row count; `--quick` to time only this library's encoders with a plain
 * loop, for iterating on them). Prints rows/s and MB/s (output bytes) per task, median of samples.
 *
 * fast-csv needs row objects; building them from the Arrow columns is measured as its own
 * task (built as cheaply as we know: straight from the typed arrays, never Vector.get), and
 * the fast-csv task formats prebuilt objects, so its figure excludes that cost.
 */
import type { Data, RecordBatch } from 'apache-arrow';
import { format } from 'fast-csv';
import { Bench } from 'tinybench';
import { csvEncoder } from '../src/formats/csv/index.js';
import { jsonlEncoder } from '../src/formats/jsonl/index.js';
import type { ByteSink, FormatEncoder } from '../src/formats/protocol.js';
import { tableFromSchema } from '../src/table/arrow-types.js';
import { bindSchema } from '../src/table/normalize.js';
import type { Table } from '../src/table/types.js';
// @ts-expect-error: a plain ES module without type declarations
import { SCHEMA, benchBatches } from './table.mjs';

const QUICK = process.argv.includes('--quick');
const ROWS = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 200_000);
const BATCH_ROWS = 20_000;

/** The benchmark table's definition (bench/table.mjs), as the pipeline derives it from the schema. */
const TABLE: Table = tableFromSchema(SCHEMA, 'bench', null);

/**
 * The rows of the benchmark table (bench/table.mjs), normalized to the canonical layouts the
 * encoders take (its `small` column is int32), as the pipeline does before encoding: not timed.
 */
function makeBatches(): RecordBatch[] {
  const normalize = bindSchema(TABLE, SCHEMA, 0);
  const batches: RecordBatch[] = [];
  let row = 0;
  for (const batch of benchBatches(ROWS, BATCH_ROWS) as Iterable<RecordBatch>) {
    batches.push(normalize(batch, row));
    row += batch.numRows;
  }
  return batches;
}

/** Counts bytes and drops them (unless asked to keep them), so the figures are the encoder's alone. */
class CountingSink implements ByteSink {
  bytesWritten = 0;
  constructor(private readonly keep?: Uint8Array[]) {}
  async write(bytes: Uint8Array): Promise<void> {
    this.bytesWritten += bytes.length;
    this.keep?.push(bytes);
  }
}

async function runEncoder<O>(encoder: FormatEncoder<O>, options: O, batches: RecordBatch[], keep?: Uint8Array[]): Promise<number> {
  const sink = new CountingSink(keep);
  const file = await encoder.prepare(TABLE, options).beginFile(sink);
  let row = 0;
  for (const b of batches) {
    await file.writeBatch(b, row);
    row += b.numRows;
  }
  await file.endFile();
  return sink.bytesWritten;
}

type Row = Record<string, string | number | boolean | null>;

function isValid(data: Data, i: number): boolean {
  const bitmap = data.nullBitmap;
  if (data.nullCount === 0 || !bitmap || bitmap.length === 0) return true;
  const bit = data.offset + i;
  return ((bitmap[bit >> 3] >> (bit & 7)) & 1) === 1;
}

const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n));

/** Row objects for fast-csv from the typed arrays; ISO text for the date/time columns, cached per day. */
function buildRows(batches: RecordBatch[]): Row[] {
  const dayText = new Map<number, string>();
  const dateOf = (days: number): string => {
    let text = dayText.get(days);
    if (text === undefined) {
      text = new Date(days * 86_400_000).toISOString().slice(0, 10);
      dayText.set(days, text);
    }
    return text;
  };
  const decoder = new TextDecoder();
  const rows: Row[] = [];
  for (const batch of batches) {
    const [id, small, big, price, flag, category, name, day, ts] = batch.data.children;
    const ints = [id.values, small.values, big.values] as BigInt64Array[];
    const utf = (d: Data, i: number): string => decoder.decode((d.values as Uint8Array).subarray(d.valueOffsets[i], d.valueOffsets[i + 1]));
    for (let i = 0; i < batch.numRows; i++) {
      const us = Number((ts.values as BigInt64Array)[i]);
      const days = Math.floor(us / 86_400_000_000);
      const rest = us - days * 86_400_000_000;
      const secs = Math.floor(rest / 1e6);
      const frac = rest - secs * 1e6;
      const time = `${pad2(Math.floor(secs / 3600))}:${pad2(Math.floor(secs / 60) % 60)}:${pad2(secs % 60)}${frac ? `.${String(frac).padStart(6, '0')}` : ''}`;
      const bit = flag.offset + i;
      rows.push({
        id: Number(ints[0][i]),
        small: Number(ints[1][i]),
        big: isValid(big, i) ? Number(ints[2][i]) : null,
        price: isValid(price, i) ? (price.values as Float64Array)[i] : null,
        flag: isValid(flag, i) ? (((flag.values as Uint8Array)[bit >> 3] >> (bit & 7)) & 1) === 1 : null,
        category: utf(category, i),
        name: isValid(name, i) ? utf(name, i) : null,
        day: dateOf((day.values as Int32Array)[i]),
        ts: `${dateOf(days)}T${time}`,
      });
    }
  }
  return rows;
}

/** fast-csv's output of the rows; `keep` collects the chunks (to compare), else only counted. */
async function runFastCsv(rows: Row[], keep?: Buffer[]): Promise<number> {
  const stream = format<Row, Row>({ headers: TABLE.variables.map((v) => v.name), includeEndRowDelimiter: true });
  let bytes = 0;
  const done = new Promise<void>((resolve, reject) => {
    stream.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      keep?.push(chunk);
    });
    stream.on('end', resolve);
    stream.on('error', reject);
  });
  for (const row of rows) stream.write(row);
  stream.end();
  await done;
  return bytes;
}

/**
 * Fastest and median CPU time (user + system) of `runs` alternating runs of each of this
 * library's encoders: on a shared machine the fastest run is the steadiest figure for
 * comparing two versions of the code.
 */
async function timeOurs(batches: RecordBatch[], runs: number): Promise<void> {
  const times: Record<string, number[]> = { csv: [], jsonl: [] };
  for (let r = 0; r < runs; r++) {
    for (const [name, encoder] of [['csv', csvEncoder], ['jsonl', jsonlEncoder]] as const) {
      const t = process.cpuUsage();
      await runEncoder<object>(encoder as FormatEncoder<object>, {}, batches);
      const used = process.cpuUsage(t);
      times[name].push((used.user + used.system) / 1000);
    }
  }
  for (const [name, list] of Object.entries(times)) {
    list.sort((a, b) => a - b);
    const rate = (ms: number): string => Math.round(ROWS / (ms / 1000)).toLocaleString('en-US');
    console.log(`${name.padEnd(6)} fastest ${list[0].toFixed(1)} ms CPU (${rate(list[0])} rows/s), median ${list[list.length >> 1].toFixed(1)} ms (${rate(list[list.length >> 1])} rows/s)`);
  }
}

async function main(): Promise<void> {
  const batches = makeBatches();
  if (QUICK) return timeOurs(batches, 15);
  let rows: Row[] = buildRows(batches);
  // Same table, same text: the comparison is only fair if both write the same bytes.
  const ours: Uint8Array[] = [];
  const theirs: Buffer[] = [];
  const bytes: Record<string, number> = {
    'csv (this library)': await runEncoder(csvEncoder, {}, batches, ours),
    'jsonl (this library)': await runEncoder(jsonlEncoder, {}, batches),
    'fast-csv format() of prebuilt rows': await runFastCsv(rows, theirs),
    'build row objects for fast-csv': 0,
  };
  const same = Buffer.concat(ours).equals(Buffer.concat(theirs));
  // At least 10 samples of each, and 2 s of the fast ones (fast-csv takes over a second a run).
  const bench = new Bench({ time: 2000, iterations: 10, warmup: true, warmupTime: 500, warmupIterations: 2 });
  bench
    .add('csv (this library)', async () => { await runEncoder(csvEncoder, {}, batches); })
    .add('jsonl (this library)', async () => { await runEncoder(jsonlEncoder, {}, batches); })
    .add('fast-csv format() of prebuilt rows', async () => { await runFastCsv(rows); })
    .add('build row objects for fast-csv', () => { rows = buildRows(batches); });
  await bench.run();
  console.log(`${ROWS} rows, 9 columns, node ${process.version}; csv ${(bytes['csv (this library)'] / 1e6).toFixed(1)} MB ` +
    `(${same ? 'byte-identical to' : 'DIFFERS from'} fast-csv's), jsonl ${(bytes['jsonl (this library)'] / 1e6).toFixed(1)} MB`);
  const medians: Record<string, number> = {};
  for (const task of bench.tasks) {
    const result = task.result;
    if (result.state !== 'completed') {
      console.log(`${task.name}: ${result.state}`);
      continue;
    }
    medians[task.name] = result.latency.p50;
    console.log(`${task.name.padEnd(36)} ${describeRate(result.latency.p50, bytes[task.name])}  (median of ${result.latency.samplesCount} runs)`);
  }
  const fastCsv = medians['fast-csv format() of prebuilt rows'] + medians['build row objects for fast-csv'];
  console.log(`${'fast-csv including building the rows'.padEnd(36)} ${describeRate(fastCsv, bytes['fast-csv format() of prebuilt rows'])}  (sum of the two medians)`);
}

function describeRate(ms: number, outputBytes: number): string {
  const seconds = ms / 1000;
  const rate = Math.round(ROWS / seconds).toLocaleString('en-US').padStart(10);
  const mb = outputBytes ? `${(outputBytes / 1e6 / seconds).toFixed(1).padStart(6)} MB/s` : ''.padStart(11);
  return `${ms.toFixed(1).padStart(8)} ms  ${rate} rows/s  ${mb}`;
}

await main();
