/**
 * Valid files to damage, and where their length fields are. The IPC files come from arrow-js
 * (stream, and file with the schema only in the footer) and from pyarrow (file and stream with
 * LZ4 and ZSTD bodies), the Parquet files from parquet-wasm (the library's encoder) and pyarrow, so
 * the damage lands in bytes laid out by more than one writer.
 */
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  Bool, DateDay, Dictionary, Float64, Int32, Int64, Message, MessageHeader, RecordBatchFileWriter, RecordBatchStreamWriter, Table,
  TimestampMicrosecond, Utf8, vectorFromArray,
} from 'apache-arrow';
import type { RecordBatch } from 'apache-arrow';
import { Table as WasmTable, WriterPropertiesBuilder, writeParquet } from 'parquet-wasm/node';
import { VENV_PYTHON } from '../helpers/readers.js';

export interface Fixture {
  readonly name: string;
  readonly kind: 'ipc' | 'parquet';
  readonly bytes: Uint8Array;
}

/** Batches of every type a table carries, nulls included: `count` batches of `rows` rows, sharing one dictionary. */
export function fixtureBatches(count: number, rows: number): RecordBatch[] {
  const words = ['alpha', 'beta', 'gamma', 'δέλτα', '😀'];
  const ids = Array.from({ length: count * rows }, (_, i) => i);
  const nullEvery = (k: number) => <T>(v: T, i: number): T | null => (i % k === 0 ? null : v);
  const whole = new Table({
    i32: vectorFromArray(ids.map((v) => v * 7 - 300).map(nullEvery(5)), new Int32()),
    i64: vectorFromArray(ids.map((v) => BigInt(v) * 1_000_000_007n), new Int64()),
    f: vectorFromArray(ids.map((v) => v / 8).map(nullEvery(3)), new Float64()),
    b: vectorFromArray(ids.map((v) => v % 3 === 0).map(nullEvery(4)), new Bool()),
    s: vectorFromArray(ids.map((v) => `${words[v % 5]} ${v}`).map(nullEvery(6)), new Utf8()),
    d: vectorFromArray(ids.map((v) => new Date(Date.UTC(2000, 0, 1 + v))), new DateDay()),
    t: vectorFromArray(ids.map((v) => 946_684_800_000 + v * 1000), new TimestampMicrosecond()),
    cat: vectorFromArray(ids.map((v) => words[v % 3]).map(nullEvery(7)), new Dictionary(new Utf8(), new Int32())),
  }).batches[0];
  return Array.from({ length: count }, (_, b) => whole.slice(b * rows, (b + 1) * rows));
}

function python(code: string, ...args: string[]): void {
  const run = spawnSync(VENV_PYTHON, ['-c', code, ...args], { encoding: 'utf8' });
  if (run.error) throw run.error;
  if (run.status !== 0) throw new Error(`python failed: ${run.stderr}`);
}

/** pyarrow rewrites an IPC stream as an IPC file or stream with compressed bodies, or as Parquet. */
const REWRITE = `
import sys, pyarrow as pa, pyarrow.ipc as ipc, pyarrow.parquet as pq
src, dst, kind, codec = sys.argv[1:5]
table = ipc.open_stream(pa.memory_map(src)).read_all()
if kind == 'parquet':
    pq.write_table(table, dst, row_group_size=150, compression=codec)
else:
    new = ipc.new_file if kind == 'file' else ipc.new_stream
    with new(dst, table.schema, options=ipc.IpcWriteOptions(compression=codec)) as writer:
        for batch in table.to_batches(max_chunksize=100):
            writer.write_batch(batch)
`;

/** Every fixture, written under `dir`. */
export async function makeFixtures(dir: string): Promise<Fixture[]> {
  const batches = fixtureBatches(4, 100);
  const stream = RecordBatchStreamWriter.writeAll(batches).toUint8Array(true);
  const file = RecordBatchFileWriter.writeAll(batches).toUint8Array(true);
  const plain = join(dir, 'plain.arrows');
  await writeFile(plain, stream);
  const fixtures: Fixture[] = [
    { name: 'arrow-js stream', kind: 'ipc', bytes: stream },
    { name: 'arrow-js file', kind: 'ipc', bytes: file },
  ];
  const rewrites = [['file', 'lz4', 'arrow'], ['stream', 'zstd', 'arrows'], ['file', 'zstd', 'arrow'], ['stream', 'lz4', 'arrows'], ['parquet', 'zstd', 'parquet']];
  for (const [kind, codec, ext] of rewrites) {
    const path = join(dir, `pyarrow-${kind}-${codec}.${ext}`);
    python(REWRITE, plain, path, kind, codec);
    fixtures.push({ name: `pyarrow ${kind} ${codec}`, kind: kind === 'parquet' ? 'parquet' : 'ipc', bytes: new Uint8Array(await readFile(path)) });
  }
  // parquet-wasm's writer, which the library's parquet encoder drives, with row groups of 150 rows.
  const wasmTable = WasmTable.fromIPCStream(stream);
  const written = writeParquet(wasmTable, new WriterPropertiesBuilder().setMaxRowGroupSize(150).build());
  fixtures.push({ name: 'parquet-wasm parquet', kind: 'parquet', bytes: written });
  return fixtures;
}

/** A length or offset field of a valid IPC file: where it is, its width, what it is. */
export interface LengthField {
  readonly at: number;
  readonly size: 4 | 8;
  readonly what: string;
  /** For a body length: the value that sends a reader back to the first message (the hang). */
  readonly rewind?: bigint;
}

/** Reads flatbuffer fields by vtable slot (enough of the format to find the fields; the file is valid). */
class Flat {
  private readonly view: DataView;
  constructor(readonly bytes: Uint8Array, readonly base: number) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  root(): number {
    return this.base + this.view.getUint32(this.base, true);
  }

  /** The position of a field of the table at `table`, or null when absent. */
  field(table: number, slot: number): number | null {
    const vtable = table - this.view.getInt32(table, true);
    const entry = 4 + 2 * slot;
    if (entry >= this.view.getUint16(vtable, true)) return null;
    const at = this.view.getUint16(vtable + entry, true);
    return at === 0 ? null : table + at;
  }

  deref(pos: number): number {
    return pos + this.view.getUint32(pos, true);
  }

  u32(pos: number): number {
    return this.view.getUint32(pos, true);
  }
}

/** The record batch fields of the table at `batch`: its length, node and buffer vectors and their elements. */
function batchFields(flat: Flat, batch: number, out: LengthField[], bodyStart: number, compressed: boolean): void {
  const length = flat.field(batch, 0);
  if (length !== null) out.push({ at: length, size: 8, what: 'batch length' });
  for (const [slot, what] of [[1, 'node'], [2, 'buffer']] as const) {
    const vectorField = flat.field(batch, slot);
    if (vectorField === null) continue;
    const vector = flat.deref(vectorField);
    out.push({ at: vector, size: 4, what: `${what} count` });
    for (let i = 0; i < flat.u32(vector); i++) {
      const element = vector + 4 + 16 * i;
      out.push({ at: element, size: 8, what: `${what} ${slot === 1 ? 'length' : 'offset'}` });
      out.push({ at: element + 8, size: 8, what: `${what} ${slot === 1 ? 'null count' : 'length'}` });
      if (slot === 2 && compressed) {
        const offset = Number(new DataView(flat.bytes.buffer, flat.bytes.byteOffset).getBigInt64(element, true));
        const len = Number(new DataView(flat.bytes.buffer, flat.bytes.byteOffset).getBigInt64(element + 8, true));
        if (len >= 8) out.push({ at: bodyStart + offset, size: 8, what: 'uncompressed length' });
      }
    }
  }
}

/** Every length field of a valid IPC stream or file: prefixes, body lengths, batch headers, footer. */
export function ipcLengthFields(bytes: Uint8Array): LengthField[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const isFile = bytes[0] === 0x41 && bytes[5] === 0x31;
  const out: LengthField[] = [];
  const end = isFile ? bytes.byteLength - 10 - view.getInt32(bytes.byteLength - 10, true) : bytes.byteLength;
  let pos = isFile ? 8 : 0;
  while (pos + 8 <= end) {
    const length = view.getInt32(pos + 4, true);
    out.push({ at: pos + 4, size: 4, what: 'metadata length' });
    if (length === 0) break;
    const flat = new Flat(bytes, pos + 8);
    const message = flat.root();
    const bodyField = flat.field(message, 3);
    const body = bodyField === null ? 0 : Number(view.getBigInt64(bodyField, true));
    const headerType = bytes[flat.field(message, 1) ?? 0];
    const headerField = flat.field(message, 2);
    const bodyStart = pos + 8 + length;
    if (bodyField !== null) out.push({ at: bodyField, size: 8, what: 'body length', rewind: -BigInt(bodyStart - (isFile ? 8 : 0)) });
    if (headerField !== null && headerType !== 1) {
      let batch = flat.deref(headerField);
      if (headerType === 2) batch = flat.deref(flat.field(batch, 1) ?? batch); // DictionaryBatch.data
      batchFields(flat, batch, out, bodyStart, flat.field(batch, 3) !== null);
    }
    pos = bodyStart + body;
  }
  if (isFile) {
    out.push({ at: bytes.byteLength - 10, size: 4, what: 'footer length' });
    const flat = new Flat(bytes, end);
    const footer = flat.root();
    for (const slot of [2, 3]) {
      const field = flat.field(footer, slot);
      if (field === null) continue;
      const vector = flat.deref(field);
      out.push({ at: vector, size: 4, what: 'block count' });
      for (let i = 0; i < flat.u32(vector); i++) {
        const block = vector + 4 + 24 * i;
        out.push({ at: block, size: 8, what: 'block offset' }, { at: block + 8, size: 4, what: 'block metadata length' },
          { at: block + 16, size: 8, what: 'block body length' });
      }
    }
  }
  return out;
}

/** A message of a valid IPC input: where it and its body are, and its buffers (offsets in the body). */
export interface MessageInfo {
  readonly at: number;
  readonly bodyStart: number;
  readonly bodyLength: number;
  readonly headerType: MessageHeader;
  readonly buffers: readonly { offset: number; length: number }[];
}

/** The messages of a valid IPC stream or file (its stream part), in order, up to the end-of-stream marker. */
export function messagesOf(bytes: Uint8Array): MessageInfo[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const isFile = bytes[0] === 0x41 && bytes[5] === 0x31;
  const out: MessageInfo[] = [];
  let pos = isFile ? 8 : 0;
  for (;;) {
    const length = view.getInt32(pos + 4, true);
    if (length === 0) return out;
    const message = Message.decode(bytes.subarray(pos + 8, pos + 8 + length));
    const header = message.headerType === MessageHeader.RecordBatch ? message.header() as { buffers: MessageInfo['buffers'] }
      : message.headerType === MessageHeader.DictionaryBatch ? (message.header() as { data: { buffers: MessageInfo['buffers'] } }).data : null;
    out.push({ at: pos, bodyStart: pos + 8 + length, bodyLength: message.bodyLength, headerType: message.headerType, buffers: header?.buffers ?? [] });
    pos += 8 + length + message.bodyLength;
  }
}
