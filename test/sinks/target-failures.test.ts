/**
 * Issue #10 item 4, "errors name their cause": a destination that fails (a full disk, a
 * directory that cannot be written, a caller's Writable that errors, an encoder's temporary
 * file) ends the export `failed` with TARGET_FAILED, the system's reason and the file's name
 * as the user sees it, in every format, without a path of the machine in the message, and
 * leaves no file behind. Before, a full disk read "unexpected error: output closed" for all
 * formats but parquet.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Exporter, exportTable, fromBatches, type Export, type ExportRequest } from '../../src/index.js';
import { DirectoryTarget } from '../../src/sinks/directory.js';
import { openPartOutput } from '../../src/sinks/part-output.js';
import { StreamTarget } from '../../src/sinks/stream.js';
import type { Table } from '../../src/table/types.js';
import { listDir, tempDir } from '../helpers/batches.js';
import { batchOf, column } from '../helpers/columns.js';

const survey: Table = { name: 'survey', variables: [{ name: 'id', type: 'integer' }, { name: 'note', type: 'string' }] };

/** Every format, and csv through gzip; `file` is the single part's name. */
const CASES: { label: string; request: Omit<ExportRequest, 'out' | 'target'>; file: string }[] = [
  { label: 'csv', request: { format: 'csv' }, file: 'survey.csv' },
  { label: 'csv gzip', request: { format: 'csv', csv: { gzip: true } }, file: 'survey.csv.gz' },
  { label: 'jsonl', request: { format: 'jsonl' }, file: 'survey.jsonl' },
  { label: 'parquet', request: { format: 'parquet' }, file: 'survey.parquet' },
  { label: 'avro', request: { format: 'avro' }, file: 'survey.avro' },
  { label: 'dta', request: { format: 'dta' }, file: 'survey.dta' },
  { label: 'sav', request: { format: 'sav' }, file: 'survey.sav' },
];

/**
 * `rows` rows of an id and a `width`-character note of random base64, which no format's
 * compression shrinks much, in batches of 2,000. Random bytes, not a pattern: parquet's
 * dictionaries and avro's deflate would otherwise fit megabytes of rows in kilobytes.
 */
function noteBatches(rows: number, width: number) {
  const batches = [];
  for (let start = 0; start < rows; start += 2000) {
    const n = Math.min(2000, rows - start);
    const ids = Array.from({ length: n }, (_, i) => BigInt(start + i));
    const notes = Array.from({ length: n }, () => randomBytes(Math.ceil(width * 0.75)).toString('base64').slice(0, width));
    batches.push(batchOf(survey, [column('integer', ids), column('string', notes)]));
  }
  return batches;
}

/** About 4 MB in every format: more than the small file system below holds. */
const bigBatches = noteBatches(24_000, 160);

/** Failed with TARGET_FAILED, the cause and the file named, and none of `paths` in the message. */
function expectTargetFailed(exp: Export, cause: RegExp, file: string, paths: readonly string[] = []): void {
  const message = exp.errorMessage ?? '';
  expect(exp.status, message).toBe('failed');
  expect(exp.errorCode, message).toBe('TARGET_FAILED');
  expect(exp.toJSON().errorMessage).toBe(message);
  expect(message).toMatch(cause);
  expect(message).toContain(file);
  expect(message).not.toMatch(/unexpected error|output closed/);
  for (const path of paths) expect(message).not.toContain(path);
}

// ---- the full and the read-only file system: a tmpfs of our own, so root only ------------

/** Mounts a tmpfs with `options` on a new directory, returning it. */
async function mountTmpfs(options: string): Promise<string> {
  const dir = await tempDir('te-tmpfs-');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { stdio: 'pipe' });
    return dir;
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

async function unmount(dir: string): Promise<void> {
  execFileSync('umount', [dir], { stdio: 'pipe' });
  await rm(dir, { recursive: true, force: true });
}

/**
 * Whether a tmpfs can be mounted here (root, and allowed by the container), tried once with a
 * mount that is undone at once: the real ones are made in beforeAll, so a run that filters
 * these tests out (and so runs no afterAll) leaves no mount behind. null, or why not.
 */
async function whyNoTmpfs(): Promise<string | null> {
  if (process.getuid?.() !== 0) return 'not running as root, so no tmpfs can be mounted';
  try {
    await unmount(await mountTmpfs('size=64k'));
    return null;
  } catch (err) {
    return `mounting a tmpfs failed: ${(err as Error).message.trim()}`;
  }
}

const noTmpfs = await whyNoTmpfs();
if (noTmpfs !== null) console.warn(`target-failures: skipping the full and read-only file system tests: ${noTmpfs}`);

describe.skipIf(noTmpfs !== null)('on a full file system (a 2 MB tmpfs)', () => {
  let full = '';
  let readOnly = '';
  beforeAll(async () => {
    full = await mountTmpfs('size=2m');
    readOnly = await mountTmpfs('size=1m,ro');
  });
  afterAll(async () => {
    for (const dir of [full, readOnly]) if (dir) await unmount(dir);
  });

  it.each(CASES)('$label: ENOSPC, naming $file, nothing left', async ({ request, file }) => {
    const out = join(full, 'out');
    const exp = await exportTable(fromBatches(bigBatches), { ...request, table: survey, out });
    expectTargetFailed(exp, /ENOSPC/, file, [full]);
    expect(exp.errorMessage).toBe(`${request.format}: writing ${file} failed: ENOSPC: no space left on device, write`);
    expect(await listDir(out)).toEqual([]);
  });

  it('a later part is named as it would have been: survey-00000n.csv', async () => {
    const out = join(full, 'parts');
    const exp = await exportTable(fromBatches(bigBatches), { format: 'csv', table: survey, out, maxRowsPerFile: 2000 });
    expectTargetFailed(exp, /ENOSPC/, 'survey-0000', [full]);
    expect(exp.errorMessage).toMatch(/writing survey-0000(0[1-9]|1\d)\.csv failed: ENOSPC: no space left on device, write$/);
    expect(await listDir(out)).toEqual([]);
  });

  it('dta: a full temporary directory for the strL spool', async () => {
    const out = await tempDir('te-spool-out-');
    // 3,000-byte notes are strLs (str# ends at 2,045), 3 MB of them: the spool goes to disk.
    const spool = join(full, 'spool');
    await mkdir(spool);
    const exp = await exportTable(fromBatches(noteBatches(1000, 3000)), { format: 'dta', table: survey, out, dta: { tempDir: spool } });
    expectTargetFailed(exp, /^dta: survey\.dta: writing the strL spool file in the temporary directory failed: ENOSPC/, 'survey.dta', [full]);
    expect(await listDir(out)).toEqual([]);
    expect(await listDir(spool)).toEqual([]);
  });

  it('a stream target: a full temporary directory for a part whose header is rewritten (zsav)', async () => {
    const temp = join(full, 'temp');
    await mkdir(temp);
    const exporter = new Exporter({ tempDir: temp });
    const exp = await exporter.create(fromBatches(bigBatches), {
      format: 'sav', sav: { compression: 'zsav' }, table: survey, target: () => new Writable({ write: (_c, _e, cb) => cb() }),
    }).done();
    expectTargetFailed(exp, /^sav: writing survey\.zsav in the temporary directory failed: ENOSPC: no space left on device, write$/, 'survey.zsav', [full]);
    expect(await listDir(temp)).toEqual([]);
  });

  it.each(['csv', 'parquet', 'dta'])('%s: a read-only file system (EROFS) when the part is opened', async (format) => {
    const exp = await exportTable(fromBatches(bigBatches.slice(0, 1)), { format, table: survey, out: readOnly });
    expectTargetFailed(exp, new RegExp(`^${format}: opening survey\\.${format} failed: EROFS: read-only file system, open$`), `survey.${format}`, [readOnly]);
    expect(await listDir(readOnly)).toEqual([]);
  });
});

// ---- a caller's Writable that fails ---------------------------------------------------------

/** A Writable that takes `limit` bytes, then fails as an upload might. */
function failingAfter(limit: number): () => Writable {
  return () => {
    let seen = 0;
    return new Writable({
      write(chunk: Buffer, _enc, cb) {
        seen += chunk.length;
        cb(seen > limit ? new Error(`upload rejected: quota of ${limit} bytes exceeded`) : null);
      },
    });
  };
}

describe('a caller\'s Writable that fails', () => {
  const small = noteBatches(6000, 100);
  /** dta with strLs goes through a temporary file, copied to the Writable at the end. */
  const streamCases = [
    ...CASES,
    { label: 'dta with strL', request: { format: 'dta' }, file: 'survey.dta', batches: noteBatches(300, 3000) },
    { label: 'zsav', request: { format: 'sav', sav: { compression: 'zsav' as const } }, file: 'survey.zsav' },
  ];

  it.each(streamCases)('$label: its error, naming $file, and no temporary file left', async (c) => {
    const temp = await tempDir('te-writable-');
    const exporter = new Exporter({ tempDir: temp });
    const batches = 'batches' in c && c.batches ? c.batches : small;
    const exp = await exporter.create(fromBatches(batches), { ...c.request, table: survey, target: failingAfter(100_000) }).done();
    expectTargetFailed(exp, /upload rejected: quota of 100000 bytes exceeded/, c.file, [temp]);
    expect(await listDir(temp)).toEqual([]);
  });

  it('one that cannot be opened: its error, naming the file', async () => {
    const exp = await exportTable(fromBatches(small), {
      format: 'csv', table: survey, target: () => { throw new Error('bucket "exports" does not exist'); },
    });
    expectTargetFailed(exp, /^csv: opening survey\.csv failed: bucket "exports" does not exist$/, 'survey.csv');
  });
});

// ---- directories that cannot be written, at any user ---------------------------------------

describe('a directory that cannot be written', () => {
  it.each(CASES)('$label: out beneath a regular file (ENOTDIR), path not in the message', async ({ request, file }) => {
    const dir = await tempDir('te-notdir-');
    await writeFile(join(dir, 'plain'), 'not a directory');
    const exp = await exportTable(fromBatches(bigBatches.slice(0, 1)), { ...request, table: survey, out: join(dir, 'plain', 'out') });
    expectTargetFailed(exp, new RegExp(`opening ${file.replace(/\./g, '\\.')} failed: ENOTDIR: not a directory, mkdir$`), file, [dir]);
    expect(await listDir(dir)).toEqual(['plain']);
  });

  it('dta: a strL spool directory that cannot be made into a file', async () => {
    const dir = await tempDir('te-spool-');
    await writeFile(join(dir, 'plain'), 'not a directory');
    const out = join(dir, 'out');
    const exp = await exportTable(fromBatches(noteBatches(600, 3000)), { format: 'dta', table: survey, out, dta: { tempDir: join(dir, 'plain') } });
    expectTargetFailed(exp, /^dta: survey\.dta: creating the strL spool file in the temporary directory failed: ENOTDIR: not a directory, open$/, 'survey.dta', [dir]);
    expect(await listDir(out)).toEqual([]);
  });

  it('the rename at commit: a directory where the file should go (EISDIR), and no part left', async () => {
    const out = await tempDir('te-rename-');
    await mkdir(join(out, 'survey.csv'));
    await writeFile(join(out, 'survey.csv', 'keep'), 'the user\'s');
    const exp = await exportTable(fromBatches(bigBatches.slice(0, 1)), { format: 'csv', table: survey, out });
    expectTargetFailed(exp, /^csv: giving survey\.csv its final name failed: E(ISDIR|NOTEMPTY|EXIST)\b[^/]*, rename$/, 'survey.csv', [out]);
    expect(await listDir(out)).toEqual(['survey.csv']);
  });
});

describe('a part whose header cannot be rewritten', () => {
  it('applyPatches on a file that went away (ENOENT): TARGET_FAILED naming the file, no path', async () => {
    const dir = await tempDir('te-patch-');
    const output = openPartOutput(new Writable({ write: (_c, _e, cb) => cb() }), { gzip: false, name: 'survey.dta', patchPath: join(dir, 'gone.dta') });
    await output.write(new Uint8Array(16));
    const closing = output.close([{ position: 0, bytes: new Uint8Array([1]) }]);
    await expect(closing).rejects.toMatchObject({ code: 'TARGET_FAILED', message: 'rewriting the header of survey.dta failed: ENOENT: no such file or directory, open' });
  });
});

describe('abort while a part is being opened', () => {
  // A failure elsewhere (a bad batch read ahead) can abort the target while it opens a part:
  // the file that open then creates must not outlive the export.
  const spec = { index: 0, extension: 'dta', gzip: false, patchable: true, name: 'survey.dta' };

  it('DirectoryTarget: no .partial file left', async () => {
    const out = await tempDir('te-abort-dir-');
    const target = new DirectoryTarget(out, 'abc');
    const opening = target.openPart(spec).then((o) => o.destroy(new Error('stop')), () => undefined);
    await target.abort(new Error('stop'));
    await opening;
    expect(await listDir(out)).toEqual([]);
  });

  it('StreamTarget: no temporary directory left', async () => {
    const temp = await tempDir('te-abort-stream-');
    const target = new StreamTarget(() => new Writable({ write: (_c, _e, cb) => cb() }), temp);
    const opening = target.openPart(spec).then((o) => o.destroy(new Error('stop')), () => undefined);
    await new Promise((resolve) => setImmediate(resolve)); // the Writable is given, the temporary file on its way
    await target.abort(new Error('stop'));
    await opening;
    expect(await listDir(temp)).toEqual([]);
  });
});
