import type { Dirent } from 'node:fs';
import type { Schema } from 'apache-arrow';
import { createHash } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { fromIPC, fromParquet } from '../sources/index.js';
import type { BatchSource } from '../sources/types.js';
import { META, tableFromSchema } from '../table/arrow-types.js';
import type { Table, TableBase } from '../table/types.js';
import { countIPCRows } from './ipc-rows.js';
import { normalizeName, parseReference, type TableReference } from './references.js';

/** Arrow IPC (file or stream) and Parquet, the inputs the library reads from a path. */
const KINDS: Readonly<Record<string, TableFile['kind']>> = {
  '.arrow': 'ipc', '.arrows': 'ipc', '.feather': 'ipc', '.parquet': 'parquet',
};

/** One table: `<tables>/<owner>/<dataset>/<table>.<ext>`, or a flat `<tables>/<table>.<ext>` of the default dataset. */
export interface TableFile {
  /** The file name without its extension, as written (refs match it normalized, see references.ts). */
  name: string;
  /** Owner and dataset names as written (the directories', or the server's defaults for a flat file). */
  owner: string;
  dataset: string;
  /** `owner.dataset.table`, names as written. */
  qualifiedReference: string;
  /** Stable across restarts and distinct per file, so `/tables/<id>` always names one file. */
  id: string;
  fileName: string;
  /** The file's path below the tables directory, `/`-separated: what an export's record keeps. */
  relativePath: string;
  path: string;
  kind: 'ipc' | 'parquet';
}

export interface TableInfo {
  file: TableFile;
  /** The base representation (spec/export-resource.md, "Table base fields"). */
  base: TableBase;
  /** The table definition from the file's schema; null when a column has no platform type. */
  table: Table | null;
  /** Why `table` is null. */
  problem: string | null;
}

export interface CatalogOptions {
  /** Owner and dataset of the flat files directly in the tables directory. */
  defaultOwner: string;
  defaultDataset: string;
}

export const DEFAULT_OWNER = 'local';
export const DEFAULT_DATASET = 'default';

interface Cached {
  key: string;
  info: TableInfo;
}

/** Which owners and datasets a listing looks into (normalized names; null: all). */
export interface Scope {
  owner: string | null;
  dataset: string | null;
}

/**
 * The tables of one directory, two levels deep. Every lookup lists directories and compares
 * names, so a ref is never joined into a path: whatever a client sends ("../etc/passwd", an
 * absolute path), it can only ever name a regular file listed in the tree. Symbolic links
 * (to files or directories) and hidden entries are not listed, since they could point
 * anywhere. Descriptions are cached per file size and mtime.
 */
export class TableCatalog {
  private readonly cache = new Map<string, Cached>();
  private readonly defaults: { owner: string; dataset: string };

  constructor(readonly dir: string, options: CatalogOptions = { defaultOwner: DEFAULT_OWNER, defaultDataset: DEFAULT_DATASET }) {
    this.defaults = { owner: options.defaultOwner, dataset: options.defaultDataset };
  }

  /** Every table in scope, sorted by relative path. */
  async list(scope: Scope = { owner: null, dataset: null }): Promise<TableFile[]> {
    const files: TableFile[] = [];
    const top = await readdir(this.dir, { withFileTypes: true });
    if (inScope(scope, this.defaults.owner, this.defaults.dataset)) {
      files.push(...tableFiles(this.dir, top, this.defaults.owner, this.defaults.dataset, ''));
    }
    for (const owner of visibleDirs(top)) {
      if (scope.owner !== null && normalizeName(owner) !== scope.owner) continue;
      const ownerDir = join(this.dir, owner);
      for (const dataset of visibleDirs(await readdirOrEmpty(ownerDir))) {
        if (scope.dataset !== null && normalizeName(dataset) !== scope.dataset) continue;
        const datasetDir = join(ownerDir, dataset);
        files.push(...tableFiles(datasetDir, await readdirOrEmpty(datasetDir), owner, dataset, `${owner}/${dataset}/`));
      }
    }
    return files.sort((a, b) => (a.relativePath < b.relativePath ? -1 : a.relativePath > b.relativePath ? 1 : 0));
  }

  /**
   * Every table a ref names; more than one means the ref is ambiguous. A ref of one part is a
   * table id (any dataset) or a name in the default dataset; of two parts, `dataset.table` of
   * the default owner; of three, `owner.dataset.table`. A `:<referenceId>` on the table picks
   * among tables of the same name, or names the table alone when no name matches.
   */
  async resolve(ref: string): Promise<TableFile[]> {
    return resolveReference(ref, (scope) => this.list(scope), this.defaults);
  }

  /** The table an export's record names by its relative path, if it is still there. */
  async find(relativePath: string): Promise<TableFile | null> {
    return (await this.list()).find((f) => f.relativePath === relativePath) ?? null;
  }

  async describe(file: TableFile): Promise<TableInfo> {
    const stats = await stat(file.path);
    const key = `${stats.size}:${stats.mtimeMs}`;
    const hit = this.cache.get(file.path);
    if (hit && hit.key === key) return hit.info;
    const { schema, numRows } = await readShape(file);
    // birthtime is 0 on file systems that do not keep it.
    const info = tableInfoOf(file, schema, numRows, { size: stats.size, createdAt: stats.birthtimeMs > 0 ? stats.birthtimeMs : stats.ctimeMs, updatedAt: stats.mtimeMs });
    this.cache.set(file.path, { key, info });
    return info;
  }
}

/**
 * The tables of a catalog (its `list`, in a scope or whole) that `ref` names: a ref of one part
 * may be a table id first; otherwise the names in the ref's scope. Shared by the tables
 * directory and a bucket's tables (store-tables.ts).
 */
export async function resolveReference(ref: string, list: (scope?: Scope) => Promise<TableFile[]>, defaults: { owner: string; dataset: string }): Promise<TableFile[]> {
  const parsed = parseReference(ref);
  if (!parsed) return [];
  if (parsed.owner === null && parsed.dataset === null && parsed.tableReferenceId === null) {
    const byId = (await list()).filter((f) => f.id === ref);
    if (byId.length > 0) return byId;
  }
  return pickTables(await list(scopeOfReference(parsed, defaults)), parsed);
}

/** One part names a table of the default dataset; two, a dataset of the default owner. */
export function scopeOfReference(ref: TableReference, defaults: { owner: string; dataset: string }): Scope {
  return {
    owner: ref.owner ?? normalizeName(defaults.owner),
    dataset: ref.dataset ?? normalizeName(defaults.dataset),
  };
}

/** A table's description from its schema, row count and file times (ms). */
export function tableInfoOf(file: TableFile, schema: Schema, numRows: number | null, stats: { size: number; createdAt: number; updatedAt: number }): TableInfo {
  let table: Table | null = null;
  let problem: string | null = null;
  try {
    table = tableFromSchema(schema, file.name, numRows);
  } catch (err) {
    problem = err instanceof Error ? err.message : String(err);
  }
  const description = schema.metadata.get(META.description);
  const base: TableBase = {
    kind: 'table',
    // A path the platform's clients can call as it is (they percent-encode the same way).
    uri: `/tables/${encodeURIComponent(file.qualifiedReference)}`,
    id: file.id,
    name: file.name,
    qualifiedReference: file.qualifiedReference,
    scopedReference: file.name,
    referenceId: file.id,
    numRows,
    numBytes: stats.size,
    variableCount: schema.fields.length,
    createdAt: Math.floor(stats.createdAt),
    updatedAt: Math.floor(stats.updatedAt),
    description: description ?? null,
  };
  return { file, base, table, problem };
}

/** The tables named by `ref` among those of its scope (see TableCatalog.resolve). */
export function pickTables(files: TableFile[], ref: TableReference): TableFile[] {
  const named = files.filter((f) => normalizeName(f.name) === ref.table);
  const rid = ref.tableReferenceId;
  if (rid === null) return named;
  const byReferenceId = (named.length > 0 ? named : files).filter((f) => f.id === rid);
  return byReferenceId.length > 0 ? byReferenceId : named;
}

export function inScope(scope: Scope, owner: string, dataset: string): boolean {
  return (scope.owner === null || scope.owner === normalizeName(owner)) && (scope.dataset === null || scope.dataset === normalizeName(dataset));
}

function visibleDirs(entries: readonly Dirent[]): string[] {
  return entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name);
}

async function readdirOrEmpty(dir: string): Promise<Dirent[]> {
  return readdir(dir, { withFileTypes: true }).catch(() => []);
}

/** The table files among a directory's entries: regular files (never links) of a known kind, not hidden. */
function tableFiles(dir: string, entries: readonly Dirent[], owner: string, dataset: string, prefix: string): TableFile[] {
  const files: TableFile[] = [];
  for (const entry of entries) {
    const file = entry.isFile() ? tableFileOf(entry.name, owner, dataset, prefix, join(dir, entry.name)) : null;
    if (file) files.push(file);
  }
  return files;
}

/** The table a file of that name is (at `path`, below `prefix` of the tables), or null: not hidden, of a known kind. */
export function tableFileOf(fileName: string, owner: string, dataset: string, prefix: string, path: string): TableFile | null {
  const ext = extname(fileName).toLowerCase();
  const kind = KINDS[ext];
  if (kind === undefined || fileName.startsWith('.')) return null;
  const name = fileName.slice(0, fileName.length - ext.length);
  const relativePath = `${prefix}${fileName}`;
  return {
    name, owner, dataset,
    qualifiedReference: [owner, dataset, name].map(asReferencePart).join('.'),
    // A flat file's id is the hash of its file name, as before nested datasets existed.
    id: hashTableId(relativePath),
    fileName,
    relativePath,
    path,
    kind,
  };
}

/** A name as one part of a reference: `.` and `:` would read as separators, so they are written `_` (which matches them). */
function asReferencePart(name: string): string {
  return name.replace(/[.:]/g, '_');
}

/** A fresh source over the table's file, for one export. */
export function openTableSource(file: TableFile): BatchSource {
  return file.kind === 'parquet' ? fromParquet(file.path) : fromIPC(file.path);
}

function hashTableId(relativePath: string): string {
  return createHash('sha256').update(relativePath, 'utf8').digest('hex').slice(0, 16);
}

/** Schema and row count, from the file's footer or, for an IPC stream, its message headers. */
async function readShape(file: TableFile): Promise<{ schema: Schema; numRows: number | null }> {
  const opened = await openTableSource(file).open();
  try {
    if (opened.schema === null) throw new Error(`${file.fileName} has no schema`);
    const numRows = opened.numRows ?? (file.kind === 'ipc' ? await countIPCRows(file.path) : null);
    return { schema: opened.schema, numRows };
  } finally {
    await opened.close();
  }
}
