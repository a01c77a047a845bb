import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Export, type ExportJSON, type ExportStatus } from '../export/export.js';
import { FORMATS, type ExportFormat, type Rename } from '../formats/protocol.js';
import type { ExportedFile } from '../pipeline/run.js';
import type { TableBase } from '../table/types.js';

/** The record's name in the export's directory; hidden, so it can never clash with a part's name. */
export const RECORD_FILE = '.export.json';

/** A part of a completed export, as the record keeps it (the path is rebuilt from the directory). */
export interface StoredFile {
  name: string;
  size: number;
  rows: number;
  md5: string;
}

/** What was asked for, kept to explain a record to whoever reads the data directory. */
export interface StoredRequest {
  /** The table's file name in the tables directory. */
  table: string;
  /** The format as the client spelled it (`ndjson` stays `ndjson` here). */
  format: string;
  maxFileSize: number | null;
}

/** One export's state on disk: its resource plus what the resource does not show. */
export interface ExportRecord {
  version: 1;
  export: ExportJSON;
  errorCode: string | null;
  request: StoredRequest;
  rows: number;
  files: StoredFile[];
  warnings: string[];
  renames: Rename[];
  /** When the export ended (ms since the epoch), for retention; null while it runs. */
  finishedAt: number | null;
}

export function buildRecord(exp: Export, request: StoredRequest, finishedAt: number | null): ExportRecord {
  return {
    version: 1,
    finishedAt,
    export: exp.toJSON(),
    errorCode: exp.errorCode,
    request,
    rows: exp.rows,
    files: exp.files.map(({ name, size, rows, md5 }) => ({ name, size, rows, md5 })),
    warnings: [...exp.warnings],
    renames: [...exp.renames],
  };
}

/**
 * Writes the record so that a reader (or a restart after a crash) sees either the old record
 * or the new one, never a torn one: a temporary file, flushed to disk, renamed over the old.
 */
export async function writeRecord(dir: string, record: ExportRecord): Promise<void> {
  // Not recursive: the data directory exists (checked at start), and a recursive mkdir reports
  // a read-only file system as ENOENT, which would hide the cause.
  await mkdir(dir).catch((err: NodeJS.ErrnoException) => { if (err.code !== 'EEXIST') throw err; });
  const temp = join(dir, `${RECORD_FILE}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await open(temp, 'w');
    try {
      await handle.writeFile(`${JSON.stringify(record, null, 2)}\n`, 'utf8');
      await handle.datasync();
    } finally {
      await handle.close();
    }
    await rename(temp, join(dir, RECORD_FILE));
  } catch (err) {
    // A full disk, say: the temporary goes, the record stays as it was.
    await rm(temp, { force: true }).catch(() => undefined);
    throw err;
  }
}

const STATUSES: readonly ExportStatus[] = ['queued', 'running', 'completed', 'failed', 'cancelled'];

/** The record in `text`, checked enough to be trusted: an error says what is wrong with it. */
export function parseRecord(text: string, id: string): ExportRecord {
  const value = JSON.parse(text) as unknown;
  const record = value as ExportRecord;
  if (!isObject(value) || record.version !== 1 || !isObject(record.export)) throw new Error('not an export record (version 1)');
  const exp = record.export;
  if (exp.id !== id) throw new Error(`the record is of export ${String(exp.id)}, not of its directory ${id}`);
  if (!STATUSES.includes(exp.status)) throw new Error(`unknown status ${String(exp.status)}`);
  if (!(FORMATS as readonly string[]).includes(exp.format)) throw new Error(`unknown format ${String(exp.format)}`);
  if (!Number.isSafeInteger(exp.createdAt)) throw new Error('createdAt is not an integer');
  if (exp.table !== null && !(isObject(exp.table) && exp.table.kind === 'table')) throw new Error('table is not a table');
  if (!Array.isArray(record.files) || !record.files.every(isStoredFile)) throw new Error('files is not a list of plain file names, sizes, rows and MD5s');
  if (!isObject(record.request) || typeof record.request.table !== 'string') throw new Error('request is missing');
  return {
    ...record,
    rows: Number.isSafeInteger(record.rows) ? record.rows : 0,
    warnings: Array.isArray(record.warnings) ? record.warnings.map(String) : [],
    renames: Array.isArray(record.renames) ? record.renames : [],
    errorCode: typeof record.errorCode === 'string' ? record.errorCode : null,
    finishedAt: Number.isSafeInteger(record.finishedAt) ? record.finishedAt : null,
  };
}

/**
 * An Export in the state its record describes, with its files at their paths in `dir`. The
 * Export's own transitions rebuild size, fileCount and percentCompleted from the files, so a
 * restored resource is exactly what a live one would show.
 */
export function restoreExport(record: ExportRecord, dir: string): Export {
  const json = record.export;
  const exp = new Export(json.id, json.format as ExportFormat, json.table as TableBase | null, json.createdAt);
  exp.warnings = record.warnings;
  exp.renames = record.renames;
  const files: ExportedFile[] = record.files.map((f) => ({ ...f, path: join(dir, f.name) }));
  if (json.status === 'completed') exp.markCompleted(files, record.rows);
  else if (json.status === 'failed') exp.markFailed(json.errorMessage ?? 'the export failed', record.errorCode ?? 'INTERNAL');
  else if (json.status === 'cancelled') exp.markCancelled(json.errorMessage ?? 'the export was cancelled');
  return exp; // queued and running are settled by the caller (the export was interrupted)
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A part's name must be a plain name in the export's directory: a record never points elsewhere. */
function isStoredFile(value: unknown): value is StoredFile {
  if (!isObject(value)) return false;
  const { name, size, rows, md5 } = value;
  return typeof name === 'string' && name !== '' && !name.startsWith('.') && !/[/\\\0]/.test(name)
    && Number.isSafeInteger(size) && (size as number) >= 0
    && Number.isSafeInteger(rows) && (rows as number) >= 0
    && typeof md5 === 'string' && /^[0-9a-f]{32}$/.test(md5);
}
