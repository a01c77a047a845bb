import type { PartOutput } from './part-output.js';

export interface PartSpec {
  /** 0-based part number. */
  index: number;
  /** File extension without the dot, e.g. `csv.gz`. */
  extension: string;
  gzip: boolean;
  /** The encoder will patch bytes it wrote earlier: the part must land in a seekable file. */
  patchable: boolean;
  /** The part's file name as the user sees it (partName), for error messages. */
  name: string;
  /** Take the part's MD5 on the hashing thread (the export has workers > 1). */
  hashOffThread?: boolean;
}

/** Where an export's files go: a local directory, or any Node Writable per part. */
export interface FileTarget {
  openPart(spec: PartSpec): Promise<PartOutput>;
  /**
   * Gives the finished parts their final names; returns each file's path, or null if it has
   * none. `base` and `extension` name the export's files, so that files an earlier export of
   * the same name left behind can be told apart (see DirectoryTarget).
   */
  commit(names: readonly string[], base: string, extension: string): Promise<(string | null)[]>;
  /** Files of an earlier export that commit removed, for a warning (names only). */
  readonly replaced?: readonly string[];
  /** Removes or abandons everything written; safe to call at any point, and twice. */
  abort(err: Error): Promise<void>;
}

/** True for a name partNames gives for `base` and `extension`, whatever the part count. */
export function isPartName(name: string, base: string, extension: string): boolean {
  if (name === `${base}.${extension}`) return true;
  const prefix = `${base}-`;
  const suffix = `.${extension}`;
  return name.length === prefix.length + 6 + suffix.length && name.startsWith(prefix) && name.endsWith(suffix)
    && /^\d{6}$/.test(name.slice(prefix.length, prefix.length + 6));
}

/**
 * The name part `index` gets, as far as it is known while the part is written: the first is
 * `<table>.<ext>` (it becomes `<table>-000000.<ext>` only if a second part follows), later
 * ones `<table>-00000n.<ext>`.
 */
export function partName(base: string, extension: string, index: number): string {
  return index === 0 ? `${base}.${extension}` : numberedName(base, extension, index);
}

/** `<table>.<ext>` for one file; `<table>-000000.<ext>`, `<table>-000001.<ext>`, … for several. */
export function partNames(base: string, extension: string, count: number): string[] {
  if (count === 1) return [`${base}.${extension}`];
  return Array.from({ length: count }, (_, i) => numberedName(base, extension, i));
}

function numberedName(base: string, extension: string, index: number): string {
  return `${base}-${String(index).padStart(6, '0')}.${extension}`;
}
