/** Stable error codes: scripts and clients match on these, so never rename one. */
export type ExportErrorCode =
  | 'SCHEMA_MISMATCH'
  | 'UNSUPPORTED_TYPE'
  | 'INVALID_NAME'
  | 'DUPLICATE_NAME'
  | 'NAME_TOO_LONG'
  | 'VALUE_OUT_OF_RANGE'
  | 'STRING_TOO_LONG'
  | 'TOO_MANY_VARIABLES'
  /** The export would need more files than MAX_PARTS (src/sinks/limits.ts). */
  | 'TOO_MANY_PARTS'
  | 'INVALID_OPTION'
  | 'UNKNOWN_FORMAT'
  | 'SOURCE_FAILED'
  | 'TARGET_FAILED'
  | 'CANCELLED'
  | 'INTERNAL';

export interface ErrorPlace {
  format?: string;
  column?: string;
  /** 0-based row index in the whole table. */
  row?: number;
}

/**
 * The one error type of the library. Its message names the format, column and row where
 * known, so an export's errorMessage tells a user what to fix without a stack trace.
 */
export class ExportError extends Error {
  readonly code: ExportErrorCode;
  readonly format?: string;
  readonly column?: string;
  readonly row?: number;
  /** The message without its place prefix. */
  readonly detail: string;

  constructor(code: ExportErrorCode, detail: string, place: ErrorPlace = {}, options?: { cause?: unknown }) {
    super(formatMessage(detail, place), options);
    this.name = 'ExportError';
    this.code = code;
    this.format = place.format;
    this.column = place.column;
    this.row = place.row;
    this.detail = detail;
  }

  /** The same error, its place completed with the format (set by the pipeline). */
  withFormat(format: string): ExportError {
    if (this.format) return this;
    return new ExportError(this.code, this.detail, { format, column: this.column, row: this.row }, { cause: this.cause });
  }
}

function formatMessage(detail: string, place: ErrorPlace): string {
  const where: string[] = [];
  if (place.format) where.push(place.format);
  if (place.column !== undefined) where.push(`column "${place.column}"`);
  if (place.row !== undefined) where.push(`row ${place.row}`);
  return where.length ? `${where.join(', ')}: ${detail}` : detail;
}

/** Wraps anything thrown into an ExportError, keeping ExportErrors as they are. */
export function toExportError(err: unknown, code: ExportErrorCode, prefix: string): ExportError {
  if (err instanceof ExportError) return err;
  const text = err instanceof Error ? err.message : String(err);
  return new ExportError(code, `${prefix}: ${text}`, {}, { cause: err });
}
