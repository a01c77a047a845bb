import { randomUUID } from 'node:crypto';
import { posix } from 'node:path';
import { DistributedExporter } from '../distributed/exporter.js';
import { ExportError } from '../errors.js';
import type { Export, ExportJSON } from '../export/export.js';
import type { FormatOptions } from '../formats/registry.js';
import { openStore } from '../store/open.js';
import { isS3Url } from '../store/s3-location.js';
import { sendStoredExportFile } from './download.js';
import { checkFormat, findTable, listVariables, parseExportBody, requireDefinition, tableVersionOptions, type App } from './handlers.js';
import { hidePaths, HttpError, readJSONBody, sendJSON } from './http-io.js';
import type { RequestContext, Route } from './router.js';

/** What the routes of `serve --redis` work on: the tables as in the embedded mode, the exports in Redis. */
export interface DistributedApp extends Pick<App, 'catalog' | 'formatOptions' | 'maxFileSize' | 'privatePaths'> {
  exporter: DistributedExporter;
  /** `--data`: a directory every worker mounts, or s3://bucket/prefix; an export's files go to `<data>/<id>/`. */
  data: string;
}

/**
 * The routes of issue #6 for `serve --redis` (issue #13): the same paths, bodies and answers as
 * the embedded server's, but an export is created as a BullMQ flow run by `tabular-export
 * worker` processes, and every answer is read from Redis, so any number of API processes
 * answer for any export and one killed loses nothing. Downloads stream from the data store.
 */
export function createDistributedRoutes(app: DistributedApp): Route[] {
  return [
    { method: 'GET', path: '/tables/:ref', handle: async (ctx) => sendJSON(ctx.res, 200, (await findTable(app, ctx.params.ref)).base) },
    { method: 'GET', path: '/tables/:ref/variables', handle: (ctx) => listVariables(app, ctx) },
    { method: 'POST', path: '/tables/:ref/exports', handle: (ctx) => createExport(app, ctx) },
    { method: 'GET', path: '/exports/:id', handle: async (ctx) => sendJSON(ctx.res, 200, view(app, await findExport(app, ctx.params.id))) },
    { method: 'DELETE', path: '/exports/:id', handle: (ctx) => deleteExport(app, ctx) },
    { method: 'POST', path: '/exports/:id/cancel', handle: (ctx) => cancelExport(app, ctx) },
    { method: 'GET', path: '/exports/:id/download', handle: (ctx) => downloadExport(app, ctx) },
  ];
}

/** `<data>/<id>`: a folder of the data directory, or a prefix of the data bucket. */
export function exportLocation(data: string, id: string): string {
  return isS3Url(data) ? `${data.replace(/\/+$/, '')}/${id}` : posix.join(data, id);
}

async function createExport(app: DistributedApp, ctx: RequestContext): Promise<void> {
  const value = await readJSONBody(ctx.req);
  const info = await findTable(app, ctx.params.ref);
  const body = parseExportBody(value);
  const format = checkFormat(body.format);
  requireDefinition(info);
  const id = randomUUID();
  const options: FormatOptions = { ...app.formatOptions, ...tableVersionOptions(info.base, app.formatOptions) };
  let exp: Export;
  try {
    exp = await app.exporter.create(info.file.path, {
      ...options, format, id, out: exportLocation(app.data, id), name: info.file.name, tableBase: info.base,
      maxFileSize: body.maxFileSize ?? app.maxFileSize,
    });
  } catch (err) {
    if (err instanceof ExportError) throw new HttpError(err.code === 'SOURCE_FAILED' ? 422 : 400, err.message);
    throw err;
  }
  sendJSON(ctx.res, 200, view(app, exp));
}

async function findExport(app: DistributedApp, id: string): Promise<Export> {
  const exp = await app.exporter.get(id);
  if (!exp) throw new HttpError(404, `no export "${id}"`);
  return exp;
}

function view(app: DistributedApp, exp: Export): ExportJSON {
  const json = exp.toJSON();
  return json.errorMessage === null ? json : { ...json, errorMessage: hidePaths(json.errorMessage, app.privatePaths) };
}

async function downloadExport(app: DistributedApp, ctx: RequestContext): Promise<void> {
  const exp = await findExport(app, ctx.params.id);
  await sendStoredExportFile(ctx.req, ctx.res, exp, ctx.query.get('filePart'), (file) => app.exporter.openFile(exp.id, file.name));
}

/** Cancelling a cancelled export is a no-op; a completed or failed one cannot be cancelled (409). */
async function cancelExport(app: DistributedApp, ctx: RequestContext): Promise<void> {
  const exp = await findExport(app, ctx.params.id);
  if (exp.status === 'completed' || exp.status === 'failed') {
    throw new HttpError(409, `export ${exp.id} is ${exp.status} already; only a queued or running export can be cancelled`);
  }
  const now = await app.exporter.cancel(exp.id, 'cancelled by the client') as Export;
  sendJSON(ctx.res, 200, view(app, now));
}

/**
 * Deletes the files and records of exports that ended more than `retention` ms ago (any API
 * process may run it; deleting twice is harmless). Returns how many went.
 */
export async function expireExports(app: DistributedApp, retention: number): Promise<number> {
  const ids = await app.exporter.endedBefore(retention);
  const data = openStore(app.data);
  for (const id of ids) {
    await data.deletePrefix(`${id}/`);
    await app.exporter.forget(id);
  }
  return ids.length;
}

/** 204 once a finished export's files and record are gone; 409 while it is queued or running. */
async function deleteExport(app: DistributedApp, ctx: RequestContext): Promise<void> {
  const exp = await findExport(app, ctx.params.id);
  if (!exp.finished) {
    throw new HttpError(409, `export ${exp.id} is still ${exp.status}: cancel it first (POST /exports/${exp.id}/cancel)`);
  }
  await openStore(app.data).deletePrefix(`${exp.id}/`);
  await app.exporter.forget(exp.id);
  ctx.res.writeHead(204, { 'Cache-Control': 'no-store' });
  ctx.res.end();
}
