import type { Variable } from '../../src/index.js';
import { defineFixture, type Fixture, type SourceValue } from '../fixtures/build.js';
import { Random, randomBatchSizes, randomColumn } from '../fixtures/random.js';
import { ALL_TYPE_VARIABLES } from '../fixtures/tables.js';

/**
 * mediumRandom's columns, with enough rows that splits by size at the smallest maxFileSize
 * allowed (1 MiB, issue #11) still make several parts: about 6 MB of csv, 10 MB of jsonl, 4 MB
 * of parquet. (mediumRandom's 5,000 rows, 0.8 MB of csv, fit in one part now.)
 */
const LARGE_ROWS = 40_000;

const VARIABLES: Variable[] = [{ name: 'id', type: 'integer', label: 'Row number' }, ...ALL_TYPE_VARIABLES];

function columns(seed: number, rows: number): Record<string, SourceValue[]> {
  const r = new Random(seed);
  const out: Record<string, SourceValue[]> = {};
  for (const v of VARIABLES) {
    out[v.name] = v.name === 'id' ? Array.from({ length: rows }, (_, i) => BigInt(i + 1)) : randomColumn(r, v.type, rows);
  }
  return out;
}

/** 40,000 seeded random rows of every type with ~8 % nulls, in random batch sizes up to 4,096. */
export const largeRandom: Fixture = defineFixture('large_random', VARIABLES, columns(3, LARGE_ROWS),
  { batchSizes: randomBatchSizes(new Random(13), LARGE_ROWS, 4096) });
