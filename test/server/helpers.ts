import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { Table, tableFromIPC, tableToIPC, type RecordBatch } from 'apache-arrow';
import { createServer, type ExportJSON, type ExportServer, type FormatOptions, type ServerOptions } from '../../src/index.js';
import { openTableSource, type TableFile } from '../../src/server/tables.js';
import type { BatchSource, OpenedSource } from '../../src/sources/types.js';
import { sleep, tempDir } from '../helpers/batches.js';
import { largeRandom } from '../fixtures/large-random.js';
import { PROJECT_ROOT } from '../helpers/readers.js';

export const SAMPLE = join(PROJECT_ROOT, 'fixtures', 'sample', 'survey.arrow');

/** Fixed clocks and markers, so the server's files can be compared byte for byte with exportTable's. */
export const FIXED_OPTIONS: FormatOptions = {
  avro: { syncMarker: '00112233445566778899aabbccddeeff' },
  dta: { timestamp: new Date(Date.UTC(2024, 0, 2, 3, 4)) },
  sav: { now: new Date(Date.UTC(2024, 0, 2, 3, 4)) },
};

export interface Harness {
  server: ExportServer;
  url: string;
  root: string;
  tables: string;
  data: string;
}

/** The 1,000-row sample as an IPC file of 100-row batches, so csv and jsonl can split it into parts. */
export async function writeSurvey(path: string): Promise<void> {
  const sample = tableFromIPC(await readFile(SAMPLE));
  const batches = sample.batches.flatMap((b) => Array.from({ length: Math.ceil(b.numRows / 100) }, (_, i) => b.slice(i * 100, (i + 1) * 100)));
  await writeFile(path, tableToIPC(new Table(sample.schema, batches), 'file'));
}

/** The 40,000-row random table as an IPC file: big enough to split at the smallest maxFileSize (1 MiB). */
export async function writeLarge(path: string): Promise<void> {
  await writeFile(path, tableToIPC(new Table(largeRandom.batches), 'file'));
}

/**
 * A server on 127.0.0.1 and a free port over a temp tables directory holding `survey.arrow`
 * (the 1,000-row sample), `slow.arrow` (the same file, read through `slowSource`) and
 * `large.arrow` (40,000 random rows, for exports in several parts).
 */
export async function startServer(options: Partial<ServerOptions> = {}, dirs?: { root: string; tables: string; data: string }): Promise<Harness> {
  const root = dirs?.root ?? await tempDir('te-server-');
  const tables = dirs?.tables ?? join(root, 'tables');
  const data = dirs?.data ?? join(root, 'data');
  if (!dirs) {
    await mkdir(tables);
    await writeSurvey(join(tables, 'survey.arrow'));
    await writeSurvey(join(tables, 'slow.arrow'));
    await writeLarge(join(tables, 'large.arrow'));
  }
  const server = createServer({
    tables, data, formatOptions: FIXED_OPTIONS,
    createSource: (file) => (file.name === 'slow' ? slowSource(file, 40, 25) : openTableSource(file)),
    ...options,
  });
  const address = await server.listen(0, '127.0.0.1');
  return { server, url: address.url, root, tables, data };
}

/**
 * The table's batches cut into slices of `rows` rows, each held back `delayMs`: an export of
 * the 1,000-row sample then runs for about 1000 / rows × delayMs ms, long enough to be seen
 * running, cancelled or cut short by a restart.
 */
export function slowSource(file: TableFile, rows: number, delayMs: number): BatchSource {
  const inner = openTableSource(file);
  return {
    reopenable: inner.reopenable,
    async open(): Promise<OpenedSource> {
      const opened = await inner.open();
      async function* paced(): AsyncGenerator<RecordBatch> {
        for await (const batch of opened.batches) {
          for (let at = 0; at < batch.numRows; at += rows) {
            await sleep(delayMs);
            yield batch.slice(at, Math.min(batch.numRows, at + rows));
          }
        }
      }
      return { ...opened, bytesRead: () => opened.bytesRead(), close: () => opened.close(), batches: paced() };
    },
  };
}

export interface Reply {
  status: number;
  headers: Headers;
  json: unknown;
}

/** A JSON API call with fetch. `body` is sent as is when it is a string, else as JSON. */
export async function call(url: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)['Content-Type'] = 'application/json';
  }
  const res = await fetch(url + path, init);
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text === '' ? null : JSON.parse(text) as unknown };
}

/** A request with the path sent exactly as given (fetch would normalize "../"), over node:http. */
export function rawGet(url: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path, method: 'GET', headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

export async function createExport(url: string, table: string, body: unknown = { format: 'csv' }, headers: Record<string, string> = {}): Promise<ExportJSON> {
  const reply = await call(url, 'POST', `/tables/${table}/exports`, body, headers);
  if (reply.status !== 200) throw new Error(`POST exports: ${reply.status} ${JSON.stringify(reply.json)}`);
  return reply.json as ExportJSON;
}

export async function getExport(url: string, id: string, headers: Record<string, string> = {}): Promise<ExportJSON> {
  const reply = await call(url, 'GET', `/exports/${id}`, undefined, headers);
  if (reply.status !== 200) throw new Error(`GET export: ${reply.status} ${JSON.stringify(reply.json)}`);
  return reply.json as ExportJSON;
}

/** Polls until `until` holds for the export (bounded: throws after timeoutMs). */
export async function pollExport(url: string, id: string, until: (e: ExportJSON) => boolean, timeoutMs = 20_000, headers: Record<string, string> = {}): Promise<ExportJSON> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const exp = await getExport(url, id, headers);
    if (until(exp)) return exp;
    if (Date.now() > deadline) throw new Error(`export ${id} is still ${exp.status} after ${timeoutMs} ms`);
    await sleep(20);
  }
}

export const isFinished = (e: ExportJSON): boolean => e.status === 'completed' || e.status === 'failed' || e.status === 'cancelled';

/** Waits for a condition, checking every 10 ms (bounded). */
export async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

export interface Download {
  status: number;
  headers: Headers;
  bytes: Buffer;
}

export async function download(url: string, id: string, part: number, headers: Record<string, string> = {}): Promise<Download> {
  const res = await fetch(`${url}/exports/${id}/download?filePart=${part}`, { headers });
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}

/** The header form of an MD5: `md5=:<base64>:` (RFC 9530). */
export function md5Digest(bytes: Uint8Array): string {
  return `md5=:${createHash('md5').update(bytes).digest('base64')}:`;
}
