/**
 * The parallel parquet path (EncoderContext.workers > 1): row groups encoded by several workers
 * and stitched into one file under a footer of our own. Judged by pyarrow, DuckDB and polars
 * (test/readers/read_back.py), and against the single-threaded path value by value.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exportTable, fromBatches } from '../../src/index.js';
import type { ExportRequest } from '../../src/index.js';
import { ParquetEncodePool, parquetEncodePool, type JobOwner } from '../../src/formats/parquet/encode-pool.js';
import { encodeBatchIPC, makeEmptyBatch } from '../../src/formats/parquet/ipc-batches.js';
import { schemaMessageOf, writeIPCStream } from '../../src/formats/parquet/ipc-writer.js';
import { resolveParquetOptions } from '../../src/formats/parquet/options.js';
import { planWriterConfig } from '../../src/formats/parquet/writer-config.js';
import { schemaOfTable } from '../../src/table/arrow-types.js';
import { parquetEncoder } from '../../src/formats/parquet/index.js';
import { readPart } from '../../src/formats/parquet/stitch.js';
import { TType, ThriftReader, ThriftWriter, type ThriftStruct } from '../../src/formats/parquet/thrift.js';
import { defineFixture } from '../fixtures/build.js';
import { readdirOrEmpty } from '../helpers/batches.js';
import { MemorySink, saveSink } from '../helpers/memory-sink.js';
import { largeRandom } from '../fixtures/large-random.js';
import { mediumRandom, schemaTypes } from '../fixtures/tables.js';
import type { Fixture } from '../fixtures/tables.js';
import { expectSameValues, readBack } from '../helpers/readers.js';
import type { ReadBack } from '../helpers/readers.js';

const execFileAsync = promisify(execFile);
const root = mkdtempSync(join(tmpdir(), 'parquet-parallel-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

type PyarrowReadBack = ReadBack & { metadata: { row_groups: number[]; num_rows: number; columns: Record<string, { arrow_type: string }> }[] };

async function exportWith(fixture: Fixture, dir: string, request: Partial<ExportRequest> = {}): Promise<string[]> {
  const out = join(root, dir);
  const done = await exportTable(fromBatches(fixture.batches), { format: 'parquet', out, table: fixture.table, ...request } as ExportRequest);
  expect(done.status, done.errorMessage ?? '').toBe('completed');
  return done.files.map((f) => f.path as string);
}

/** The footer (FileMetaData) bytes of a Parquet file. */
function footerOf(bytes: Uint8Array): Uint8Array {
  const length = new DataView(bytes.buffer, bytes.byteOffset + bytes.length - 8, 4).getUint32(0, true);
  return bytes.subarray(bytes.length - 8 - length, bytes.length - 8);
}

describe('Thrift compact protocol', () => {
  it('reads and writes real footers back to the same bytes (one-thread and stitched files)', async () => {
    const [single] = await exportWith(mediumRandom, 'thrift-w1', { workers: 1, parquet: { rowGroupSize: 700 } });
    const [stitched] = await exportWith(mediumRandom, 'thrift-w2', { workers: 2, parquet: { rowGroupSize: 700 } });
    for (const path of [single, stitched]) {
      const footer = footerOf(readFileSync(path));
      const reader = new ThriftReader(footer);
      const meta = reader.readStruct();
      expect(reader.offset).toBe(footer.length);
      const writer = new ThriftWriter();
      writer.writeStruct(meta);
      expect(Buffer.from(writer.finish()).equals(Buffer.from(footer)), path).toBe(true);
    }
  }, 120_000);

  it('round-trips every type: bool fields and lists, i8, i16, i32, i64 extremes, double, binary, nested structs, maps, long field ids', () => {
    const struct: ThriftStruct = {
      fields: [
        { id: 1, type: TType.True, value: true },
        { id: 2, type: TType.False, value: false },
        { id: 3, type: TType.Byte, value: -128 },
        { id: 4, type: TType.I16, value: -32768 },
        { id: 5, type: TType.I32, value: 2147483647 },
        { id: 6, type: TType.I64, value: -(2n ** 63n) },
        { id: 7, type: TType.I64, value: 2n ** 63n - 1n },
        { id: 8, type: TType.Double, value: -0.1 },
        { id: 9, type: TType.Binary, value: new Uint8Array([0, 255, 1]) },
        { id: 10, type: TType.List, value: { elementType: TType.True, items: [{ type: TType.True, value: true }, { type: TType.False, value: false }] } },
        { id: 11, type: TType.List, value: { elementType: TType.I32, items: Array.from({ length: 20 }, (_, i) => ({ type: TType.I32, value: i - 10 })) } },
        { id: 12, type: TType.Struct, value: { fields: [{ id: 40, type: TType.I16, value: 7 }, { id: 2, type: TType.Binary, value: new Uint8Array() }] } },
        { id: 13, type: TType.Map, value: { keyType: TType.Binary, valueType: TType.I64, entries: [[{ type: TType.Binary, value: new Uint8Array([97]) }, { type: TType.I64, value: 5n }]] } },
        { id: 14, type: TType.List, value: { elementType: TType.Struct, items: [] } },
        { id: 300, type: TType.Set, value: { elementType: TType.Double, items: [{ type: TType.Double, value: Number.NaN }] } },
      ],
    };
    const writer = new ThriftWriter();
    writer.writeStruct(struct);
    const bytes = writer.finish().slice();
    const back = new ThriftReader(bytes).readStruct();
    expect(back).toEqual(struct);
    const again = new ThriftWriter();
    again.writeStruct(back);
    expect(Buffer.from(again.finish()).equals(Buffer.from(bytes))).toBe(true);
  });

  it('refuses a damaged footer instead of reading past its end', () => {
    const writer = new ThriftWriter();
    writer.writeStruct({ fields: [{ id: 1, type: TType.Binary, value: new Uint8Array(10) }] });
    const bytes = writer.finish().slice(0, 5);
    expect(() => new ThriftReader(bytes).readStruct()).toThrow(/past the end/);
  });
});

// The tests of the stitched parquet-wasm path that depend on how it works (its encodings, its
// encoding pool) ask for zstd: since the hand-written writer (parquet-writer.test.ts) took
// snappy, gzip and none, zstd is what that path writes.
describe('parallel parquet (workers 2)', () => {
  it('several row groups, stitched: pyarrow, DuckDB and polars read the source back, schema and all', async () => {
    const [path] = await exportWith(mediumRandom, 'stitched', { workers: 2, parquet: { rowGroupSize: 600 } });
    const types = schemaTypes(mediumRandom);
    const arrow = await readBack('pyarrow', 'parquet', [path], types) as PyarrowReadBack;
    expect(arrow.metadata[0].row_groups).toEqual([...Array(8).fill(600), 200]);
    expectSameValues(arrow, mediumRandom);
    const single = await readBack('pyarrow', 'parquet', await exportWith(mediumRandom, 'stitched-w1', { workers: 1, parquet: { rowGroupSize: 600 } }), types) as PyarrowReadBack;
    // The Arrow schema (ARROW:schema: timestamp units, field metadata) is the one-thread file's.
    expect(arrow.dtypes).toEqual(single.dtypes);
    expect(arrow.metadata[0].columns).toMatchObject(Object.fromEntries(Object.entries(single.metadata[0].columns)
      .map(([name, c]) => [name, { arrow_type: c.arrow_type }])));
    expectSameValues(await readBack('duckdb', 'parquet', [path], types), mediumRandom);
    const polars = await readBack('polars', 'parquet', [path], types);
    expect(polars.rows).toBe(mediumRandom.table.numRows ?? 5000);
    for (const v of mediumRandom.table.variables) expect(polars.values[v.name], v.name).toEqual(arrow.values[v.name]);
  }, 180_000);

  it('workers 1 and 2 give the same values, row by row, with the default row groups', async () => {
    const types = schemaTypes(largeRandom);
    const one = await readBack('pyarrow', 'parquet', await exportWith(largeRandom, 'same-w1', { workers: 1 }), types);
    const two = await readBack('pyarrow', 'parquet', await exportWith(largeRandom, 'same-w2', { workers: 2 }), types);
    expect(two.dtypes).toEqual(one.dtypes);
    expect(two.values).toEqual(one.values);
  }, 180_000);

  it('applies per-column encodings by name, whatever the name (delta for integers, dictionary for repetitive text)', async () => {
    const names = ['a.b', 'with space', 'ünïcödé 列', 'quote"d', 'a'];
    const rows = 600;
    const fixture = defineFixture('odd_names', names.map((name, i) => ({ name, type: i % 2 === 0 ? 'string' as const : 'integer' as const })),
      Object.fromEntries(names.map((name, i) => [name, Array.from({ length: rows }, (_, r) => (i % 2 === 0 ? `v${r % 3}` : BigInt(r % 2)))])));
    const [path] = await exportWith(fixture, 'odd-names', { workers: 2, parquet: { rowGroupSize: 250, compression: 'zstd' } });
    const got = await readBack('pyarrow', 'parquet', [path], schemaTypes(fixture)) as ReadBack & {
      metadata: { columns: Record<string, { encodings: string[] }> }[];
    };
    expectSameValues(got, fixture);
    names.forEach((name, i) => expect(got.metadata[0].columns[name].encodings, name).toContain(i % 2 === 0 ? 'RLE_DICTIONARY' : 'DELTA_BINARY_PACKED'));
    // Dictionary pages in every row group, shifted with them: DuckDB and polars read them too.
    expectSameValues(await readBack('duckdb', 'parquet', [path], schemaTypes(fixture)), fixture);
    const polars = await readBack('polars', 'parquet', [path], schemaTypes(fixture));
    for (const name of names) expect(polars.values[name], name).toEqual(got.values[name]);
  }, 60_000);

  it('an empty table gives a file with every column and no row group', async () => {
    const sink = new MemorySink();
    const file = await parquetEncoder.prepare(mediumRandom.table, {}, { workers: 2 }).beginFile(sink);
    await file.endFile();
    const path = saveSink(sink, join(root, 'empty.parquet'));
    const got = await readBack('pyarrow', 'parquet', [path], schemaTypes(mediumRandom)) as PyarrowReadBack;
    expect(got.rows).toBe(0);
    expect(got.metadata[0].row_groups).toEqual([]);
    expect(got.columns).toEqual(mediumRandom.table.variables.map((v) => v.name));
  }, 60_000);

  it('keeps at most `workers` row groups out (backpressure), counts them in bufferedRows, writes them in order', async () => {
    const sink = new MemorySink();
    const file = await parquetEncoder.prepare(largeRandom.table, { rowGroupSize: 500, compression: 'zstd' }, { workers: 2 }).beginFile(sink);
    let row = 0;
    for (const batch of largeRandom.batches) {
      await file.writeBatch(batch, row);
      row += batch.numRows;
      const buffered = file.bufferedRows?.() ?? 0;
      expect(buffered).toBeLessThan(2 * 500 + 500); // 2 workers' groups and the one being gathered
      expect(buffered).toBeLessThanOrEqual(row);
    }
    await file.endFile();
    const path = saveSink(sink, join(root, 'ordered.parquet'));
    const part = readPart(new Uint8Array(readFileSync(path)));
    expect(part.groups.length).toBe(80);
    expectSameValues(await readBack('pyarrow', 'parquet', [path], schemaTypes(largeRandom)), largeRandom);
  }, 120_000);

  it('split by maxFileSize: standalone parts, each read back, together the source', async () => {
    const limit = 2 ** 20;
    const paths = await exportWith(largeRandom, 'split', { workers: 2, maxFileSize: limit, parquet: { rowGroupSize: 300 } });
    expect(paths.length).toBeGreaterThan(2);
    for (const p of paths) expect(readFileSync(p).length, p).toBeLessThanOrEqual(1.05 * limit);
    const got = await readBack('pyarrow', 'parquet', paths, schemaTypes(largeRandom)) as PyarrowReadBack;
    expectSameValues(got, largeRandom, { partRows: got.metadata.map((m) => m.num_rows) });
    expectSameValues(await readBack('duckdb', 'parquet', paths, schemaTypes(largeRandom)), largeRandom);
  }, 180_000);

  it('a cancel mid-export leaves no file, frees the workers within 1 s, and the next export works', async () => {
    const out = join(root, 'cancelled');
    const controller = new AbortController();
    let delivered = 0;
    async function* slowBatches() {
      for (const batch of largeRandom.batches) {
        delivered += 1;
        if (delivered === 6) controller.abort();
        yield batch;
      }
    }
    const done = await exportTable(fromBatches(slowBatches()), { format: 'parquet', out, table: largeRandom.table, workers: 2, signal: controller.signal, parquet: { rowGroupSize: 1000, compression: 'zstd' } });
    expect(done.status).toBe('cancelled');
    expect(readdirOrEmpty(out)).toEqual([]);
    const deadline = Date.now() + 1000;
    while (parquetEncodePool().busy > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(parquetEncodePool().busy).toBe(0);
    await exportWith(mediumRandom, 'after-cancel', { workers: 2, parquet: { rowGroupSize: 1000, compression: 'zstd' } });
  }, 120_000);

  it('a worker that dies fails the export with a parquet error; the next export starts new workers', async () => {
    const pool = parquetEncodePool();
    let killed = false;
    async function* batches() {
      let row = 0;
      for (const batch of largeRandom.batches) {
        row += batch.numRows;
        if (!killed && row > 5000 && pool.busy > 0) {
          killed = true;
          await pool.terminate();
        }
        yield batch;
      }
    }
    const out = join(root, 'crashed');
    const done = await exportTable(fromBatches(batches()), { format: 'parquet', out, table: largeRandom.table, workers: 2, parquet: { rowGroupSize: 1000, compression: 'zstd' } });
    expect(killed).toBe(true);
    expect(done.status).toBe('failed');
    expect(done.errorMessage).toMatch(/^parquet.*the Parquet worker exited/);
    expect(readdirOrEmpty(out)).toEqual([]);
    const [path] = await exportWith(mediumRandom, 'after-crash', { workers: 2, parquet: { rowGroupSize: 1000, compression: 'zstd' } });
    expectSameValues(await readBack('pyarrow', 'parquet', [path], schemaTypes(mediumRandom)), mediumRandom);
  }, 120_000);
});

describe('parallel parquet workers and the process', () => {
  it('a file runs at most its own `workers` jobs at once, even when the pool has more workers', async () => {
    const pool = new ParquetEncodePool();
    const schema = schemaOfTable(mediumRandom.table);
    const message = schemaMessageOf(encodeBatchIPC(makeEmptyBatch(schema), schema));
    const config = planWriterConfig(mediumRandom.table, resolveParquetOptions({}), []);
    const submit = (owner: JobOwner) => pool.encode(writeIPCStream(message, [mediumRandom.batches[0]], null), config, owner);
    const wide: JobOwner = { threads: 3, running: 0 };
    await Promise.all([submit(wide), submit(wide), submit(wide)].map((j) => j.done));
    expect(pool.size).toBe(3);
    const narrow: JobOwner = { threads: 2, running: 0 };
    const jobs = [submit(narrow), submit(narrow), submit(narrow), submit(narrow)];
    expect(pool.busy).toBe(2);
    const parts = await Promise.all(jobs.map((j) => j.done));
    expect(narrow.running).toBe(0);
    for (const part of parts) expect(readPart(part.bytes).groups.length).toBe(1);
    await pool.terminate();
  }, 60_000);

  it('idle workers do not keep a process alive: it exits by itself after an export', async () => {
    const script = join(root, 'exits.mts');
    const index = new URL('../../src/index.ts', import.meta.url).href;
    writeFileSync(script, [
      `import { exportTable, fromRows } from ${JSON.stringify(index)};`,
      "const rows = Array.from({ length: 3000 }, (_, i) => ({ id: BigInt(i), note: 'n' + (i % 7) }));",
      "const table = { name: 't', variables: [{ name: 'id', type: 'integer' }, { name: 'note', type: 'string' }] };",
      `const done = await exportTable(fromRows(rows, table), { format: 'parquet', out: ${JSON.stringify(join(root, 'exits'))}, workers: 2, parquet: { rowGroupSize: 500 } });`,
      "console.log(done.status);",
    ].join('\n'));
    const started = Date.now();
    const { stdout } = await execFileAsync(process.execPath, ['--import', 'tsx', script], { timeout: 60_000 });
    expect(stdout.trim()).toBe('completed');
    expect(Date.now() - started).toBeLessThan(60_000);
  }, 90_000);
});
