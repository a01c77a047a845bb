#!/usr/bin/env node
// Generates fixtures/sample/survey.arrow: the bundled sample table used by `npm start` and the
// README. An Arrow IPC *file*, 1,000 rows of made-up survey answers covering the 8 platform
// types, with the platform's field metadata (label, description, valueLabels, type: geography).
// Deterministic (seeded PRNG): running it again gives the same bytes.
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  Bool, DateDay, Field, Float64, Int64, RecordBatch, Schema, Struct, Table, TimeMicrosecond, TimestampMicrosecond,
  Utf8, makeData, tableToIPC,
} from 'apache-arrow';

const ROWS = 1000;
const out = fileURLToPath(new URL('../fixtures/sample/survey.arrow', import.meta.url));

let seed = 20240607;
function random() { // mulberry32
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const int = (lo, hi) => lo + Math.floor(random() * (hi - lo + 1));
const pick = (items) => items[int(0, items.length - 1)];
const maybeNull = (p, make) => (random() < p ? null : make());

const REGIONS = [
  { code: 1, name: 'North', lon: [-3.5, -1.0], lat: [54.0, 57.5] },
  { code: 2, name: 'South', lon: [-4.5, 0.5], lat: [50.2, 51.5] },
  { code: 3, name: 'East', lon: [0.0, 1.7], lat: [51.6, 53.0] },
  { code: 4, name: 'West', lon: [-5.5, -2.5], lat: [51.3, 53.4] },
];
const COMMENTS = [
  'Very satisfied, would recommend.', 'Service was slow; staff friendly.', 'N/A', 'NA', '',
  'Café staff were great — merci!', 'Prices too high, quality OK, parking "impossible".',
  'Line one\nline two of a longer answer', '非常满意', 'とても良かったです', 'Sehr gut, danke schön.',
  'Great 👍👍', 'Não gostei, demorou muito.', 'Ça va, sans plus.', 'Tab\tseparated thoughts',
  'Would answer again, 10/10', 'Too many questions, sorry', 'Ok', 'null',
];

const DAY_2024_01_01 = 19723;
const MICROS_PER_SECOND = 1_000_000n;

const rows = Array.from({ length: ROWS }, (_, i) => {
  const region = pick(REGIONS);
  const day = DAY_2024_01_01 + int(0, 181);
  const startSeconds = int(8 * 3600, 20 * 3600);
  return {
    respondent_id: BigInt(100001 + i),
    age: maybeNull(0.03, () => BigInt(int(18, 90))),
    income: maybeNull(0.12, () => Math.round(Math.exp(10 + random() * 1.6) * 100) / 100),
    consent: maybeNull(0.02, () => random() < 0.93),
    interview_date: day,
    started_at: BigInt(day) * 86400n * MICROS_PER_SECOND + BigInt(startSeconds) * MICROS_PER_SECOND + BigInt(int(0, 999_999)),
    duration: maybeNull(0.05, () => BigInt(int(5 * 60, 90 * 60)) * MICROS_PER_SECOND),
    region_code: maybeNull(0.01, () => BigInt(region.code)),
    region: region.name,
    comment: maybeNull(0.25, () => pick(COMMENTS)),
    location: maybeNull(0.04, () => {
      const lon = region.lon[0] + random() * (region.lon[1] - region.lon[0]);
      const lat = region.lat[0] + random() * (region.lat[1] - region.lat[0]);
      return `POINT (${lon.toFixed(5)} ${lat.toFixed(5)})`;
    }),
  };
});

const VALUE_LABELS = JSON.stringify(REGIONS.map((r) => ({ value: String(r.code), label: r.name })));
const COLUMNS = [
  ['respondent_id', new Int64(), 'Respondent ID', 'Unique identifier assigned at recruitment.'],
  ['age', new Int64(), 'Age in years', 'Self-reported age at the interview date.'],
  ['income', new Float64(), 'Annual household income (GBP)', 'Before tax; null when the respondent declined.'],
  ['consent', new Bool(), 'Consent to recontact', 'Whether the respondent agreed to a follow-up.'],
  ['interview_date', new DateDay(), 'Interview date', 'Calendar date of the interview.'],
  ['started_at', new TimestampMicrosecond(), 'Interview start', 'Local civil time the interview started.'],
  ['duration', new TimeMicrosecond(), 'Interview length (hh:mm:ss)', 'Time from first to last answer.'],
  ['region_code', new Int64(), 'Region code', 'Sampling region; see value labels.', { valueLabels: VALUE_LABELS }],
  ['region', new Utf8(), 'Region name', 'Name of the sampling region.'],
  ['comment', new Utf8(), 'Open comment', 'Free-text answer to "Anything else?".'],
  ['location', new Utf8(), 'Interview location', 'Approximate location, WKT in EPSG:4326.', { type: 'geography' }],
];

function bitmap(values, isSet) {
  const bits = new Uint8Array(Math.ceil(values.length / 8));
  values.forEach((v, i) => { if (isSet(v)) bits[i >> 3] |= 1 << (i & 7); });
  return bits;
}

function columnData(type, values) {
  const nullCount = values.filter((v) => v === null).length;
  const base = { type, length: values.length, nullCount, nullBitmap: nullCount ? bitmap(values, (v) => v !== null) : undefined };
  if (type instanceof Utf8) {
    const bytes = values.map((v) => new TextEncoder().encode(v ?? ''));
    const valueOffsets = new Int32Array(values.length + 1);
    bytes.forEach((b, i) => { valueOffsets[i + 1] = valueOffsets[i] + b.length; });
    const data = new Uint8Array(valueOffsets[values.length]);
    bytes.forEach((b, i) => data.set(b, valueOffsets[i]));
    return makeData({ ...base, valueOffsets, data });
  }
  if (type instanceof Bool) return makeData({ ...base, data: bitmap(values, (v) => v === true) });
  if (type instanceof Float64) return makeData({ ...base, data: Float64Array.from(values, (v) => v ?? 0) });
  if (type instanceof DateDay) return makeData({ ...base, data: Int32Array.from(values, (v) => v ?? 0) });
  return makeData({ ...base, data: BigInt64Array.from(values, (v) => v ?? 0n) }); // int64, timestamp, time
}

const fields = COLUMNS.map(([name, type, label, description, extra = {}]) =>
  new Field(name, type, true, new Map(Object.entries({ label, description, ...extra }))));
const schema = new Schema(fields, new Map([['description', 'Made-up customer survey, 1,000 respondents (sample data).']]));
const children = COLUMNS.map(([name, type]) => columnData(type, rows.map((r) => r[name])));
const batch = new RecordBatch(schema, makeData({ type: new Struct(fields), length: ROWS, nullCount: 0, children }));
const bytes = tableToIPC(new Table([batch]), 'file');

mkdirSync(new URL('../fixtures/sample/', import.meta.url), { recursive: true });
writeFileSync(out, bytes);
console.log(`make-sample: wrote ${out} (${ROWS} rows, ${bytes.length} bytes)`);
