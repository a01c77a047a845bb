/**
 * Round trips of every fixture through the avro encoder, every codec, via the public exportTable
 * API, judged by fastavro (test/readers/read_back.py), never by the library's own code. The
 * reader checks the Avro types and logical types against DESIGN.md and, for snappy, each block's
 * CRC. A missing reader fails the tests.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exportTable, fromBatches } from '../../src/index.js';
import { expectSameWithOneWorker } from '../helpers/workers.js';
import type { AvroOptions, ExportRequest } from '../../src/index.js';
import type { Fixture } from '../fixtures/tables.js';
import { defineFixture, makeBatches, type SourceValue } from '../fixtures/build.js';
import { ALL_FIXTURES, mediumRandom, schemaTypes, unevenBatches } from '../fixtures/tables.js';
import { READERS_BY_FORMAT, expectReadBackMatches, readBack } from '../helpers/readers.js';
import { largeRandom } from '../fixtures/large-random.js';

type Codec = NonNullable<AvroOptions['codec']>;
const CODECS: Codec[] = ['deflate', 'null', 'snappy'];
const SYNC = '0123456789abcdef0123456789abcdef';
const FIXED_SYNC = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);

interface LocalPart {
  name: string;
  path: string;
  size: number;
  rows: number;
}
type SplitOptions = Pick<ExportRequest, 'maxFileSize' | 'maxRowsPerFile'>;

const root = mkdtempSync(join(tmpdir(), 'roundtrip-avro-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function exportFixture(fixture: Fixture, dir: string, avro: AvroOptions, split: SplitOptions = {}): Promise<LocalPart[]> {
  // A fixed sync marker, so the export can be compared with its single-threaded twin.
  const request: ExportRequest = { format: 'avro', out: join(root, dir), table: fixture.table, avro: { syncMarker: FIXED_SYNC, ...avro }, workers: 2, ...split };
  const exported = await exportTable(fromBatches(fixture.batches), request);
  expect(exported.status, exported.errorMessage ?? '').toBe('completed');
  await expectSameWithOneWorker(() => fromBatches(fixture.batches), request, exported);
  const files = exported.files.map(({ path, ...rest }) => {
    if (path === null) throw new Error(`${rest.name} has no local path`);
    expect(statSync(path).size, `${rest.name} size`).toBe(rest.size);
    expect(createHash('md5').update(readFileSync(path)).digest('hex'), `${rest.name} md5`).toBe(rest.md5);
    return { ...rest, path };
  });
  expect(files.reduce((n, f) => n + f.rows, 0)).toBe(fixture.table.numRows);
  expect(exported.size).toBe(files.reduce((n, f) => n + f.size, 0));
  expect(exported.fileCount).toBe(files.length);
  return files;
}

/** Every reader of the format must exist: an empty list would pass vacuously. */
function avroReaders(): readonly string[] {
  const readers = READERS_BY_FORMAT.avro ?? [];
  expect(readers.length, 'READERS_BY_FORMAT.avro lists no reader').toBeGreaterThan(0);
  return readers;
}

describe.each(CODECS)('avro (%s) round trip, judged by fastavro', (codec) => {
  it.concurrent.each(ALL_FIXTURES.map((fixture) => ({ fixture, name: fixture.name })))('$name', async ({ fixture }) => {
    const files = await exportFixture(fixture, `${codec}-${fixture.name}`, { codec });
    expect(files.map((f) => basename(f.path))).toEqual([`${fixture.name}.avro`]);
    expect(readFileSync(files[0].path).subarray(0, 4)).toEqual(Buffer.from('Obj\x01', 'latin1'));
    for (const reader of avroReaders()) {
      await expectReadBackMatches(reader, 'avro', files.map((f) => f.path), fixture, { partRows: files.map((f) => f.rows) });
    }
  }, 180_000);

  it.concurrent('split by maxFileSize: every part is a standalone file with the same schema', async () => {
    // Small blocks, so the threshold is crossed many times (blocks span batches), at the
    // smallest maxFileSize allowed (1 MiB, issue #11; was 40 kB on mediumRandom), on a table
    // large enough for several parts (3 MB deflated).
    const limit = 2 ** 20;
    const files = await exportFixture(largeRandom, `${codec}-size`, { codec, blockRows: 200 }, { maxFileSize: limit });
    expect(files.length).toBeGreaterThan(2);
    // Parts are cut below the limit: by the rows' Arrow size until the first block is out (so
    // the first part may end early), then by the bytes per row of what is out.
    for (const f of files) expect(f.size, f.name).toBeLessThanOrEqual(limit);
    for (const f of files.slice(1, -1)) expect(f.size, f.name).toBeGreaterThan(0.85 * limit);
    const types = schemaTypes(largeRandom);
    for (const reader of avroReaders()) {
      let first = 0;
      for (const file of files) {
        const part = await readBack(reader, 'avro', [file.path], types);
        expect(part.rows, file.name).toBe(file.rows);
        expect(part.columns).toEqual(largeRandom.table.variables.map((v) => v.name));
        expect(part.dtypes).toEqual((await readBack(reader, 'avro', [files[0].path], types)).dtypes);
        for (const v of largeRandom.table.variables) {
          expect(part.values[v.name], `${file.name} ${v.name}`).toEqual(largeRandom.expected[v.name].slice(first, first + file.rows));
        }
        first += file.rows;
      }
      await expectReadBackMatches(reader, 'avro', files.map((f) => f.path), largeRandom, { partRows: files.map((f) => f.rows) });
    }
  }, 180_000);

  it.concurrent('split by maxRowsPerFile: parts hold exactly the rows asked for', async () => {
    const files = await exportFixture(mediumRandom, `${codec}-rows`, { codec }, { maxRowsPerFile: 1500 });
    expect(files.map((f) => f.rows)).toEqual([1500, 1500, 1500, 500]);
    for (const reader of avroReaders()) {
      await expectReadBackMatches(reader, 'avro', files.map((f) => f.path), mediumRandom, { partRows: files.map((f) => f.rows) });
    }
  }, 180_000);

  it.concurrent('blocks do not depend on batching: one batch and uneven batches (1, 7, 0, 250, 3) give the same bytes', async () => {
    const [many] = await exportFixture(unevenBatches, `${codec}-many`, { codec, syncMarker: SYNC, blockRows: 100 });
    const rows = unevenBatches.table.numRows ?? 0;
    const one: Fixture = { ...unevenBatches, batches: makeBatches(unevenBatches.table.variables, unevenBatches.values, [rows]) };
    const [single] = await exportFixture(one, `${codec}-one`, { codec, syncMarker: SYNC, blockRows: 100 });
    expect(readFileSync(single.path)).toEqual(readFileSync(many.path));
  }, 180_000);
});

it('renamed columns read back under their Avro names, with the renames reported', async () => {
  const fixture = defineFixture('2024 survey: wave 1', [
    { name: 'first name', type: 'string' }, { name: 'first_name', type: 'integer' }, { name: '2nd', type: 'float' },
    { name: 'naïve', type: 'boolean' }, { name: 'when?', type: 'dateTime' },
  ], {
    'first name': ['Ann', null], first_name: [1n, 2n], '2nd': [0.5, null], 'naïve': [true, false], 'when?': ['2024-01-02T03:04:05.000006', null],
  });
  const exported = await exportTable(fromBatches(fixture.batches), { format: 'avro', out: join(root, 'renamed'), table: fixture.table });
  expect(exported.status, exported.errorMessage ?? '').toBe('completed');
  expect(exported.renames.map((r) => [r.from, r.to])).toEqual([
    ['2024 survey: wave 1', '_2024_survey__wave_1'], ['first name', 'first_name_2'], ['2nd', '_2nd'], ['naïve', 'naive'], ['when?', 'when_'],
  ]);
  const names = ['first_name_2', 'first_name', '_2nd', 'naive', 'when_'];
  const types = Object.fromEntries(fixture.table.variables.map((v, i) => [names[i], v.type]));
  const [file] = exported.files;
  const got = await readBack(avroReaders()[0], 'avro', [file.path ?? ''], types);
  expect(got.columns).toEqual(names);
  fixture.table.variables.forEach((v, i) => expect(got.values[names[i]], v.name).toEqual(fixture.expected[v.name]));
}, 60_000);

it('writes a table of 40,000 columns (issue #10: the schema check compiled one function parameter per field), read back by fastavro', async () => {
  const types = ['integer', 'float', 'string', 'date', 'boolean'] as const;
  const variables = Array.from({ length: 40_000 }, (_, i) => ({ name: `c${i}`, type: types[i % types.length] }));
  const sample: Record<(typeof types)[number], SourceValue[]> = {
    integer: [1n, null, -(2n ** 63n)], float: [0.5, null, -0], string: ['a', '', null], date: ['2024-02-29', null, '0001-01-01'], boolean: [true, false, null],
  };
  const fixture = defineFixture('wide', variables, Object.fromEntries(variables.map((v) => [v.name, sample[v.type]])));
  const exported = await exportTable(fromBatches(fixture.batches), { format: 'avro', out: join(root, 'wide'), table: fixture.table });
  expect(exported.status, exported.errorMessage ?? '').toBe('completed');
  const got = await readBack(avroReaders()[0], 'avro', [exported.files[0].path ?? ''], Object.fromEntries(variables.map((v) => [v.name, v.type])));
  expect(got.columns).toHaveLength(40_000);
  expect(got.columns.slice(-2)).toEqual(['c39998', 'c39999']);
  for (const name of ['c0', 'c1', 'c2', 'c3', 'c4', 'c39999']) expect(got.values[name], name).toEqual(fixture.expected[name]);
}, 120_000);
