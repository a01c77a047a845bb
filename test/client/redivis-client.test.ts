/**
 * Issue #10: the platform's own Python client (the pinned, unmodified `redivis` package in
 * ../shared/clients/redivis-python) against `tabular-export serve`, started as docs/SERVER.md
 * says, on a loopback port. Every download must equal the file the server holds (MD5) and read
 * back right by the independent readers. The client is third-party code and stays outside the
 * project: where its folder is absent, these tests say so and skip.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Table, tableToIPC } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FORMATS, type ExportJSON } from '../../src/index.js';
import { tempDir } from '../helpers/batches.js';
import { expectReadBackMatches, PROJECT_ROOT, READERS_BY_FORMAT } from '../helpers/readers.js';
import { largeRandom } from '../fixtures/large-random.js';
import { mediumRandom } from '../fixtures/tables.js';
import { startCli, stop, type ServeProcess } from '../server/serve-process.js';

const CLIENT_DIR = process.env.REDIVIS_CLIENT_DIR ?? join(PROJECT_ROOT, '..', 'shared', 'clients', 'redivis-python');
const CLIENT_PYTHON = join(PROJECT_ROOT, '.venv-client', 'bin', 'python');
const DRIVER = join(PROJECT_ROOT, 'test', 'client', 'client_run.py');
const present = existsSync(join(CLIENT_DIR, 'redivis', '__init__.py'));
if (!present) console.warn(`the platform's Python client is not at ${CLIENT_DIR} (set REDIVIS_CLIENT_DIR): its tests are skipped`);

const TOKEN = 'client-test-token';
const REF = 'Demo_Owner.Survey Data.medium_random';

interface Downloads { paths: string[]; again?: string[]; againError?: string }
interface ClientResult {
  table?: Record<string, unknown>;
  variables?: { name: string; type: string; label: string | null }[];
  firstTwoVariables?: string[];
  downloads?: Record<string, Downloads>;
  errors?: { missing: string; wrongToken: string; wrongTokenFiles: boolean };
}

function runClient(config: Record<string, unknown>): Promise<ClientResult> {
  return new Promise((resolve, reject) => {
    execFile(CLIENT_PYTHON, [DRIVER, JSON.stringify(config)], {
      env: { ...process.env, PYTHONPATH: CLIENT_DIR, PYTHONIOENCODING: 'utf-8' }, timeout: 300_000, maxBuffer: 64 * 1024 * 1024,
    }, (error, stdout, stderr) => {
      if (error) reject(new Error(`the client failed: ${error.message}\n${stderr.split('\n').slice(-20).join('\n')}`));
      else resolve(JSON.parse(stdout) as ClientResult);
    });
  });
}

const md5 = (bytes: Buffer): string => createHash('md5').update(bytes).digest('hex');

/** The completed exports the server holds (its records), by format. */
async function serverExports(data: string): Promise<{ export: ExportJSON; files: { name: string; md5: string; rows: number }[] }[]> {
  const records = [];
  for (const id of await readdir(data)) records.push(JSON.parse(await readFile(join(data, id, '.export.json'), 'utf8')));
  return records.filter((r) => r.export.status === 'completed');
}

describe.skipIf(!present)('the platform\'s Python client against serve', () => {
  const servers: ServeProcess[] = [];
  let root: string;
  let tables: string;
  beforeAll(async () => {
    if (!existsSync(CLIENT_PYTHON)) throw new Error(`${CLIENT_PYTHON} is missing: run \`node scripts/setup-readers.mjs\` (npm test does)`);
    root = await tempDir('te-client-');
    tables = join(root, 'tables');
    await mkdir(join(tables, 'Demo_Owner', 'Survey Data'), { recursive: true });
    await writeFile(join(tables, 'Demo_Owner', 'Survey Data', 'medium_random.arrow'), tableToIPC(new Table(mediumRandom.batches), 'file'));
    await writeFile(join(tables, 'Demo_Owner', 'Survey Data', 'large_random.arrow'), tableToIPC(new Table(largeRandom.batches), 'file'));
  });
  afterAll(async () => { await Promise.all(servers.map((s) => stop(s.child, 'SIGTERM'))); });

  async function serve(data: string, extra: string[] = []): Promise<ServeProcess> {
    const server = await startCli(['--tables', tables, '--data', data, '--port', '0', ...extra], { TABULAR_EXPORT_TOKEN: TOKEN });
    servers.push(server);
    return server;
  }

  it('describes the table and its variables, downloads every format by owner.dataset.table, and keeps files it already has', async () => {
    const data = join(root, 'data');
    const server = await serve(data);
    const out = join(root, 'out');
    const got = await runClient({ endpoint: server.url, token: TOKEN, ref: REF, out, formats: FORMATS, steps: ['describe', 'download', 'again'] });

    expect(got.table).toMatchObject({ kind: 'table', name: 'medium_random', qualifiedReference: REF, numRows: 5000, variableCount: mediumRandom.table.variables.length });
    expect(got.variables?.map((v) => [v.name, v.type])).toEqual(mediumRandom.table.variables.map((v) => [v.name, v.type]));
    expect(got.variables?.[0].label).toBe('Row number');
    expect(got.firstTwoVariables).toEqual(mediumRandom.table.variables.slice(0, 2).map((v) => v.name));

    const held = await serverExports(data);
    for (const format of FORMATS) {
      const downloads = got.downloads?.[format];
      expect(downloads?.paths, format).toEqual([join(out, format, `medium_random.${format}`)]);
      // The second download found the file and kept it: same size and MD5 as the server's.
      expect(downloads?.againError, format).toBeUndefined();
      expect(downloads?.again).toEqual(downloads?.paths);
      const bytes = await readFile(downloads?.paths[0] ?? '');
      const records = held.filter((r) => r.export.format === format);
      expect(records, `${format}: two exports, one per download`).toHaveLength(2);
      for (const r of records) expect(r.files.map((f) => f.md5), format).toEqual([md5(bytes)]);
      for (const reader of READERS_BY_FORMAT[format] ?? []) {
        await expectReadBackMatches(reader, format, downloads?.paths ?? [], mediumRandom);
      }
    }
  }, 300_000);

  it('downloads a multi-part parquet export into its sub-directory, read by pyarrow.dataset as one table equal to the source', async () => {
    const data = join(root, 'data-split');
    // The smallest parts allowed (1 MiB, issue #11), of the 40,000-row table: about 4 MB of parquet.
    const server = await serve(data, ['--max-file-size', '1MiB']);
    const out = join(root, 'out-split');
    const got = await runClient({ endpoint: server.url, token: TOKEN, ref: 'Demo_Owner.Survey Data.large_random', out, formats: ['parquet'], steps: ['download'] });
    const [record] = await serverExports(data);
    const count = record.export.fileCount ?? 0;
    expect(count).toBeGreaterThan(1);
    const dir = join(out, 'parquet', 'large_random');
    const names = Array.from({ length: count }, (_, i) => `${String(i).padStart(6, '0')}.parquet`);
    expect(got.downloads?.parquet.paths).toEqual(names.map((n) => join(dir, n)));
    expect((await readdir(dir)).sort()).toEqual(names);
    for (const [i, name] of names.entries()) expect(md5(await readFile(join(dir, name))), name).toBe(record.files[i].md5);
    await expectReadBackMatches('pyarrow-dataset', 'parquet', [dir], largeRandom, { partRows: record.files.map((f) => f.rows) });
  }, 300_000);

  it('raises NotFoundError for a table that is not there, and an error, not a download, for a wrong token', async () => {
    const server = await serve(join(root, 'data-errors'));
    const out = join(root, 'out-errors');
    const got = await runClient({ endpoint: server.url, token: TOKEN, ref: REF, out, formats: [], missing: 'Demo_Owner.Survey Data.nope', steps: ['errors'] });
    expect(got.errors).toEqual({ missing: 'NotFoundError', wrongToken: 'APIError', wrongTokenFiles: false });
  }, 120_000);
});
