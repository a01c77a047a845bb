import { ExportError } from '../../errors.js';
import type { EncoderCapabilities, FormatInfo } from '../protocol.js';

export interface DtaOptions {
  /** The header's timestamp (written in UTC); fix it for byte-identical files. Default: now. */
  timestamp?: Date;
  /** Where strL values are spooled while rows stream (they follow the data). Default: the Exporter's tempDir. */
  tempDir?: string;
}

/**
 * Stata .dta, release 118 (119 only beyond 32,767 variables), one file. The pipeline's first
 * pass supplies numRows and the statistics the storage types are chosen from: integer ranges
 * and string byte widths. What users get (DESIGN.md, dta column):
 * - integer: the smallest of byte/int/long whose range outside Stata's missing codes holds
 *   the column, else double (exact to ±2^53; a warning when the range goes beyond);
 * - float: double; NaN is `.`; ±Infinity and |x| > 8.988e307 are `.` with a warning;
 * - boolean: byte 0/1; date: long %td; dateTime: double %tc, microseconds rounded to the
 *   nearest millisecond (ties to the later instant); time: double %tcHH:MM:SS.sss, ms since
 *   midnight, never rounded past 23:59:59.999;
 * - string, geography: str# sized in UTF-8 bytes, strL beyond 2045 bytes; null is "";
 * - names: Stata rules, renamed deterministically (names.ts) and reported; labels ≤ 80
 *   characters (cut with a warning); value labels on integer columns (keys that are not int32
 *   whole numbers are skipped with a warning); the header timestamp is written in UTC.
 */
const capabilities: EncoderCapabilities = {
  splittable: false,
  needsRowCount: true,
  needsStatistics: true,
  patchesHeader: true,
};

export function checkDtaOptions(options: DtaOptions = {}): void {
  if (options.timestamp !== undefined && (!(options.timestamp instanceof Date) || Number.isNaN(options.timestamp.getTime()))) {
    throw new ExportError('INVALID_OPTION', 'dta.timestamp must be a valid Date', { format: 'dta' });
  }
  if (options.tempDir !== undefined && (typeof options.tempDir !== 'string' || options.tempDir === '')) {
    throw new ExportError('INVALID_OPTION', 'dta.tempDir must be a directory path', { format: 'dta' });
  }
}

/** What the registry knows of dta without loading its encoder (index.ts): checked at create, before any work. */
export const dtaFormat: FormatInfo<DtaOptions> = {
  format: 'dta',
  capabilities,
  extension: () => 'dta',
  checkOptions: checkDtaOptions,
};
