import type { PartOutput } from './part-output.js';

export interface PartSpec {
  /** 0-based part number. */
  index: number;
  /** File extension without the dot, e.g. `csv.gz`. */
  extension: string;
  gzip: boolean;
  /** The encoder will patch bytes it wrote earlier: the part must land in a seekable file. */
  patchable: boolean;
}

/** Where an export's files go: a local directory, or any Node Writable per part. */
export interface FileTarget {
  openPart(spec: PartSpec): Promise<PartOutput>;
  /** Gives the finished parts their final names; returns each file's path, or null if it has none. */
  commit(names: readonly string[]): Promise<(string | null)[]>;
  /** Removes or abandons everything written; safe to call at any point, and twice. */
  abort(err: Error): Promise<void>;
}

/** `<table>.<ext>` for one file; `<table>-000000.<ext>`, `<table>-000001.<ext>`, … for several. */
export function partNames(base: string, extension: string, count: number): string[] {
  if (count === 1) return [`${base}.${extension}`];
  return Array.from({ length: count }, (_, i) => `${base}-${String(i).padStart(6, '0')}.${extension}`);
}
