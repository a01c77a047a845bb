import type { ChunkKernel } from '../../parallel/kernel.js';
import type { Table } from '../../table/types.js';
import { textChunkEncoder } from '../text/kernel.js';
import { planCsvLayout } from './index.js';
import { resolveCsvOptions, type CsvOptions } from './options.js';

export interface CsvKernelSpec {
  table: Table;
  options: CsvOptions;
}

export const csvKernel: ChunkKernel<CsvKernelSpec> = {
  compile: ({ table, options }) => textChunkEncoder(planCsvLayout(table, resolveCsvOptions(options))),
};
