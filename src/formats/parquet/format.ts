import type { EncoderCapabilities, FormatInfo } from '../protocol.js';
import { resolveParquetOptions, type ParquetOptions } from './options.js';

const capabilities: EncoderCapabilities = {
  splittable: true,
  // DESIGN.md: large exports are several standalone parts of about 1 GiB each.
  defaultMaxFileSize: 2 ** 30,
  needsRowCount: false,
  needsStatistics: false,
  patchesHeader: false,
};

/** What the registry knows of parquet without loading its encoder (index.ts): checked at create, before any work. */
export const parquetFormat: FormatInfo<ParquetOptions> = {
  format: 'parquet',
  capabilities,
  extension: () => 'parquet',
  checkOptions: (options?: ParquetOptions) => void resolveParquetOptions(options),
};
