import type { EncoderCapabilities, FormatInfo } from '../protocol.js';
import { resolveCsvOptions, type CsvOptions } from './options.js';

const capabilities: EncoderCapabilities = {
  splittable: true,
  needsRowCount: false,
  needsStatistics: false,
  patchesHeader: false,
};

/** What the registry knows of csv without loading its encoder (index.ts): checked at create, before any work. */
export const csvFormat: FormatInfo<CsvOptions> = {
  format: 'csv',
  capabilities,
  extension: (options: CsvOptions = {}) => (options.gzip === true ? 'csv.gz' : 'csv'),
  compression: (options: CsvOptions = {}) => (options.gzip === true ? 'gzip' : null),
  checkOptions: (options: CsvOptions = {}) => void resolveCsvOptions(options),
};
