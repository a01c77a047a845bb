// The deterministic 9-column benchmark table (issue #2), generated batch by batch straight into
// Arrow buffers: id int64 sequential; small int32 0..100; big int64 < 2^40 (5% null); price
// float64 (5% null); flag bool (2% null); category one of 20 words; name 5–30 chars (1% null;
// some with commas, quotes, newlines, é, 漢); day date32 2000–2030; ts timestamp[us].
import {
  Bool, DateDay, Field, Float64, Int32, Int64, RecordBatch, Schema, Struct, TimestampMicrosecond, Utf8, makeData,
} from 'apache-arrow';

export const SCHEMA = new Schema([
  new Field('id', new Int64(), false),
  new Field('small', new Int32(), false),
  new Field('big', new Int64(), true),
  new Field('price', new Float64(), true),
  new Field('flag', new Bool(), true),
  new Field('category', new Utf8(), false),
  new Field('name', new Utf8(), true),
  new Field('day', new DateDay(), false),
  new Field('ts', new TimestampMicrosecond(), false),
]);

const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet',
  'kilo', 'lima', 'mike', 'november', 'oscar', 'papa', 'quebec', 'romeo', 'sierra', 'tango'];
const PIECES = ['Ann', 'Bo', 'Chloé', 'Dmitri', 'Eve', 'Farid', 'Guo 漢', 'Hana', 'Ivo', 'Jo, Jr.', 'Kai "K"', 'Lu\nLine', 'Mo', 'Noé'];
const encoder = new TextEncoder();
const WORD_BYTES = WORDS.map((w) => encoder.encode(w));
const DAY_2000 = 10957; // 2000-01-01
const DAYS = 11323; // to 2030-12-31
const TS_2000 = 946684800000000n;

/** mulberry32: small, fast and deterministic. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function bitmap(n, rand, nullRate) {
  const bits = new Uint8Array(((n + 63) >> 6) << 3);
  let nulls = 0;
  for (let i = 0; i < n; i++) {
    if (rand() < nullRate) nulls++;
    else bits[i >> 3] |= 1 << (i & 7);
  }
  return { bits, nulls };
}

function utf8Column(strings, validity) {
  const parts = strings.map((s) => (typeof s === 'string' ? encoder.encode(s) : s));
  const offsets = new Int32Array(parts.length + 1);
  let total = 0;
  parts.forEach((p, i) => { offsets[i] = total; total += p.length; });
  offsets[parts.length] = total;
  const bytes = new Uint8Array(total);
  parts.forEach((p, i) => bytes.set(p, offsets[i]));
  return makeData({ type: new Utf8(), length: parts.length, nullCount: validity?.nulls ?? 0, nullBitmap: validity?.bits, valueOffsets: offsets, data: bytes });
}

export function makeBatch(start, n, seed = start + 1) {
  const rand = prng(seed);
  const id = new BigInt64Array(n);
  const small = new Int32Array(n);
  const big = new BigInt64Array(n);
  const price = new Float64Array(n);
  const flags = new Uint8Array(((n + 63) >> 6) << 3);
  const category = new Array(n);
  const names = new Array(n);
  const day = new Int32Array(n);
  const ts = new BigInt64Array(n);
  const bigValid = bitmap(n, rand, 0.05);
  const priceValid = bitmap(n, rand, 0.05);
  const flagValid = bitmap(n, rand, 0.02);
  const nameValid = bitmap(n, rand, 0.01);
  for (let i = 0; i < n; i++) {
    id[i] = BigInt(start + i);
    small[i] = Math.floor(rand() * 101);
    big[i] = BigInt(Math.floor(rand() * 2 ** 40));
    price[i] = Math.round(rand() * 1e7) / 100;
    if (rand() < 0.5) flags[i >> 3] |= 1 << (i & 7);
    category[i] = WORD_BYTES[Math.floor(rand() * 20)];
    let name = '';
    const len = 5 + Math.floor(rand() * 26);
    while (name.length < len) name += PIECES[Math.floor(rand() * PIECES.length)] + ' ';
    names[i] = name.slice(0, len);
    day[i] = DAY_2000 + Math.floor(rand() * DAYS);
    ts[i] = TS_2000 + BigInt(Math.floor(rand() * 9.5e14));
  }
  const children = [
    makeData({ type: new Int64(), length: n, nullCount: 0, data: id }),
    makeData({ type: new Int32(), length: n, nullCount: 0, data: small }),
    makeData({ type: new Int64(), length: n, nullCount: bigValid.nulls, nullBitmap: bigValid.bits, data: big }),
    makeData({ type: new Float64(), length: n, nullCount: priceValid.nulls, nullBitmap: priceValid.bits, data: price }),
    makeData({ type: new Bool(), length: n, nullCount: flagValid.nulls, nullBitmap: flagValid.bits, data: flags }),
    utf8Column(category, null),
    utf8Column(names, nameValid),
    makeData({ type: new DateDay(), length: n, nullCount: 0, data: day }),
    makeData({ type: new TimestampMicrosecond(), length: n, nullCount: 0, data: ts }),
  ];
  return new RecordBatch(SCHEMA, makeData({ type: new Struct(SCHEMA.fields), length: n, nullCount: 0, children }));
}

/** Yields `rows` rows in batches of `batchSize`, generated lazily (memory O(batch)). */
export function* benchBatches(rows, batchSize = 65536) {
  for (let start = 0; start < rows; start += batchSize) yield makeBatch(start, Math.min(batchSize, rows - start));
}
