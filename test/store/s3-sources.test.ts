/**
 * Tables read from S3-compatible storage (issue #13, groundwork), against a local s3rver: a
 * Parquet file and an Arrow IPC file, read by ranged GETs (never downloaded whole), export to
 * the same bytes as the same file read from local disk. And the CLI: an s3:// input and an
 * s3:// --out.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Table, tableToIPC } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportTable, fromIPC, fromParquet } from '../../src/index.js';
import type { BatchSource } from '../../src/index.js';
import type { RandomAccessInput } from '../../src/sources/random-access.js';
import { S3Store, closeS3Clients, fromS3 } from '../../src/store/index.js';
import { mediumRandom } from '../fixtures/tables.js';
import { tempDir } from '../helpers/batches.js';
import { PROJECT_ROOT } from '../helpers/readers.js';
import { startS3, type S3Server } from '../services/s3.js';

let s3: S3Server;
let restoreEnv: () => void;
let local: { parquet: string; arrow: string };
const store = (): S3Store => new S3Store('s3://tables/data');

beforeAll(async () => {
  s3 = await startS3(['tables', 'exports']);
  restoreEnv = s3.useEnv();
  // The same table as a Parquet file of several row groups and as an Arrow IPC file of several
  // batches, on disk and in the bucket.
  const dir = await tempDir('te-s3-sources-');
  const made = await exportTable(fromIPC(tableToIPC(new Table(mediumRandom.batches), 'stream')), {
    format: 'parquet', out: dir, name: 'medium', parquet: { rowGroupSize: 1000 },
  });
  expect(made.status, made.errorMessage ?? '').toBe('completed');
  local = { parquet: join(dir, 'medium.parquet'), arrow: join(dir, 'medium.arrow') };
  writeFileSync(local.arrow, tableToIPC(new Table(mediumRandom.batches), 'file'));
  for (const path of [local.parquet, local.arrow]) {
    await pipeline(Readable.from([readFileSync(path)]), store().openWrite(path.slice(dir.length + 1)));
  }
});

afterAll(async () => {
  closeS3Clients();
  restoreEnv?.();
  await s3?.stop();
});

/** The object read through a wrapper that records every range asked of it. */
function recorded(input: RandomAccessInput, ranges: [number, number][], streams: [number, number][]): RandomAccessInput {
  return {
    ...input,
    async open() {
      const reader = await input.open();
      return {
        ...reader,
        size: reader.size,
        read: (offset, length) => { ranges.push([offset, length]); return reader.read(offset, length); },
        stream: (start, end) => { streams.push([start, end]); return reader.stream(start, end); },
        close: () => reader.close(),
      };
    },
  };
}

/** The csv export of the source, as its MD5 (vitest compares large Buffers slowly). */
async function csvOf(source: BatchSource): Promise<string> {
  const out = await tempDir('te-s3-csv-');
  const exp = await exportTable(source, { format: 'csv', out, name: 'medium' });
  expect(exp.status, exp.errorMessage ?? '').toBe('completed');
  expect(exp.rows).toBe(mediumRandom.table.numRows);
  return createHash('md5').update(readFileSync(join(out, 'medium.csv'))).digest('hex');
}

describe('sources on S3, read by ranges', () => {
  it('a Parquet object: its footer and row groups fetched by ranged GETs; the same export as the local file', async () => {
    const ranges: [number, number][] = [];
    const input = recorded(store().openRead('medium.parquet'), ranges, []);
    const size = readFileSync(local.parquet).byteLength;
    expect(await csvOf(fromParquet(input))).toEqual(await csvOf(fromParquet(local.parquet)));
    // Several reads (frame, footer, 5 row groups' column chunks), none of them the whole file.
    expect(ranges.length).toBeGreaterThan(5);
    expect(Math.max(...ranges.map(([, length]) => length))).toBeLessThan(size);
  });

  it('an Arrow IPC object: footer by small reads, messages in one ranged stream; the same export as the local file', async () => {
    const ranges: [number, number][] = [];
    const streams: [number, number][] = [];
    const input = recorded(store().openRead('medium.arrow'), ranges, streams);
    const size = readFileSync(local.arrow).byteLength;
    expect(await csvOf(fromIPC(input))).toEqual(await csvOf(fromIPC(local.arrow)));
    expect(ranges.length).toBeGreaterThan(0);
    expect(streams).toHaveLength(1);
    expect(streams[0][0]).toBe(8); // after the magic
    expect(streams[0][1]).toBeLessThan(size); // the footer is not streamed
  });

  it('fromS3 by URL: the source is named after the object, and is reopenable (a two-pass format)', async () => {
    const source = fromS3('s3://tables/data/medium.parquet');
    expect(source.name).toBe('medium');
    expect(source.reopenable).toBe(true);
    const out = await tempDir('te-s3-dta-');
    const exp = await exportTable(source, { format: 'dta', out });
    expect(exp.status, exp.errorMessage ?? '').toBe('completed');
    expect(exp.files.map((f) => f.name)).toEqual(['medium.dta']);
  });

  it('a damaged Parquet object fails with SOURCE_FAILED naming it, and the next export works', async () => {
    const bytes = Buffer.from(readFileSync(local.parquet));
    bytes.fill(0xff, Math.floor(bytes.length / 3), Math.floor(bytes.length / 3) + 400);
    await pipeline(Readable.from([bytes]), store().openWrite('damaged.parquet'));
    const exp = await exportTable(fromS3('s3://tables/data/damaged.parquet'), { format: 'csv', out: await tempDir() });
    expect(exp.status).toBe('failed');
    expect(exp.toJSON().errorMessage).toMatch(/Parquet file damaged\.parquet/);
    expect(exp.toJSON().errorMessage).not.toMatch(/s3:|tables\/data/);
    const ok = await exportTable(fromS3('s3://tables/data/medium.parquet'), { format: 'csv', out: await tempDir() });
    expect(ok.status, ok.errorMessage ?? '').toBe('completed');
  });

  it('a missing object fails with SOURCE_FAILED naming it', async () => {
    const exp = await exportTable(fromS3('s3://tables/data/none.parquet'), { format: 'csv', out: await tempDir() });
    expect(exp.status).toBe('failed');
    expect(exp.toJSON().errorMessage).toMatch(/cannot read Parquet file none\.parquet/);
  });
});

describe('the CLI with s3:// locations', () => {
  it('reads an s3:// Parquet input and writes to an s3:// --out', async () => {
    const cli = join(PROJECT_ROOT, 'dist', 'cli', 'main.js');
    const run = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, [cli, 's3://tables/data/medium.parquet', '--format', 'jsonl', '--out', 's3://exports/cli'], {
        env: { ...process.env, ...s3.env }, stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => { stdout += d; });
      child.stderr.on('data', (d: Buffer) => { stderr += d; });
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^s3:\/\/exports\/cli\/medium\.jsonl\t5000 rows\t/);
    const keys: string[] = [];
    for await (const { key } of new S3Store('s3://exports/cli').list('')) keys.push(key);
    expect(keys).toEqual(['medium.jsonl']);
  });
});
