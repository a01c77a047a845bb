import { ExportError } from '../../errors.js';

/**
 * SPSS system file options.
 * - `compression`: `'bytecode'` (default; `$FL2`, compression 1, what SPSS writes by default),
 *   `'none'` (`$FL2`, compression 0: raw 8-byte slots, the only form SAS PROC IMPORT reads,
 *   fact sheet C14) or `'zsav'` (`$FL3`, zlib blocks of the bytecode stream, extension `.zsav`;
 *   not readable by SPSS before version 21 and some older tools).
 * - `now`: the creation date and time written in the header (UTC fields), default the
 *   current time; fix it for byte-identical output (golden files).
 * - `zlibLevel`: deflate level of zsav blocks, 0..9, default 1 (SPSS's own zsav blocks carry
 *   the `78 01` header of the fastest level; higher levels cost much more time for a little size).
 *   Up to 3 blocks (4 MB each) are deflated at once on the libuv thread pool.
 */
export interface SavOptions {
  compression?: 'bytecode' | 'none' | 'zsav';
  now?: Date;
  zlibLevel?: number;
}

/** The header's `compression` field: 0 none, 1 bytecode, 2 zlib (fact sheet B2). */
export type CompressionCode = 0 | 1 | 2;

export interface ResolvedSavOptions {
  compression: CompressionCode;
  now: Date | null;
  zlibLevel: number;
}

export function resolveSavOptions(options: SavOptions = {}): ResolvedSavOptions {
  const compression = options.compression ?? 'bytecode';
  const codes: Record<string, CompressionCode> = { none: 0, bytecode: 1, zsav: 2 };
  const code = codes[compression];
  if (code === undefined) {
    throw new ExportError('INVALID_OPTION', `sav.compression must be 'bytecode', 'none' or 'zsav', got ${JSON.stringify(compression)}`, { format: 'sav' });
  }
  const level = options.zlibLevel ?? 1;
  if (!Number.isInteger(level) || level < 0 || level > 9) {
    throw new ExportError('INVALID_OPTION', `sav.zlibLevel must be an integer from 0 to 9, got ${String(options.zlibLevel)}`, { format: 'sav' });
  }
  if (options.now !== undefined && !(options.now instanceof Date && Number.isFinite(options.now.getTime()))) {
    throw new ExportError('INVALID_OPTION', 'sav.now must be a valid Date', { format: 'sav' });
  }
  return { compression: code, now: options.now ?? null, zlibLevel: level };
}
