import { MIN_MAX_FILE_SIZE } from '../sinks/limits.js';

const UNITS: Record<string, number> = {
  '': 1, b: 1,
  kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12,
  kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40,
};

/**
 * Parses a byte size: a plain integer, or a number with a unit. As in DuckDB and most storage
 * tools, KB/MB/GB are powers of 1000 and KiB/MiB/GiB powers of 1024. Returns null when the text
 * is not a positive size.
 */
export function parseByteSize(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  if (!m) return null;
  const unit = UNITS[m[2].toLowerCase()];
  if (unit === undefined) return null;
  const bytes = Math.round(Number(m[1]) * unit);
  return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : null;
}

export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = n;
  let i = -1;
  while (value >= 1000 && i < units.length - 1) { value /= 1000; i++; }
  return `${value.toFixed(value < 10 ? 2 : 1)} ${units[i]}`;
}

/**
 * A --max-file-size value in bytes, or what is wrong with it: a size (parseByteSize) of at
 * least MIN_MAX_FILE_SIZE, the floor Exporter.create keeps (issue #11).
 */
export function parseMaxFileSize(text: string): number | string {
  const bytes = parseByteSize(text);
  if (bytes === null) return `--max-file-size: "${text}" is not a size`;
  if (bytes < MIN_MAX_FILE_SIZE) return `--max-file-size: "${text}" is below the smallest allowed, 1MiB (${MIN_MAX_FILE_SIZE} bytes)`;
  return bytes;
}
