import type { Schema } from 'apache-arrow';
import { fromStore } from '../store/open.js';
import type { ObjectStore, StoredObject } from '../store/types.js';
import { DEFAULT_DATASET, DEFAULT_OWNER, inScope, resolveReference, tableFileOf, tableInfoOf, type CatalogOptions, type Scope, type TableFile, type TableInfo } from './tables.js';

/**
 * The tables of an ObjectStore (`serve --redis --tables s3://bucket/prefix`), laid out and
 * referenced as in a tables directory (TableCatalog): `<owner>/<dataset>/<table>.<ext>`, flat
 * `<table>.<ext>` in the default dataset; keys at other depths and hidden names are not tables.
 * A file's `path` is its location (`s3://…`), which the workers read by ranges. Each lookup lists
 * the prefix; descriptions are cached per size and modification time.
 */
export class StoreTableCatalog {
  private readonly defaults: { owner: string; dataset: string };
  private readonly cache = new Map<string, { key: string; info: TableInfo }>();
  /** The objects the last listing found, by relative path: describe needs their size and time. */
  private readonly objects = new Map<string, StoredObject>();

  constructor(readonly store: ObjectStore, options: CatalogOptions = { defaultOwner: DEFAULT_OWNER, defaultDataset: DEFAULT_DATASET }) {
    this.defaults = { owner: options.defaultOwner, dataset: options.defaultDataset };
  }

  async list(scope: Scope = { owner: null, dataset: null }): Promise<TableFile[]> {
    const files: TableFile[] = [];
    for await (const object of this.store.list('')) {
      const parts = object.key.split('/');
      if (parts.some((p) => p === '' || p.startsWith('.'))) continue;
      const [owner, dataset, prefix] = parts.length === 1 ? [this.defaults.owner, this.defaults.dataset, '']
        : parts.length === 3 ? [parts[0], parts[1], `${parts[0]}/${parts[1]}/`] : [null, null, ''];
      if (owner === null || dataset === null || !inScope(scope, owner, dataset)) continue;
      const file = tableFileOf(parts[parts.length - 1], owner, dataset, prefix, this.store.locate(object.key));
      if (!file) continue;
      this.objects.set(file.relativePath, object);
      files.push(file);
    }
    return files.sort((a, b) => (a.relativePath < b.relativePath ? -1 : a.relativePath > b.relativePath ? 1 : 0));
  }

  async resolve(ref: string): Promise<TableFile[]> {
    return resolveReference(ref, (scope) => this.list(scope), this.defaults);
  }

  async find(relativePath: string): Promise<TableFile | null> {
    return (await this.list({ owner: null, dataset: null })).find((f) => f.relativePath === relativePath) ?? null;
  }

  async describe(file: TableFile): Promise<TableInfo> {
    const object = this.objects.get(file.relativePath) ?? await this.store.stat(file.relativePath);
    if (!object) throw new Error(`${file.fileName} is no longer in the tables`);
    const modified = object.modified ?? 0;
    const key = `${object.size}:${modified}`;
    const hit = this.cache.get(file.relativePath);
    if (hit && hit.key === key) return hit.info;
    const opened = await fromStore(this.store, file.relativePath).open();
    try {
      if (opened.schema === null) throw new Error(`${file.fileName} has no schema`);
      const info = tableInfoOf(file, opened.schema as Schema, opened.numRows, { size: object.size, createdAt: modified, updatedAt: modified });
      this.cache.set(file.relativePath, { key, info });
      return info;
    } finally {
      await opened.close();
    }
  }
}
