/**
 * The first pass's integer ranges (dta picks byte/int/long/double from them, sav its formats):
 * compared as 32-bit word pairs, they must equal a BigInt min/max over the valid values,
 * negatives, nulls and the int64 extremes included.
 */
import { Field, Int64, RecordBatch, Schema, Struct, makeData } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { StatisticsCollector } from '../../src/table/statistics.js';
import { seededRandom } from '../helpers/random.js';

describe('integer statistics', () => {
  it('equal a BigInt min/max over the valid values, in 300 random columns', () => {
    const rand = seededRandom(12);
    const pick = (): bigint => {
      const k = rand();
      if (k < 0.3) return BigInt(Math.floor((rand() - 0.5) * 2 ** 40));
      if (k < 0.6) return BigInt(Math.floor((rand() - 0.5) * 1000));
      if (k < 0.8) return (BigInt(Math.floor(rand() * 2 ** 31)) << 32n) * (rand() < 0.5 ? -1n : 1n);
      return rand() < 0.5 ? -(1n << 63n) + BigInt(Math.floor(rand() * 10)) : (1n << 63n) - 1n - BigInt(Math.floor(rand() * 10));
    };
    for (let t = 0; t < 300; t++) {
      const n = 1 + Math.floor(rand() * 60);
      const values = BigInt64Array.from({ length: n }, pick);
      const bits = new Uint8Array(((n + 63) >> 6) << 3);
      let nulls = 0;
      for (let i = 0; i < n; i++) if (rand() < 0.8) bits[i >> 3] |= 1 << (i & 7); else nulls++;
      const fields = [new Field('x', new Int64(), true)];
      const column = makeData({ type: new Int64(), length: n, nullCount: nulls, nullBitmap: bits, data: values });
      const collector = new StatisticsCollector({ name: 't', variables: [{ name: 'x', type: 'integer' }] });
      collector.add(new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: n, children: [column] })));
      let min: bigint | undefined;
      let max: bigint | undefined;
      for (let i = 0; i < n; i++) {
        if (((bits[i >> 3] >> (i & 7)) & 1) === 0) continue;
        if (min === undefined || values[i] < min) min = values[i];
        if (max === undefined || values[i] > max) max = values[i];
      }
      const got = collector.result().statistics?.x;
      expect([got?.min, got?.max], `column ${t}`).toEqual([min, max]);
      expect(got?.nullCount).toBe(nulls);
    }
  });
});
