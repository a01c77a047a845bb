import { describe, expect, it } from 'vitest';
import { fromBatches, toBatchSource } from '../../src/sources/batches.js';
import { drain, makeBatches, rowsOf } from './helpers.js';

const batches = makeBatches(3, 10);

describe('fromBatches', () => {
  it('reads an array again and again, with schema and row count known up front', async () => {
    const source = fromBatches(batches);
    expect(source.reopenable).toBe(true);
    for (let pass = 0; pass < 2; pass++) {
      const opened = await source.open();
      expect(opened.schema).toBe(batches[0].schema);
      expect(opened.numRows).toBe(30);
      expect(opened.totalBytes).toBeNull();
      const { batches: read } = await drain(opened);
      expect(read).toEqual(batches);
    }
  });

  it('reads a sync or async one-shot iterable once and refuses a second open', async () => {
    async function* generate(): AsyncGenerator<(typeof batches)[number]> {
      yield* batches;
    }
    for (const input of [generate(), batches.values()]) {
      const source = fromBatches(input);
      expect(source.reopenable).toBe(false);
      const opened = await source.open();
      expect(opened.schema).toBeNull();
      expect(opened.numRows).toBeNull();
      expect(rowsOf((await drain(opened)).batches)).toEqual(rowsOf(batches));
      await expect(source.open()).rejects.toMatchObject({ code: 'SOURCE_FAILED', message: expect.stringMatching(/one-shot stream and was already opened/) });
    }
  });

  it('runs the input generator\'s cleanup on close', async () => {
    let cleaned = false;
    async function* generate(): AsyncGenerator<(typeof batches)[number]> {
      try {
        yield* batches;
      } finally {
        cleaned = true;
      }
    }
    const opened = await fromBatches(generate()).open();
    for await (const batch of opened.batches) {
      expect(batch.numRows).toBe(10);
      break;
    }
    await opened.close();
    expect(cleaned).toBe(true);
  });

  it('names the item that is not a RecordBatch', async () => {
    const input = [batches[0], { numRows: 1 }] as unknown as typeof batches;
    await expect(drain(await fromBatches(input).open())).rejects.toMatchObject({
      code: 'SOURCE_FAILED', message: 'item 1 of the batch input is a plain object, not an Arrow RecordBatch',
    });
  });
});

describe('toBatchSource', () => {
  it('keeps a BatchSource and wraps iterables', async () => {
    const source = fromBatches(batches);
    expect(toBatchSource(source)).toBe(source);
    expect(toBatchSource(batches).reopenable).toBe(true);
    expect(toBatchSource(batches.values()).reopenable).toBe(false);
  });
});
