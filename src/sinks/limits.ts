import { ExportError } from '../errors.js';

/**
 * What one export may cost, whatever its request says (issue #11). Every part is a file with
 * its own open, close, rename and entry in the Export, so a tiny maxFileSize on a large table
 * means tens of thousands of files (maxFileSize: 1 on 100,000 rows made 99,969): the floor keeps
 * a size limit meaningful, and the cap bounds what a split by rows can make.
 */

/** The smallest maxFileSize accepted: 1 MiB. */
export const MIN_MAX_FILE_SIZE = 1_048_576;

/** The most parts (files) one export may have. */
export const MAX_PARTS = 100_000;

/** INVALID_OPTION for a maxFileSize below the floor, or null when it is allowed. */
export function checkMaxFileSize(maxFileSize: number, format?: string): ExportError | null {
  if (maxFileSize >= MIN_MAX_FILE_SIZE) return null;
  return new ExportError('INVALID_OPTION',
    `maxFileSize must be at least ${MIN_MAX_FILE_SIZE} bytes (1 MiB), got ${maxFileSize}; to split into smaller parts, use maxRowsPerFile`,
    { format });
}

/**
 * TOO_MANY_PARTS: the export needs more than MAX_PARTS files. `needs` completes "this one …"
 * with the count and how it is known ("needs more: part 100001 was about to be opened").
 */
export function tooManyParts(needs: string, limit = MAX_PARTS): ExportError {
  return new ExportError('TOO_MANY_PARTS',
    `an export may have at most ${limit} files, and this one ${needs}: give a larger maxFileSize or maxRowsPerFile`);
}

/**
 * Refuses, before the first byte, an export split by rows whose declared row count already
 * says it would pass MAX_PARTS; an export whose row count is not known meets the cap when it
 * is about to open part MAX_PARTS + 1 (SplittingSink).
 */
export function checkPartCount(numRows: number | null | undefined, maxRowsPerFile: number | undefined, limit = MAX_PARTS): void {
  if (maxRowsPerFile === undefined || numRows === null || numRows === undefined) return;
  const parts = Math.ceil(numRows / maxRowsPerFile);
  if (parts > limit) throw tooManyParts(`would have ${parts} (${numRows} rows at maxRowsPerFile ${maxRowsPerFile})`, limit);
}
