import { once } from 'node:events';
import { stat } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Exporter } from '../export/exporter.js';
import { sweepTempFiles } from '../temp-files.js';
import type { FormatOptions } from '../formats/registry.js';
import type { BatchSource } from '../sources/types.js';
import { createRoutes, resumeExports, type App } from './handlers.js';
import { checkToken, HttpError, sendError } from './http-io.js';
import { API_BASE, matchRoute, type Route } from './router.js';
import { ExportStore, type RestoreSummary } from './store.js';
import { DEFAULT_DATASET, DEFAULT_OWNER, openTableSource, TableCatalog, type TableFile } from './tables.js';

export { RESTART_MESSAGE } from './store.js';
export type { RestoreSummary } from './store.js';
export type { TableFile } from './tables.js';

export interface ServerOptions {
  /** Directory of the tables: its Arrow IPC (.arrow, .arrows, .feather) and Parquet files. */
  tables: string;
  /** Directory of the exports: one folder per export with its files and its record. */
  data: string;
  /** Exports running at once; the others wait `queued`. Default 2. */
  concurrency?: number;
  /** When set, every request must carry `Authorization: Bearer <token>`. */
  token?: string | null;
  /** Options applied to every export of a format, e.g. `{ avro: { codec: 'snappy' } }`. */
  formatOptions?: FormatOptions;
  /** maxFileSize (bytes) of an export whose request gives none; default none (the formats' own defaults). */
  maxFileSize?: number;
  /**
   * Owner and dataset of the flat table files directly in `tables` (default `local` and
   * `default`): `survey.arrow` there is `local.default.survey`. Files in `tables/<owner>/<dataset>/`
   * belong to that owner and dataset.
   */
  defaultOwner?: string;
  defaultDataset?: string;
  /** The source an export reads a table from (default: the file itself); tests slow it down. */
  createSource?: (file: TableFile) => BatchSource;
  /** Where the server reports what it did (restored exports, failures); silent by default. */
  log?: (line: string) => void;
}

export interface ServerAddress {
  host: string;
  port: number;
  /** The API's base URL, e.g. `http://127.0.0.1:8080/api/v1`. */
  url: string;
}

export interface ExportServer {
  /** Restores the exports under `data` (first call only), then listens. Port 0 picks a free one. */
  listen(port?: number, host?: string): Promise<ServerAddress>;
  /**
   * Stops listening, drops open connections and stops every queued or running export. Their
   * records are left as they were, as a crash would leave them, so the next server on the same
   * data directory runs them again.
   */
  close(): Promise<void>;
  /** What the last listen() found under `data`. */
  readonly restored: RestoreSummary | null;
}

/** The reference HTTP server of the Export API (issue #6) over a directory of tables. */
export function createServer(options: ServerOptions): ExportServer {
  const log = options.log ?? ((): void => undefined);
  const token = options.token ?? null;
  // RFC 6750 b64token: what can follow "Bearer " in a header.
  if (token !== null && !/^[A-Za-z0-9\-._~+/]+=*$/.test(token)) throw new Error('the token must be a non-empty bearer token: letters, digits and -._~+/ (then = padding)');
  const defaultOwner = options.defaultOwner ?? DEFAULT_OWNER;
  const defaultDataset = options.defaultDataset ?? DEFAULT_DATASET;
  for (const [what, name] of [['defaultOwner', defaultOwner], ['defaultDataset', defaultDataset]]) {
    if (!/^[A-Za-z0-9_]+$/.test(name)) throw new Error(`${what} must be a name of letters, digits and _ (it is one part of a table reference), got "${name}"`);
  }
  const maxFileSize = options.maxFileSize;
  if (maxFileSize !== undefined && !(Number.isSafeInteger(maxFileSize) && maxFileSize > 0)) throw new Error(`maxFileSize must be a positive integer number of bytes, got ${String(maxFileSize)}`);
  const exporter = new Exporter({ concurrency: options.concurrency ?? 2 });
  const store = new ExportStore(options.data, log);
  const app: App = {
    catalog: new TableCatalog(options.tables, { defaultOwner, defaultDataset }),
    store,
    exporter,
    formatOptions: options.formatOptions ?? {},
    maxFileSize,
    createSource: options.createSource ?? openTableSource,
  };
  const routes = createRoutes(app);
  const http = createHttpServer((req, res) => { void handle(routes, token, log, req, res); });
  let restored: RestoreSummary | null = null;
  let closing: Promise<void> | null = null;

  return {
    get restored() { return restored; },
    async listen(port = 8080, host = '127.0.0.1') {
      if (!(await stat(options.tables).then((s) => s.isDirectory(), () => false))) {
        throw new Error(`the tables directory ${options.tables} does not exist`);
      }
      if (!restored) {
        const found = await store.restore();
        // What a crashed server left in the temp directory (spools, strL files), before anything new is made.
        found.summary.swept = await sweepTempFiles(exporter.tempDir);
        for (const name of found.summary.swept) log(`removed ${name}, left in ${exporter.tempDir} by a process that is gone`);
        await resumeExports(app, found.unfinished);
        restored = found.summary;
      }
      http.listen(port, host);
      await once(http, 'listening');
      const address = http.address() as AddressInfo;
      const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      return { host: address.address, port: address.port, url: `http://${shown}:${address.port}${API_BASE}` };
    },
    close() {
      closing ??= (async () => {
        const stopped = http.listening ? new Promise<void>((resolve) => { http.close(() => resolve()); }) : Promise.resolve();
        await store.freeze();
        const unfinished = store.unfinished();
        for (const exp of unfinished) exporter.cancel(exp.id, 'the server is shutting down');
        // The pipelines remove their partial files as they stop; wait so nothing writes after close.
        await Promise.all(unfinished.map((exp) => exp.done()));
        http.closeAllConnections();
        await stopped;
      })();
      return closing;
    },
  };
}

async function handle(routes: readonly Route[], token: string | null, log: (line: string) => void, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    checkToken(req, token);
    const { route, params, query } = matchRoute(routes, req.method ?? 'GET', req.url ?? '/');
    await route.handle({ req, res, params, query });
  } catch (err) {
    const error = err instanceof HttpError ? err : new HttpError(500, 'internal error');
    if (!(err instanceof HttpError)) log(`${req.method} ${req.url}: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    if (res.headersSent) res.destroy();
    else sendError(res, error);
  }
}
