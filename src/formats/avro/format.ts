import type { EncoderCapabilities, FormatInfo } from '../protocol.js';
import { resolveAvroOptions, type AvroOptions } from './options.js';

const capabilities: EncoderCapabilities = {
  splittable: true,
  defaultMaxFileSize: 2 ** 30,
  needsRowCount: false,
  needsStatistics: false,
  patchesHeader: false,
};

/** What the registry knows of avro without loading its encoder (index.ts): checked at create, before any work. */
export const avroFormat: FormatInfo<AvroOptions> = {
  format: 'avro',
  capabilities,
  extension: () => 'avro',
  checkOptions: (options: AvroOptions = {}) => void resolveAvroOptions(options),
};
