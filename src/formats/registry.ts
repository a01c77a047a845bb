import { ExportError } from '../errors.js';
import { avroFormat } from './avro/format.js';
import type { AvroOptions } from './avro/options.js';
import { csvFormat } from './csv/format.js';
import type { CsvOptions } from './csv/options.js';
import { dtaFormat, type DtaOptions } from './dta/format.js';
import { jsonlFormat, type JsonlOptions } from './jsonl/format.js';
import { parquetFormat } from './parquet/format.js';
import type { ParquetOptions } from './parquet/options.js';
import { FORMATS, type ExportFormat, type FormatEncoder, type FormatInfo } from './protocol.js';
import { savFormat } from './sav/format.js';
import type { SavOptions } from './sav/options.js';

/** Per-format options, keyed by format name in an export request. */
export interface FormatOptions {
  csv?: CsvOptions;
  jsonl?: JsonlOptions;
  dta?: DtaOptions;
  parquet?: ParquetOptions;
  avro?: AvroOptions;
  sav?: SavOptions;
}

/** What is known of each format before its encoder is loaded (protocol.ts FormatInfo). */
const INFOS: Partial<Record<ExportFormat, FormatInfo<never>>> = {
  csv: csvFormat,
  jsonl: jsonlFormat,
  dta: dtaFormat,
  parquet: parquetFormat,
  avro: avroFormat,
  sav: savFormat,
};

/**
 * Each encoder in a module of its own, imported when an export of its format first runs: a
 * csv export does not load the dta, sav, avro or parquet code (nor avsc or parquet-wasm).
 */
const LOADERS: Record<ExportFormat, () => Promise<FormatEncoder<never>>> = {
  csv: async () => (await import('./csv/index.js')).csvEncoder,
  jsonl: async () => (await import('./jsonl/index.js')).jsonlEncoder,
  dta: async () => (await import('./dta/index.js')).dtaEncoder,
  parquet: async () => (await import('./parquet/index.js')).parquetEncoder,
  avro: async () => (await import('./avro/index.js')).avroEncoder,
  sav: async () => (await import('./sav/index.js')).savEncoder,
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

/** The format's options check, extension and capabilities, without loading its encoder. */
export function formatInfo(format: ExportFormat): FormatInfo<unknown> {
  const info = INFOS[format];
  if (!info) throw new ExportError('UNKNOWN_FORMAT', `format "${format}" is not available yet in this version`, { format });
  return info as FormatInfo<unknown>;
}

/** The format's encoder, loaded on first use. */
export async function loadEncoder(format: ExportFormat): Promise<FormatEncoder<unknown>> {
  formatInfo(format);
  return (await LOADERS[format]()) as FormatEncoder<unknown>;
}

export function availableFormats(): ExportFormat[] {
  return FORMATS.filter((f) => INFOS[f] !== undefined);
}
