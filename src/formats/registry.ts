import { ExportError } from '../errors.js';
import { avroEncoder, type AvroOptions } from './avro/index.js';
import { csvEncoder, type CsvOptions } from './csv/index.js';
import { dtaEncoder, type DtaOptions } from './dta/index.js';
import { jsonlEncoder, type JsonlOptions } from './jsonl/index.js';
import { parquetEncoder, type ParquetOptions } from './parquet/index.js';
import { FORMATS, type ExportFormat, type FormatEncoder } from './protocol.js';
import { savEncoder, type SavOptions } from './sav/index.js';

/** Per-format options, keyed by format name in an export request. */
export interface FormatOptions {
  csv?: CsvOptions;
  jsonl?: JsonlOptions;
  dta?: DtaOptions;
  parquet?: ParquetOptions;
  avro?: AvroOptions;
  sav?: SavOptions;
}

const ENCODERS: Partial<Record<ExportFormat, FormatEncoder<never>>> = {
  csv: csvEncoder,
  jsonl: jsonlEncoder,
  dta: dtaEncoder,
  parquet: parquetEncoder,
  avro: avroEncoder,
  sav: savEncoder,
};

/** Older API revisions spelled JSON Lines `ndjson` (spec/export-resource.md). */
const ALIASES: Record<string, ExportFormat> = { ndjson: 'jsonl' };

export function resolveFormat(name: string): ExportFormat {
  const format = ALIASES[name] ?? name;
  if (!(FORMATS as readonly string[]).includes(format)) {
    throw new ExportError('UNKNOWN_FORMAT', `unknown format "${name}"; use one of ${FORMATS.join(', ')} (or ndjson for jsonl)`);
  }
  return format as ExportFormat;
}

export function encoderFor(format: ExportFormat): FormatEncoder<unknown> {
  const encoder = ENCODERS[format];
  if (!encoder) throw new ExportError('UNKNOWN_FORMAT', `format "${format}" is not available yet in this version`, { format });
  return encoder as FormatEncoder<unknown>;
}

export function availableFormats(): ExportFormat[] {
  return FORMATS.filter((f) => ENCODERS[f] !== undefined);
}
