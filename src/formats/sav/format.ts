import type { EncoderCapabilities, FormatInfo } from '../protocol.js';
import { resolveSavOptions, type SavOptions } from './options.js';

const capabilities: EncoderCapabilities = {
  splittable: false,
  // The count is patched at the end, so it is not needed up front (the first pass for the
  // string widths supplies it anyway when it runs).
  needsRowCount: false,
  needsStatistics: true,
  patchesHeader: true,
};

/** What the registry knows of sav without loading its encoder (index.ts): checked at create, before any work. */
export const savFormat: FormatInfo<SavOptions> = {
  format: 'sav',
  capabilities,
  extension: (options: SavOptions = {}) => (options.compression === 'zsav' ? 'zsav' : 'sav'),
  checkOptions: (options: SavOptions = {}) => void resolveSavOptions(options),
};
