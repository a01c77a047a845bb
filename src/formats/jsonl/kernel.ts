import type { ChunkKernel } from '../../parallel/kernel.js';
import type { Table } from '../../table/types.js';
import { textChunkEncoder } from '../text/kernel.js';
import { planJsonlLayout } from './index.js';

export const jsonlKernel: ChunkKernel<{ table: Table }> = {
  compile: ({ table }) => textChunkEncoder(planJsonlLayout(table)),
};
