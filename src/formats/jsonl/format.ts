import { ExportError } from '../../errors.js';
import type { EncoderCapabilities, FormatInfo } from '../protocol.js';

/** jsonl options of an export request. */
export interface JsonlOptions {
  /** Gzip each file, named `.jsonl.gz` (default false); the sink compresses. */
  gzip?: boolean;
}

const capabilities: EncoderCapabilities = {
  splittable: true,
  needsRowCount: false,
  needsStatistics: false,
  patchesHeader: false,
};

export function checkJsonlOptions(options: JsonlOptions = {}): void {
  if (options.gzip !== undefined && typeof options.gzip !== 'boolean') {
    throw new ExportError('INVALID_OPTION', `gzip must be true or false, not ${JSON.stringify(options.gzip)}`, { format: 'jsonl' });
  }
}

/** What the registry knows of jsonl without loading its encoder (index.ts): checked at create, before any work. */
export const jsonlFormat: FormatInfo<JsonlOptions> = {
  format: 'jsonl',
  capabilities,
  extension: (options: JsonlOptions = {}) => (options.gzip === true ? 'jsonl.gz' : 'jsonl'),
  compression: (options: JsonlOptions = {}) => (options.gzip === true ? 'gzip' : null),
  checkOptions: checkJsonlOptions,
};
