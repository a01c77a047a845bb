/**
 * Exports to S3-compatible storage (issue #13, groundwork), against a local s3rver: every
 * format written to `s3://…`, downloaded and read back by the independent readers; parts
 * published only at commit; a failed or cancelled export leaves no key; an earlier export's
 * parts beyond the new count are removed.
 */
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { RecordBatch } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Exporter, exportTable, fromBatches } from '../../src/index.js';
import type { BatchSource, ExportRequest } from '../../src/index.js';
import { S3Store, closeS3Clients } from '../../src/store/index.js';
import { allTypes } from '../fixtures/tables.js';
import { idBatch, sleep, tempDir } from '../helpers/batches.js';
import { expectReadBackMatches } from '../helpers/readers.js';
import { startS3, type S3Server } from '../services/s3.js';

let s3: S3Server;
let restoreEnv: () => void;

beforeAll(async () => {
  s3 = await startS3(['exports']);
  restoreEnv = s3.useEnv();
});

afterAll(async () => {
  closeS3Clients();
  restoreEnv?.();
  await s3?.stop();
});

async function keysUnder(url: string): Promise<string[]> {
  const found: string[] = [];
  for await (const { key } of new S3Store(url).list('')) found.push(key);
  return found.sort();
}

/** Downloads objects (by their s3:// URLs) into a local directory; returns the local paths in order. */
async function download(urls: readonly string[]): Promise<string[]> {
  const dir = await tempDir('te-s3-download-');
  return Promise.all(urls.map(async (url) => {
    const cut = url.lastIndexOf('/');
    const store = new S3Store(url.slice(0, cut));
    const name = url.slice(cut + 1);
    const reader = await store.openRead(name).open();
    const path = join(dir, name);
    await pipeline(reader.stream(0, reader.size), createWriteStream(path));
    await reader.close();
    return path;
  }));
}

// One reader per format keeps the file quick; the roundtrip suites run them all on local files.
// sav zsav and dta with strLs have their headers patched: they go through a local file first.
const CASES: { format: string; reader: string; request?: Partial<ExportRequest>; ext: string }[] = [
  { format: 'csv', reader: 'duckdb', ext: 'csv' },
  { format: 'csv', reader: 'pandas', request: { csv: { gzip: true } }, ext: 'csv.gz' },
  { format: 'jsonl', reader: 'duckdb', ext: 'jsonl' },
  { format: 'parquet', reader: 'pyarrow', ext: 'parquet' },
  { format: 'avro', reader: 'fastavro', ext: 'avro' },
  { format: 'dta', reader: 'readstat', ext: 'dta' },
  { format: 'sav', reader: 'readstat', ext: 'sav' },
  { format: 'sav', reader: 'pspp', request: { sav: { compression: 'zsav' } }, ext: 'zsav' },
];

describe('exportTable to s3://', () => {
  for (const { format, reader, request, ext } of CASES) {
    it(`${format}${request ? ` ${JSON.stringify(request)}` : ''}: published under its final key, read back by ${reader}`, async () => {
      const prefix = `s3://exports/every-format/${format}-${ext}`;
      const exp = await exportTable(fromBatches(allTypes.batches), { format, out: prefix, table: allTypes.table, ...request });
      expect(exp.status, exp.errorMessage ?? '').toBe('completed');
      expect(exp.files.map((f) => f.path)).toEqual([`${prefix}/all_types.${ext}`]);
      expect(await keysUnder(prefix)).toEqual([`all_types.${ext}`]);
      const [local] = await download(exp.files.map((f) => f.path as string));
      await expectReadBackMatches(reader, format, [local], allTypes);
    });
  }

  it('a split export: every part published, numbered, sizes and MD5s as stored', async () => {
    const prefix = 's3://exports/split';
    const batches = Array.from({ length: 10 }, (_, i) => idBatch(i * 1000, 1000));
    const exp = await exportTable(fromBatches(batches), { format: 'parquet', out: prefix, name: 'ids', maxRowsPerFile: 3000 });
    expect(exp.status, exp.errorMessage ?? '').toBe('completed');
    const names = ['ids-000000.parquet', 'ids-000001.parquet', 'ids-000002.parquet', 'ids-000003.parquet'];
    expect(await keysUnder(prefix)).toEqual(names);
    const store = new S3Store(prefix);
    for (const file of exp.files) expect((await store.stat(file.name))?.size).toBe(file.size);
    const { createHash } = await import('node:crypto');
    const { readFileSync } = await import('node:fs');
    const locals = await download(exp.files.map((f) => f.path as string));
    expect(locals.map((p) => createHash('md5').update(readFileSync(p)).digest('hex'))).toEqual(exp.files.map((f) => f.md5));

    // Exported again as one file: the earlier parts go, and the warning says so.
    const again = await exportTable(fromBatches(batches), { format: 'parquet', out: prefix, name: 'ids' });
    expect(again.status).toBe('completed');
    expect(await keysUnder(prefix)).toEqual(['ids.parquet']);
    expect(again.warnings.join('\n')).toMatch(/replaced the files of an earlier export/);
  });

  it('an export larger than an upload part goes up as a multipart upload', async () => {
    const prefix = 's3://exports/large';
    const batches = Array.from({ length: 30 }, (_, i) => idBatch(i * 20_000, 20_000)); // ~11 MB of csv, over the 8 MiB part
    const exp = await exportTable(fromBatches(batches), { format: 'csv', out: prefix, name: 'ids' });
    expect(exp.status, exp.errorMessage ?? '').toBe('completed');
    expect(exp.size).toBeGreaterThan(8 * 1024 * 1024);
    expect((await new S3Store(prefix).stat('ids.csv'))?.size).toBe(exp.size);
  });
});

describe('a failed or cancelled export to s3:// leaves no key', () => {
  /** 20,000-row batches, slowly enough to be cancelled mid-upload, failing at batch `failAfter`. */
  async function* slowBatches(failAfter = Infinity, count = Infinity): AsyncGenerator<RecordBatch> {
    for (let i = 0; i < count; i++) {
      if (i === failAfter) throw new Error('the source broke');
      yield idBatch(i * 20_000, 20_000);
      await sleep(5);
    }
  }

  /** `count` slow batches in every pass: a reopenable source. */
  function slowSource(count: number): BatchSource {
    return {
      reopenable: true,
      async open() {
        return { schema: null, numRows: null, totalBytes: null, bytesRead: () => 0, batches: slowBatches(Infinity, count), close: async () => undefined };
      },
    };
  }

  it('cancelled while parts (multipart uploads among them) are being written', async () => {
    // csv (one file) and sav cancelled past 8 MiB, the first upload part (~18 and ~24 bytes a
    // row): their multipart uploads are under way; parquet split, past its first parts. sav reads
    // its source twice (the first pass counts rows): a source slow in each pass.
    for (const [format, cancelAt] of [['csv', 900_000], ['parquet', 300_000], ['sav', 700_000]] as const) {
      const prefix = `s3://exports/cancelled-${format}`;
      const exporter = new Exporter();
      const split = format === 'parquet' ? { maxRowsPerFile: 100_000 } : {};
      const exp = exporter.create(format === 'sav' ? slowSource(100) : fromBatches(slowBatches()), { format, out: prefix, name: 'ids', ...split });
      while (exp.rows < cancelAt && !exp.finished) await sleep(20);
      expect(exp.status, format).toBe('running');
      exporter.cancel(exp.id, 'stop');
      await exp.done();
      expect(exp.status, `${format}: ${exp.errorMessage}`).toBe('cancelled');
      expect(await keysUnder(prefix), format).toEqual([]);
    }
  });

  it('failed by its source', async () => {
    const prefix = 's3://exports/failed';
    const exp = await exportTable(fromBatches(slowBatches(40)), { format: 'jsonl', out: prefix, name: 'ids', maxRowsPerFile: 200_000 });
    expect(exp.status, exp.errorMessage ?? '').toBe('failed');
    expect(exp.errorMessage).toMatch(/the source broke/);
    expect(await keysUnder(prefix), `after ${exp.errorMessage}`).toEqual([]);
  });

  it('a bucket that does not exist fails the export with TARGET_FAILED naming the part', async () => {
    const exp = await exportTable(fromBatches([idBatch(0, 10)]), { format: 'csv', out: 's3://no-such-bucket/x', name: 'ids' });
    expect(exp.status).toBe('failed');
    expect(exp.toJSON().errorMessage).toMatch(/^csv: writing ids\.csv failed: .*bucket/i);
  });

  it('an s3:// location without a bucket is refused when the export is created', () => {
    expect(() => new Exporter().create(fromBatches([idBatch(0, 1)]), { format: 'csv', out: 's3://' })).toThrow(/bucket/);
  });
});
