import { ExportError } from '../../errors.js';

/** csv options of an export request (all optional). */
export interface CsvOptions {
  /** Write the variable names as the first row of every file (default true). */
  header?: boolean;
  /** One ASCII character other than `"`, CR and LF (default `,`). */
  delimiter?: string;
  /** Default `\n`. */
  lineEnding?: '\n' | '\r\n';
  /** Begin every file with the UTF-8 byte order mark, for spreadsheet programs (default false). */
  bom?: boolean;
  /** Gzip each file, named `.csv.gz` (default false); the sink compresses. */
  gzip?: boolean;
}

export interface ResolvedCsvOptions {
  header: boolean;
  /** The delimiter as its one byte. */
  delimiter: number;
  lineEnding: string;
  bom: boolean;
}

/** Checks the options and fills in the defaults; an ExportError INVALID_OPTION names the bad one. */
export function resolveCsvOptions(options: CsvOptions): ResolvedCsvOptions {
  const { header = true, delimiter = ',', lineEnding = '\n', bom = false, gzip = false } = options;
  requireBoolean('header', header);
  requireBoolean('bom', bom);
  requireBoolean('gzip', gzip);
  if (lineEnding !== '\n' && lineEnding !== '\r\n') {
    throw invalid(`lineEnding must be "\\n" or "\\r\\n", not ${JSON.stringify(lineEnding)}`);
  }
  if (typeof delimiter !== 'string' || delimiter.length !== 1) {
    throw invalid(`delimiter must be a single character, not ${JSON.stringify(delimiter)}`);
  }
  const code = delimiter.charCodeAt(0);
  // A quote, CR or LF as delimiter would make fields ambiguous; one byte keeps the scan per byte.
  if (code === 34 || code === 13 || code === 10) {
    throw invalid(`delimiter ${JSON.stringify(delimiter)} is not allowed: it would be read as quoting or a line end; use e.g. "," ";" "|" or "\\t"`);
  }
  if (code > 127) {
    throw invalid(`delimiter ${JSON.stringify(delimiter)} is not an ASCII character; use e.g. "," ";" "|" or "\\t"`);
  }
  return { header, delimiter: code, lineEnding, bom };
}

function requireBoolean(name: string, value: unknown): void {
  if (typeof value !== 'boolean') throw invalid(`${name} must be true or false, not ${JSON.stringify(value)}`);
}

function invalid(detail: string): ExportError {
  return new ExportError('INVALID_OPTION', detail, { format: 'csv' });
}
