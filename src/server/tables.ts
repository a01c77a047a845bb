import type { Schema } from 'apache-arrow';
import { createHash } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { fromIPC, fromParquet } from '../sources/index.js';
import type { BatchSource } from '../sources/types.js';
import { META, tableFromSchema } from '../table/arrow-types.js';
import type { Table, TableBase } from '../table/types.js';
import { countIPCRows } from './ipc-rows.js';

/** Arrow IPC (file or stream) and Parquet, the inputs the library reads from a path. */
const KINDS: Readonly<Record<string, TableFile['kind']>> = {
  '.arrow': 'ipc', '.arrows': 'ipc', '.feather': 'ipc', '.parquet': 'parquet',
};

/** One table: a file directly in the tables directory. */
export interface TableFile {
  /** The file name without its extension, as written (refs match it case-insensitively). */
  name: string;
  /** Stable across restarts and distinct per file, so `/tables/<id>` always names one file. */
  id: string;
  fileName: string;
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

interface Cached {
  key: string;
  info: TableInfo;
}

/**
 * The tables of one directory. Every lookup lists the directory and compares names, so a ref
 * is never joined into a path: whatever a client sends ("../etc/passwd", an absolute path),
 * it can only ever name a regular file listed directly in the directory. Symbolic links are
 * not listed, since they could point anywhere. Descriptions are cached per file size and mtime.
 */
export class TableCatalog {
  private readonly cache = new Map<string, Cached>();

  constructor(readonly dir: string) {}

  async list(): Promise<TableFile[]> {
    const entries = await readdir(this.dir, { withFileTypes: true });
    const files: TableFile[] = [];
    for (const entry of entries) {
      const ext = extname(entry.name).toLowerCase();
      const kind = KINDS[ext];
      if (!entry.isFile() || kind === undefined || entry.name.startsWith('.')) continue;
      files.push({
        name: entry.name.slice(0, entry.name.length - ext.length),
        id: hashTableId(entry.name),
        fileName: entry.name,
        path: join(this.dir, entry.name),
        kind,
      });
    }
    return files.sort((a, b) => (a.fileName < b.fileName ? -1 : a.fileName > b.fileName ? 1 : 0));
  }

  /** Every table a ref names: by id, else by name ignoring case. More than one means the ref is ambiguous. */
  async resolve(ref: string): Promise<TableFile[]> {
    const files = await this.list();
    const byId = files.filter((f) => f.id === ref);
    if (byId.length > 0) return byId;
    const wanted = ref.toLowerCase();
    return files.filter((f) => f.name.toLowerCase() === wanted);
  }

  async describe(file: TableFile): Promise<TableInfo> {
    const stats = await stat(file.path);
    const key = `${stats.size}:${stats.mtimeMs}`;
    const hit = this.cache.get(file.path);
    if (hit && hit.key === key) return hit.info;
    const { schema, numRows } = await readShape(file);
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
      uri: `/tables/${file.id}`,
      id: file.id,
      name: file.name,
      qualifiedReference: file.name,
      scopedReference: file.name,
      referenceId: file.id,
      numRows,
      numBytes: stats.size,
      variableCount: schema.fields.length,
      // birthtime is 0 on file systems that do not keep it.
      createdAt: Math.floor(stats.birthtimeMs > 0 ? stats.birthtimeMs : stats.ctimeMs),
      updatedAt: Math.floor(stats.mtimeMs),
      description: description ?? null,
    };
    const info: TableInfo = { file, base, table, problem };
    this.cache.set(file.path, { key, info });
    return info;
  }
}

/** A fresh source over the table's file, for one export. */
export function openTableSource(file: TableFile): BatchSource {
  return file.kind === 'parquet' ? fromParquet(file.path) : fromIPC(file.path);
}

function hashTableId(fileName: string): string {
  return createHash('sha256').update(fileName, 'utf8').digest('hex').slice(0, 16);
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
