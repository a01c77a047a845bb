import { createHash, randomUUID } from 'node:crypto';
import { ExportError } from '../errors.js';
import type { Export, ExportJSON } from '../export/export.js';
import type { Exporter } from '../export/exporter.js';
import type { ExportFormat } from '../formats/protocol.js';
import { availableFormats, resolveFormat, type FormatOptions } from '../formats/registry.js';
import { MIN_MAX_FILE_SIZE } from '../sinks/limits.js';
import type { BatchSource } from '../sources/types.js';
import type { Table, TableBase } from '../table/types.js';
import { sendExportFile } from './download.js';
import { hidePaths, HttpError, readJSONBody, sendJSON } from './http-io.js';
import type { RequestContext, Route } from './router.js';
import type { ExportRecord, StoredRequest } from './records.js';
import type { ExportStore } from './store.js';
import type { TableCatalog, TableFile, TableInfo } from './tables.js';

/** What the handlers work on, made once per server. */
export interface App {
  /** The tables directory's catalog, or (serve --redis --tables s3://…) a bucket's (StoreTableCatalog). */
  catalog: Pick<TableCatalog, 'resolve' | 'find' | 'describe'>;
  store: ExportStore;
  exporter: Exporter;
  /** Options applied to every export of a format (e.g. a fixed avro sync marker). */
  formatOptions: FormatOptions;
  /** maxFileSize of an export whose request gives none. */
  maxFileSize: number | undefined;
  /** Directories whose paths no answer may show (hidePaths). */
  privatePaths: readonly string[];
  createSource: (file: TableFile) => BatchSource;
}

/** How long a cancel waits for a running export to stop before answering with its state as it is. */
const CANCEL_WAIT_MS = 10_000;

/** The routes of issue #6, below /api/v1. */
export function createRoutes(app: App): Route[] {
  return [
    { method: 'GET', path: '/tables/:ref', handle: async (ctx) => sendJSON(ctx.res, 200, (await findTable(app, ctx.params.ref)).base) },
    { method: 'GET', path: '/tables/:ref/variables', handle: (ctx) => listVariables(app, ctx) },
    { method: 'POST', path: '/tables/:ref/exports', handle: (ctx) => createExport(app, ctx) },
    { method: 'GET', path: '/exports/:id', handle: async (ctx) => sendJSON(ctx.res, 200, viewExport(app, ctx.params.id)) },
    { method: 'DELETE', path: '/exports/:id', handle: (ctx) => deleteExport(app, ctx) },
    { method: 'POST', path: '/exports/:id/cancel', handle: (ctx) => cancelExport(app, ctx) },
    { method: 'GET', path: '/exports/:id/download', handle: (ctx) => downloadExport(app, ctx) },
  ];
}

export async function findTable(app: Pick<App, 'catalog'>, ref: string): Promise<TableInfo> {
  const matches = await app.catalog.resolve(ref);
  if (matches.length === 0) throw new HttpError(404, `no table "${ref}" in the tables directory`);
  if (matches.length > 1) {
    const which = matches.map((m) => `${m.qualifiedReference} (${m.fileName}, id ${m.id})`).join(', ');
    throw new HttpError(409, `"${ref}" names several tables: ${which}; use a table id`);
  }
  try {
    return await app.catalog.describe(matches[0]);
  } catch (err) {
    // A file that does not parse is the table's fault (422); anything else is the server's (500).
    const status = err instanceof ExportError && err.code === 'SOURCE_FAILED' ? 422 : 500;
    throw new HttpError(status, `cannot read table "${matches[0].name}": ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** The table definition, or 422 when a column has no platform type (nothing could export it). */
export function requireDefinition(info: TableInfo): Table {
  if (info.table) return info.table;
  throw new HttpError(422, `table "${info.file.name}" cannot be exported: ${info.problem ?? 'its schema is not readable'}`);
}

/**
 * `{"results": [...], "nextPageToken": token | null}`: a page of `maxResults` variables (all when
 * absent) from `pageToken`, as the platform pages lists; its clients read both fields.
 */
export async function listVariables(app: Pick<App, 'catalog'>, ctx: RequestContext): Promise<void> {
  const table = requireDefinition(await findTable(app, ctx.params.ref));
  const start = parseCount(ctx.query.get('pageToken'), 'pageToken', 0) ?? 0;
  const size = parseCount(ctx.query.get('maxResults'), 'maxResults', 1) ?? table.variables.length;
  const results = table.variables.slice(start, start + size).map((v) => ({
    name: v.name,
    type: v.type,
    label: v.label ?? null,
    description: v.description ?? null,
    valueLabels: v.valueLabels ?? [],
  }));
  const next = start + size < table.variables.length ? String(start + size) : null;
  sendJSON(ctx.res, 200, { results, nextPageToken: next });
}

/** A whole number of at least `min` from the query, null when absent or empty; 400 otherwise. */
function parseCount(text: string | null, name: string, min: number): number | null {
  if (text === null || text === '') return null;
  if (!/^\d{1,9}$/.test(text) || Number(text) < min) throw new HttpError(400, `${name} must be a whole number of at least ${min}, got "${text}"`);
  return Number(text);
}

interface ExportBody {
  /** As sent (`ndjson` stays `ndjson`); csv when omitted. */
  format: string;
  maxFileSize: number | undefined;
}

export function parseExportBody(value: unknown): ExportBody {
  if (value === undefined) return { format: 'csv', maxFileSize: undefined };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HttpError(400, 'the request body must be a JSON object, e.g. {"format": "csv"}');
  }
  const { format, maxFileSize } = value as Record<string, unknown>;
  if (format !== undefined && format !== null && typeof format !== 'string') {
    throw new HttpError(400, `"format" must be a string (${describeFormats()}), got ${JSON.stringify(format)}`);
  }
  if (maxFileSize !== undefined && maxFileSize !== null && !(Number.isSafeInteger(maxFileSize) && (maxFileSize as number) > 0)) {
    throw new HttpError(400, `"maxFileSize" must be a positive integer number of bytes, got ${JSON.stringify(maxFileSize)}`);
  }
  if (typeof maxFileSize === 'number' && maxFileSize < MIN_MAX_FILE_SIZE) {
    throw new HttpError(400, `"maxFileSize" must be at least ${MIN_MAX_FILE_SIZE} bytes (1 MiB), got ${maxFileSize}: smaller parts would make too many files`);
  }
  return { format: format ?? 'csv', maxFileSize: (maxFileSize as number | null | undefined) ?? undefined };
}

function describeFormats(): string {
  return `one of ${availableFormats().join(', ')}; ndjson is accepted for jsonl`;
}

/** The format a client asked for, or 400 naming the formats this server can write. */
export function checkFormat(name: string): ExportFormat {
  let format: ExportFormat;
  try {
    format = resolveFormat(name.toLowerCase());
  } catch {
    throw new HttpError(400, `unknown format "${name}": use ${describeFormats()}`);
  }
  if (!availableFormats().includes(format)) throw new HttpError(400, `format "${name}" is not available in this version: use ${describeFormats()}`);
  return format;
}

async function createExport(app: App, ctx: RequestContext): Promise<void> {
  const value = await readJSONBody(ctx.req);
  const info = await findTable(app, ctx.params.ref);
  const body = parseExportBody(value);
  checkFormat(body.format);
  requireDefinition(info);
  let exp: Export;
  try {
    exp = startExport(app, info, { table: info.file.relativePath, format: body.format, maxFileSize: body.maxFileSize ?? app.maxFileSize ?? null }, {
      id: randomUUID(), createdAt: Date.now(), progressFloor: 0,
    });
  } catch (err) {
    if (err instanceof ExportError) throw new HttpError(400, err.message);
    throw err;
  }
  // The resource as created: queued (issue #6; the Exporter starts it on a later microtask),
  // answered once its record is on disk, so an export a client was told of survives a crash.
  const created = exp.toJSON();
  await app.store.written(exp.id);
  const now = viewExport(app, exp.id);
  sendJSON(ctx.res, 200, now.status === 'failed' ? now : created);
}

/**
 * Creates an export of the table and keeps its record: a new one, or (same id, creation time
 * and progress so far) one that a crash or a stop cut short. What would make two exports of
 * the same table differ is fixed by the table's version (its id and last update): the avro
 * sync marker, and the dta and sav time stamps, which say when the table was last updated. Two
 * exports of an unchanged table then write the same bytes: a run after a restart writes what
 * an uninterrupted one would have, and a client finds a file it downloaded before unchanged
 * (x-redivis-hash). The server's formatOptions still take precedence.
 */
export function startExport(app: App, info: TableInfo, request: StoredRequest, run: { id: string; createdAt: number; progressFloor: number }): Export {
  const format = resolveFormat(request.format.toLowerCase());
  const exp = app.exporter.create(app.createSource(info.file), {
    ...app.formatOptions, ...tableVersionOptions(info.base, app.formatOptions), format, ...run,
    out: app.store.dirOf(run.id), name: info.file.name, tableBase: info.base, maxFileSize: request.maxFileSize ?? undefined,
  });
  app.store.track(exp, request);
  return exp;
}

/** The options fixed by the table's version (see startExport), under those the server was given. */
export function tableVersionOptions(base: TableBase, given: FormatOptions): FormatOptions {
  const updated = new Date(Number(base.updatedAt));
  const marker = createHash('md5').update(`${String(base.id)}:${String(base.updatedAt)}:${String(base.numBytes)}`).digest('hex');
  return {
    avro: { syncMarker: marker, ...given.avro },
    dta: { timestamp: updated, ...given.dta },
    sav: { now: updated, ...given.sav },
  };
}

/**
 * Runs again, oldest first, the exports a crash or a stop left queued or running (their
 * partial files are gone already, see ExportStore.restore); one whose table is no longer
 * there, or no longer exportable, is failed saying so.
 */
export async function resumeExports(app: App, records: readonly ExportRecord[]): Promise<void> {
  for (const record of records) {
    const file = await app.catalog.find(record.request.table);
    const info = file ? await app.catalog.describe(file).catch(() => null) : null;
    if (!info?.table) {
      await app.store.failUnfinished(record, `its table ${record.request.table} is ${file ? 'no longer readable' : 'no longer in the tables directory'}`);
      continue;
    }
    const { id, createdAt, percentCompleted } = record.export;
    try {
      startExport(app, info, record.request, { id, createdAt, progressFloor: percentCompleted });
    } catch (err) {
      await app.store.failUnfinished(record, `it cannot run again: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

function findExport(app: App, id: string): Export {
  const exp = app.store.get(id);
  if (!exp) throw new HttpError(404, `no export "${id}"`);
  return exp;
}

/** The export as clients see it (ExportStore.view), its message without server paths. */
function viewExport(app: App, id: string): ExportJSON {
  const json = app.store.view(id);
  if (!json) throw new HttpError(404, `no export "${id}"`);
  return json.errorMessage === null ? json : { ...json, errorMessage: hidePaths(json.errorMessage, app.privatePaths) };
}

/** Only a completed export's files can be downloaded, as its record says (a failed record write fails it). */
async function downloadExport(app: App, ctx: RequestContext): Promise<void> {
  const exp = findExport(app, ctx.params.id);
  const status = viewExport(app, exp.id).status;
  if (status !== 'completed') throw new HttpError(409, `export ${exp.id} is ${status}; its files can be downloaded once it is completed`);
  await sendExportFile(ctx.req, ctx.res, exp, ctx.query.get('filePart'));
}

/** Deletes a finished export's files and record (204); 409 while it is queued or running: cancel it first. */
async function deleteExport(app: App, ctx: RequestContext): Promise<void> {
  const outcome = await app.store.delete(ctx.params.id);
  if (outcome === 'missing') throw new HttpError(404, `no export "${ctx.params.id}"`);
  if (outcome === 'unfinished') {
    throw new HttpError(409, `export ${ctx.params.id} is still ${app.store.get(ctx.params.id)?.status ?? 'running'}: cancel it first (POST /exports/${ctx.params.id}/cancel)`);
  }
  ctx.res.writeHead(204, { 'Cache-Control': 'no-store' });
  ctx.res.end();
}

/** Cancelling a cancelled export is a no-op; a completed or failed one cannot be cancelled (409). */
async function cancelExport(app: App, ctx: RequestContext): Promise<void> {
  const exp = findExport(app, ctx.params.id);
  if (exp.status === 'completed' || exp.status === 'failed') {
    throw new HttpError(409, `export ${exp.id} is ${exp.status} already; only a queued or running export can be cancelled`);
  }
  if (!exp.finished) {
    app.exporter.cancel(exp.id, 'cancelled by the client');
    // The pipeline stops at its next batch; answer once it has, so the answer says `cancelled`.
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => { timer = setTimeout(resolve, CANCEL_WAIT_MS); });
    await Promise.race([exp.done(), timeout]);
    clearTimeout(timer);
    // Answer once the record says so too, so a client (or a restart) never sees it half-written.
    if (exp.finished) await app.store.written(exp.id);
  }
  sendJSON(ctx.res, 200, viewExport(app, exp.id));
}
