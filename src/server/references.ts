/**
 * Table references as the platform writes them (issue #10): `owner.dataset.table`, each part a
 * name, the dataset optionally followed by a version tag (`:v1_0`, `:current`, `:next`) and a
 * `:<referenceId>`, the table by a `:<referenceId>`. A reference of one part is a table's id or
 * its name; of two, `dataset.table`. Names are compared the way the platform compares them:
 * ignoring case, every character outside [A-Za-z0-9_] taken as `_` (so `My Table`, `my_table`
 * and `MY-TABLE` are one name).
 */

export interface TableReference {
  /** Normalized owner name, when the reference has three parts. */
  owner: string | null;
  /** Normalized dataset name, when the reference has two or three parts. */
  dataset: string | null;
  /** Normalized table name. */
  table: string;
  /** The reference as sent (decoded), to try as a table id when it has one part. */
  raw: string;
  /** The table's `:<referenceId>`, when given. */
  tableReferenceId: string | null;
  /** The dataset's version tag, when given (a directory holds one version: accepted, not matched). */
  version: string | null;
}

/** `v1`, `v1_0`, `v12_3`, `current` and `next`: the version tags a dataset part may carry. */
const VERSION_TAG = /^(?:v\d+(?:_\d+)?|current|next)$/i;

/** The name as the platform matches it: lower case, characters outside [a-z0-9_] as `_`. */
export function normalizeName(name: string): string {
  let out = '';
  for (const ch of name.toLowerCase()) out += /^[a-z0-9_]$/.test(ch) ? ch : '_';
  return out;
}

/**
 * Parses a reference; null when it cannot name a table (empty parts, more than three parts,
 * a part without a name). Suffixes after `:` are version tags or reference ids: on a dataset
 * a version tag is recognized by its form and anything else is its reference id, which is
 * accepted and not needed (names identify datasets here).
 */
export function parseReference(raw: string): TableReference | null {
  const parts = raw.split('.');
  if (parts.length > 3 || parts.some((p) => p === '')) return null;
  const split = parts.map((p) => p.split(':'));
  if (split.some((segments) => segments[0] === '' || segments.length > 3 || segments.slice(1).some((s) => s === ''))) return null;
  const [tableName, ...tableSuffixes] = split[split.length - 1];
  if (tableSuffixes.length > 1) return null;
  const datasetSegments = split.length >= 2 ? split[split.length - 2] : null;
  const ownerSegments = split.length === 3 ? split[0] : null;
  if (ownerSegments && ownerSegments.length > 1) return null;
  const version = datasetSegments?.slice(1).find((s) => VERSION_TAG.test(s)) ?? null;
  return {
    owner: ownerSegments ? normalizeName(ownerSegments[0]) : null,
    dataset: datasetSegments ? normalizeName(datasetSegments[0]) : null,
    table: normalizeName(tableName),
    raw,
    tableReferenceId: tableSuffixes[0] ?? null,
    version,
  };
}
