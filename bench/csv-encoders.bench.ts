/**
 * csv and jsonl encoders vs fast-csv on the 9-column table of the performance bar
 * (200,000 rows, generated deterministically). Run: `npx tsx bench/csv-encoders.bench.ts`
 * (optional arguments: a row count; `--quick` to time only this library's encoders with a plain
 * loop, for iterating on them). Prints rows/s and MB/s (output bytes) per task, median of samples.
 *
 * fast-csv needs row objects; building them from the Arrow columns is measured as its own
 * task (built as cheaply as we know: straight from the typed arrays, never Vector.get), and
 * the fast-csv task formats prebuilt objects, so its figure excludes that cost.
 */
import {
  Bool, DateDay, Field, Float64, Int64, RecordBatch, Schema, Struct, TimestampMicrosecond, Utf8, makeData, type Data,
} from 'apache-arrow';
import { format } from 'fast-csv';
import { Bench } from 'tinybench';
import { csvEncoder } from '../src/formats/csv/index.js';
import { jsonlEncoder } from '../src/formats/jsonl/index.js';
import type { ByteSink, FormatEncoder } from '../src/formats/protocol.js';
import type { Table } from '../src/table/types.js';

const QUICK = process.argv.includes('--quick');
const ROWS = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 200_000);
const BATCH_ROWS = 20_000;

/** mulberry32: small, fast, deterministic. */
function makeRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'eps', 'zeta', 'eta', 'theta', 'iota', 'kappa',
  'lambda', 'mu', 'nu', 'xi', 'omicron', 'pi', 'rho', 'sigma', 'tau', 'upsilon'];
const NAME_CHARS = 'abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const DAY_2000 = 10957;
const DAYS_2000_2030 = 10958;

const TABLE: Table = {
  name: 'bench',
  variables: [
    { name: 'id', type: 'integer' }, { name: 'small', type: 'integer' }, { name: 'big', type: 'integer' },
    { name: 'price', type: 'float' }, { name: 'flag', type: 'boolean' }, { name: 'category', type: 'string' },
    { name: 'name', type: 'string' }, { name: 'day', type: 'date' }, { name: 'ts', type: 'dateTime' },
  ],
};
const TYPES = [new Int64(), new Int64(), new Int64(), new Float64(), new Bool(), new Utf8(), new Utf8(), new DateDay(), new TimestampMicrosecond()];
const SCHEMA = new Schema(TABLE.variables.map((v, i) => new Field(v.name, TYPES[i], true)));

function makeName(random: () => number): string {
  let s = '';
  const length = 5 + Math.floor(random() * 26);
  for (let i = 0; i < length; i++) s += NAME_CHARS[Math.floor(random() * NAME_CHARS.length)];
  const r = random();
  if (r < 0.05) s = `${s.slice(0, 3)},${s.slice(3)}`;
  else if (r < 0.08) s = `${s.slice(0, 3)}"${s.slice(3)}"`;
  else if (r < 0.09) s = `${s.slice(0, 3)}\n${s.slice(3)}`;
  else if (r < 0.15) s = `${s.slice(0, 4)}é`;
  else if (r < 0.18) s = `漢${s.slice(1)}`;
  return s;
}

/** A validity bitmap with a null where `isNull` says, and the null count. */
function makeValidity(n: number, isNull: (i: number) => boolean): { nullBitmap: Uint8Array; nullCount: number } {
  const nullBitmap = new Uint8Array(((n + 63) >> 6) << 3);
  let nullCount = 0;
  for (let i = 0; i < n; i++) {
    if (isNull(i)) nullCount++;
    else nullBitmap[i >> 3] |= 1 << (i & 7);
  }
  return { nullBitmap, nullCount };
}

function makeUtf8(values: (string | null)[]): Data<Utf8> {
  const encoder = new TextEncoder();
  const chunks = values.map((v) => encoder.encode(v ?? ''));
  const valueOffsets = new Int32Array(values.length + 1);
  chunks.forEach((c, i) => { valueOffsets[i + 1] = valueOffsets[i] + c.length; });
  const data = new Uint8Array(valueOffsets[values.length]);
  chunks.forEach((c, i) => data.set(c, valueOffsets[i]));
  const validity = makeValidity(values.length, (i) => values[i] === null);
  return makeData({ type: new Utf8(), length: values.length, ...validity, valueOffsets, data });
}

function makeBatch(start: number, n: number, random: () => number): RecordBatch {
  const id = BigInt64Array.from({ length: n }, (_, i) => BigInt(start + i));
  const small = BigInt64Array.from({ length: n }, () => BigInt(Math.floor(random() * 101)));
  const big = BigInt64Array.from({ length: n }, () => BigInt(Math.floor(random() * 2 ** 40)));
  const price = Float64Array.from({ length: n }, () => Math.round(random() * 100_000_00) / 100);
  const flags = new Uint8Array(((n + 63) >> 6) << 3);
  for (let i = 0; i < n; i++) if (random() < 0.5) flags[i >> 3] |= 1 << (i & 7);
  const day = Int32Array.from({ length: n }, () => DAY_2000 + Math.floor(random() * DAYS_2000_2030));
  const ts = BigInt64Array.from({ length: n }, () => BigInt(DAY_2000 * 86_400_000_000 + Math.floor(random() * DAYS_2000_2030 * 86_400_000_000)));
  const nulls = (rate: number) => makeValidity(n, () => random() < rate);
  const children: Data[] = [
    makeData({ type: new Int64(), length: n, nullCount: 0, data: id }),
    makeData({ type: new Int64(), length: n, nullCount: 0, data: small }),
    makeData({ type: new Int64(), length: n, ...nulls(0.05), data: big }),
    makeData({ type: new Float64(), length: n, ...nulls(0.05), data: price }),
    makeData({ type: new Bool(), length: n, ...nulls(0.02), data: flags }),
    makeUtf8(Array.from({ length: n }, () => WORDS[Math.floor(random() * WORDS.length)])),
    makeUtf8(Array.from({ length: n }, () => (random() < 0.01 ? null : makeName(random)))),
    makeData({ type: new DateDay(), length: n, nullCount: 0, data: day }),
    makeData({ type: new TimestampMicrosecond(), length: n, nullCount: 0, data: ts }),
  ];
  return new RecordBatch(SCHEMA, makeData({ type: new Struct(SCHEMA.fields), length: n, nullCount: 0, children }));
}

function makeBatches(): RecordBatch[] {
  const random = makeRandom(42);
  const batches: RecordBatch[] = [];
  for (let start = 0; start < ROWS; start += BATCH_ROWS) batches.push(makeBatch(start, Math.min(BATCH_ROWS, ROWS - start), random));
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
