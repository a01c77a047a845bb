import { once } from 'node:events';
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { Exporter } from '../export/exporter.js';
import { MIN_MAX_FILE_SIZE } from '../sinks/limits.js';
import { sweepTempFiles } from '../temp-files.js';
import type { FormatOptions } from '../formats/registry.js';
import type { BatchSource } from '../sources/types.js';
import { DistributedExporter } from '../distributed/exporter.js';
import { isS3Url } from '../store/s3-location.js';
import { createDistributedRoutes, expireExports } from './distributed-routes.js';
import { openStore } from '../store/open.js';
import { StoreTableCatalog } from './store-tables.js';
import { createRoutes, resumeExports, type App } from './handlers.js';
import { checkRequestOrigin, isLoopbackHost, type GuardOptions } from './guards.js';
import { checkToken, hidePaths, HttpError, sendError } from './http-io.js';
import { API_BASE, matchRoute, type Route } from './router.js';
import { ExportStore, type RestoreSummary } from './store.js';
import { DEFAULT_DATASET, DEFAULT_OWNER, openTableSource, TableCatalog, type TableFile } from './tables.js';

export { RESTART_MESSAGE } from './store.js';
export type { RestoreSummary } from './store.js';
export type { TableFile } from './tables.js';

export interface ServerOptions {
  /** Directory of the tables: its Arrow IPC (.arrow, .arrows, .feather) and Parquet files (with `redis`, also s3://bucket/prefix). */
  tables: string;
  /** Directory of the exports: one folder per export with its files and its record. */
  data: string;
  /** Exports running at once; the others wait `queued`. Default 2. */
  concurrency?: number;
  /** Threads each export encodes with (ExporterOptions.workers); default the cores available. */
  workers?: number;
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
  /** Web origins (scheme://host[:port]) whose pages may call the API; none by default. */
  allowedOrigins?: readonly string[];
  /** Finished exports (their files and records) are deleted this long after they ended, in ms; default 7 days; Infinity keeps them. */
  retention?: number;
  /** On close, how long downloads under way may go on before their connections are cut, in ms; default 30 s. */
  drainTimeout?: number;
  /** Connections served at once; more are refused. Default 256. */
  maxConnections?: number;
  /** A request's headers and body must have arrived within this, in ms (default 10 s; headers alone within half of it). */
  requestTimeout?: number;
  /** The source an export reads a table from (default: the file itself); tests slow it down. */
  createSource?: (file: TableFile) => BatchSource;
  /** Where the server reports what it did (restored exports, failures); silent by default. */
  log?: (line: string) => void;
  /**
   * The distributed mode (issue #13, docs/DISTRIBUTED.md): exports run as BullMQ jobs on
   * `tabular-export worker` processes, their records in this Redis (`redis://host:port`), their
   * files under `data` (a directory every worker mounts, or s3://bucket/prefix). `tables` must
   * be a directory every worker mounts at the same path. Without it, everything runs in process.
   */
  redis?: string;
  /** With `redis`: rows per shard, about (default 2,000,000). */
  shardRows?: number;
  /** With `redis`: the key prefix of the deployment in Redis (default `tabular-export`). */
  redisPrefix?: string;
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

/** A server that cannot start as configured (the CLI exits 2 with its message). */
export class ServerConfigError extends Error {
  override readonly name = 'ServerConfigError';
}

export const DEFAULT_RETENTION_MS = 7 * 24 * 3600 * 1000;
const DEFAULT_DRAIN_MS = 30_000;
const DEFAULT_MAX_CONNECTIONS = 256;
/** A request (headers and a body of a few small fields) must have arrived within this (slowloris). */
const REQUEST_TIMEOUT_MS = 10_000;

/** The reference HTTP server of the Export API (issue #6) over a directory of tables. */
export function createServer(options: ServerOptions): ExportServer {
  const log = options.log ?? ((): void => undefined);
  const token = options.token ?? null;
  // RFC 6750 b64token: what can follow "Bearer " in a header.
  if (token !== null && !/^[A-Za-z0-9\-._~+/]+=*$/.test(token)) throw new ServerConfigError('the token must be a non-empty bearer token: letters, digits and -._~+/ (then = padding)');
  const defaultOwner = options.defaultOwner ?? DEFAULT_OWNER;
  const defaultDataset = options.defaultDataset ?? DEFAULT_DATASET;
  for (const [what, name] of [['defaultOwner', defaultOwner], ['defaultDataset', defaultDataset]]) {
    if (!/^[A-Za-z0-9_]+$/.test(name)) throw new ServerConfigError(`${what} must be a name of letters, digits and _ (it is one part of a table reference), got "${name}"`);
  }
  const maxFileSize = options.maxFileSize;
  if (maxFileSize !== undefined && !(Number.isSafeInteger(maxFileSize) && maxFileSize >= MIN_MAX_FILE_SIZE)) {
    throw new ServerConfigError(`maxFileSize must be a whole number of bytes of at least ${MIN_MAX_FILE_SIZE} (1 MiB), got ${String(maxFileSize)}`);
  }
  const retention = options.retention ?? DEFAULT_RETENTION_MS;
  if (!(retention > 0)) throw new ServerConfigError(`retention must be a positive time in ms (Infinity keeps exports), got ${String(retention)}`);
  const exporter = new Exporter({ concurrency: options.concurrency ?? 2, workers: options.workers });
  const store = new ExportStore(options.data, log, exporter);
  const app: App = {
    catalog: isS3Url(options.tables)
      ? new StoreTableCatalog(openStore(options.tables), { defaultOwner, defaultDataset })
      : new TableCatalog(options.tables, { defaultOwner, defaultDataset }),
    store,
    exporter,
    formatOptions: options.formatOptions ?? {},
    maxFileSize,
    createSource: options.createSource ?? openTableSource,
    privatePaths: [...[options.tables, options.data].map((p) => (isS3Url(p) ? p : resolve(p))), resolve(exporter.tempDir)],
  };
  const guard = { allowedOrigins: options.allowedOrigins ?? [], tokenless: token === null };
  const distributed = options.redis === undefined ? null
    : new DistributedExporter({ redis: options.redis, prefix: options.redisPrefix, shardRows: options.shardRows });
  const distributedApp = distributed ? { ...app, exporter: distributed, data: isS3Url(options.data) ? options.data : resolve(options.data) } : null;
  const routes = distributedApp ? createDistributedRoutes(distributedApp) : createRoutes(app);
  const requestTimeout = options.requestTimeout ?? REQUEST_TIMEOUT_MS;
  // Node checks these timeouts every connectionsCheckingInterval (30 s by default): often enough here.
  const http = createHttpServer({ headersTimeout: requestTimeout / 2, requestTimeout, connectionsCheckingInterval: Math.min(1000, requestTimeout / 4) }, (req, res) => {
    void handle(routes, token, guard, app.privatePaths, log, req, res);
  });
  http.maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  const active = new Set<ServerResponse>();
  http.on('request', (_req: IncomingMessage, res: ServerResponse) => {
    active.add(res);
    res.once('close', () => active.delete(res));
  });
  let restored: RestoreSummary | null = null;
  let closing: Promise<void> | null = null;
  let expiry: NodeJS.Timeout | null = null;

  return {
    get restored() { return restored; },
    async listen(port = 8080, host = '127.0.0.1') {
      if (token === null && !isLoopbackHost(host)) {
        throw new ServerConfigError(`listening on ${host} without a token would let anyone who reaches it read every table: give a token (--token or TABULAR_EXPORT_TOKEN), or listen on 127.0.0.1`);
      }
      if (isS3Url(options.tables) && !distributed) throw new ServerConfigError('tables in s3:// are served with --redis (the distributed mode) only');
      if (!isS3Url(options.tables) && !(await stat(options.tables).then((st) => st.isDirectory(), () => false))) {
        throw new ServerConfigError(`the tables directory ${options.tables} does not exist`);
      }
      if (!isS3Url(options.data)) await checkWritable(options.data);
      if (distributedApp && !restored) {
        // Nothing to restore: every export lives in Redis. Checked here, so a wrong URL fails the start.
        await distributedApp.exporter.ids().catch((err: unknown) => { throw new ServerConfigError(`Redis at ${options.redis} cannot be reached: ${err instanceof Error ? err.message : String(err)}`); });
        restored = { restored: 0, resumed: 0, skipped: [], swept: [] };
        if (Number.isFinite(retention)) {
          const sweep = (): void => { void expireExports(distributedApp, retention).catch((err: unknown) => log(`retention: ${err instanceof Error ? err.message : String(err)}`)); };
          sweep();
          expiry = setInterval(sweep, Math.min(retention / 4, 60_000));
          expiry.unref();
        }
      }
      if (!restored) {
        const found = await store.restore();
        // What a crashed server left in the temp directory (spools, strL files), before anything new is made.
        found.summary.swept = await sweepTempFiles(exporter.tempDir);
        for (const name of found.summary.swept) log(`removed ${name}, left in ${exporter.tempDir} by a process that is gone`);
        await resumeExports(app, found.unfinished);
        restored = found.summary;
        if (Number.isFinite(retention)) {
          await store.expire(retention);
          expiry = setInterval(() => { void store.expire(retention); }, Math.min(retention / 4, 60_000));
          expiry.unref();
        }
      }
      http.listen(port, host);
      await once(http, 'listening');
      const address = http.address() as AddressInfo;
      const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      return { host: address.address, port: address.port, url: `http://${shown}:${address.port}${API_BASE}` };
    },
    close() {
      closing ??= (async () => {
        if (expiry) clearInterval(expiry);
        // No new connections; idle keep-alive ones close now, those with a request under way when it ends.
        const stopped = http.listening ? new Promise<void>((done) => { http.close(() => done()); }) : Promise.resolve();
        await distributedApp?.exporter.close();
        await store.freeze();
        const unfinished = store.unfinished();
        for (const exp of unfinished) exporter.cancel(exp.id, 'the server is shutting down');
        // The pipelines remove their partial files as they stop; wait so nothing writes after close.
        await Promise.all(unfinished.map((exp) => exp.done()));
        await drain(active, options.drainTimeout ?? DEFAULT_DRAIN_MS);
        http.closeAllConnections();
        await stopped;
      })();
      return closing;
    },
  };
}

/** Waits until the responses under way (downloads) have ended, or `timeoutMs`, whichever comes first. */
async function drain(active: Set<ServerResponse>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (active.size > 0 && Date.now() < deadline) await new Promise((done) => setTimeout(done, 50));
}

/** The data directory must take files: made if missing, then a probe written and removed. */
async function checkWritable(dir: string): Promise<void> {
  const probe = join(dir, `.write-probe-${process.pid}`);
  try {
    await mkdir(dir, { recursive: true });
    await writeFile(probe, '');
    await rm(probe, { force: true });
  } catch (err) {
    throw new ServerConfigError(`the data directory ${dir} is not writable: ${err instanceof Error ? err.message : String(err)}`);
  }
}

async function handle(routes: readonly Route[], token: string | null, guard: GuardOptions, privatePaths: readonly string[],
  log: (line: string) => void, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    checkRequestOrigin(req, guard);
    checkToken(req, token);
    const { route, params, query } = matchRoute(routes, req.method ?? 'GET', req.url ?? '/');
    await route.handle({ req, res, params, query });
  } catch (err) {
    let error = err instanceof HttpError ? err : new HttpError(500, 'internal error');
    if (!(err instanceof HttpError) || error.status >= 500) log(`${req.method} ${req.url}: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    // The log keeps paths; an answer never shows the server's layout.
    error = new HttpError(error.status, hidePaths(error.message, privatePaths), error.headers);
    if (res.headersSent) res.destroy();
    else sendError(res, error);
  }
}
