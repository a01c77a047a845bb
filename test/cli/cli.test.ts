import { Field, Int64, RecordBatch, RecordBatchFileWriter, Schema, Struct, TimestampMicrosecond, makeData } from 'apache-arrow';
import { spawn } from 'node:child_process';
import { createReadStream, existsSync, writeFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../helpers/readers.js';
import { tempDir } from '../helpers/batches.js';

const CLI = join(PROJECT_ROOT, 'dist', 'cli', 'main.js');
const SAMPLE = join(PROJECT_ROOT, 'fixtures', 'sample', 'survey.arrow');

interface Run { code: number | null; stdout: string; stderr: string }

function runCli(args: string[], stdinFile?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d; });
    child.stderr.on('data', (d: Buffer) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    if (stdinFile) createReadStream(stdinFile).pipe(child.stdin);
    else child.stdin.end();
  });
}

describe('tabular-export CLI', () => {
  beforeAll(() => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" (npm test does)`);
  });

  it('exports the sample to csv and prints the Export resource with --json', async () => {
    const out = await tempDir();
    const run = await runCli([SAMPLE, '--format', 'csv', '--out', out, '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const exp = JSON.parse(run.stdout);
    expect(Object.keys(exp)).toEqual(['kind', 'uri', 'id', 'createdAt', 'status', 'errorMessage', 'percentCompleted', 'format', 'size', 'fileCount', 'table']);
    expect(exp).toMatchObject({ kind: 'export', status: 'completed', format: 'csv', fileCount: 1, percentCompleted: 100, errorMessage: null });
    expect(exp.table).toMatchObject({ kind: 'table', name: 'survey', numRows: 1000 });
    expect(await readdir(out)).toEqual(['survey.csv']);
    const bytes = await readFile(join(out, 'survey.csv'));
    expect(bytes.length).toBe(exp.size);
  });

  it('splits with --max-rows-per-file, accepts --max-file-size with a unit, names parts by number and keeps --name', async () => {
    const out = await tempDir();
    // 1MiB, the smallest --max-file-size allowed (issue #11; was 100KB): with a unit, as before.
    const run = await runCli([SAMPLE, '--format', 'jsonl', '--out', out, '--max-rows-per-file', '300', '--max-file-size', '1MiB', '--name', 'wave 1/2', '--json']);
    expect(run.code).toBe(0);
    const exp = JSON.parse(run.stdout);
    const files = await readdir(out);
    // 1,000 rows of about 260 bytes: 300 rows (78 kB) come before 1 MiB, so parts of 300, 300, 300, 100.
    expect(exp.fileCount).toBe(4);
    expect(files).toEqual(Array.from({ length: exp.fileCount }, (_, i) => `wave 1_2-${String(i).padStart(6, '0')}.jsonl`));
    expect(exp.table.name).toBe('wave 1/2');
  });

  it('reads a one-shot Arrow IPC stream from standard input with "-"', async () => {
    const out = await tempDir();
    const run = await runCli(['-', '--format', 'csv', '--out', out, '--name', 'piped'], SAMPLE);
    expect(run.code).toBe(0);
    expect(await readdir(out)).toEqual(['piped.csv']);
    expect(run.stdout).toMatch(/piped\.csv\t1000 rows\t/);
  });

  it('exits 1 with the errorMessage on stderr when the export fails, leaving no file', async () => {
    const out = await tempDir();
    const run = await runCli([join(out, 'missing.arrow'), '--format', 'csv', '--out', out]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^tabular-export: failed: csv: cannot read Arrow IPC file .*missing\.arrow: ENOENT/);
    expect(await readdir(out)).toEqual([]);
  });

  it('exits 1 when the worker threads fail a large export at once (its hashing thread, started early, does not hold the process)', async () => {
    const out = await tempDir();
    // 120,000 rows, enough to be read by ranges on the threads; row 5's instant is in year 14645, which ISO text cannot hold.
    const n = 120_000;
    const ids = BigInt64Array.from({ length: n }, (_, i) => BigInt(i));
    const ts = BigInt64Array.from({ length: n }, (_, i) => (i === 5 ? 400_000_000_000_000_000n : 1_700_000_000_000_000n + BigInt(i)));
    const fields = [new Field('id', new Int64(), false), new Field('ts', new TimestampMicrosecond(), false)];
    const children = [makeData({ type: new Int64(), length: n, data: ids }), makeData({ type: new TimestampMicrosecond(), length: n, data: ts })];
    const batch = new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: n, children }));
    const path = join(out, 'far.arrow');
    writeFileSync(path, RecordBatchFileWriter.writeAll([batch]).toUint8Array(true));
    const run = await runCli([path, '--format', 'csv', '--out', join(out, 'csv'), '--workers', '2']);
    expect(run.stderr).toMatch(/^tabular-export: failed: csv, column "ts", row 5: dateTime 400000000000000000 µs /m);
    expect(run.code).toBe(1);
    expect(await readdir(join(out, 'csv')).catch(() => [])).toEqual([]);
  }, 30_000);

  it('exits 2 with usage for a bad format or a bad size', async () => {
    const bad = await runCli([SAMPLE, '--format', 'xlsx', '--out', '/tmp']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown format "xlsx"');
    expect(bad.stderr).toContain('Usage:');
    const size = await runCli([SAMPLE, '--format', 'csv', '--out', '/tmp', '--max-file-size', 'lots']);
    expect(size.code).toBe(2);
    expect(size.stderr).toContain('--max-file-size: "lots" is not a size');
  });

  it('exits 2 for a --max-file-size below 1MiB, naming the floor, and writes nothing (issue #11)', async () => {
    const out = join(await tempDir(), 'never');
    for (const size of ['1', '1000KB', '1048575']) {
      const run = await runCli([SAMPLE, '--format', 'csv', '--out', out, '--max-file-size', size]);
      expect(run.code, size).toBe(2);
      expect(run.stderr, size).toContain(`--max-file-size: "${size}" is below the smallest allowed, 1MiB (1048576 bytes); to split into smaller parts, use --max-rows-per-file`);
      expect(run.stderr, size).toContain('Usage:');
    }
    expect(existsSync(out)).toBe(false);
    const floor = await runCli([SAMPLE, '--format', 'csv', '--out', out, '--max-file-size', '1048576']);
    expect(floor.code).toBe(0);
    expect(await readdir(out)).toEqual(['survey.csv']);
  });

  it('exits 2 with usage for an unknown option or a missing value (was a raw TypeError and exit 1)', async () => {
    for (const args of [[SAMPLE, '--format', 'csv', '--out', '/tmp', '--colour'], [SAMPLE, '--format'], ['serve', '--tables', '/tmp', '--data', '/tmp', '--nope']]) {
      const run = await runCli(args);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr).toContain('Usage:');
      expect(run.stderr).not.toContain('TypeError');
      expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
    }
  });
});
