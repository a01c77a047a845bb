/**
 * The parallel parquet path's own Arrow IPC writer (src/formats/parquet/ipc-writer.ts), judged by
 * apache-arrow's reader against apache-arrow's writer: slices at odd rows (bitmaps realigned,
 * offsets rebased), several batches in one stream, no batch at all, and a reused buffer.
 */
import { Table, tableFromIPC, tableToIPC } from 'apache-arrow';
import type { RecordBatch } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { encodeBatchIPC, makeEmptyBatch } from '../../src/formats/parquet/ipc-batches.js';
import { schemaMessageOf, writeIPCStream } from '../../src/formats/parquet/ipc-writer.js';
import { schemaOfTable } from '../../src/table/arrow-types.js';
import { mediumRandom } from '../fixtures/tables.js';

const schema = schemaOfTable(mediumRandom.table);
const schemaMessage = schemaMessageOf(encodeBatchIPC(makeEmptyBatch(schema), schema));

/** Every cell of a table as text (null as null), column by column. */
function cells(table: Table): Record<string, (string | null)[]> {
  return Object.fromEntries(table.schema.fields.map((f) => [f.name, [...(table.getChild(f.name) ?? [])].map((v) => (v === null ? null : String(v)))]));
}

describe('IPC stream writer', () => {
  const batch = mediumRandom.batches.reduce((a, b) => (b.numRows > a.numRows ? b : a));
  const cases: [string, RecordBatch[]][] = [
    ['one whole batch', [batch]],
    ['slices at odd rows', [batch.slice(3, 50), batch.slice(50, 51), batch.slice(51)]],
    ['no batch', []],
  ];
  it.each(cases)('%s reads back as apache-arrow wrote it, schema metadata included', (_what, pieces) => {
    const back = tableFromIPC(writeIPCStream(schemaMessage, pieces, null));
    const reference = tableFromIPC(tableToIPC(pieces.length ? new Table(pieces) : new Table(makeEmptyBatch(schema))));
    expect(back.numRows).toBe(pieces.reduce((n, p) => n + p.numRows, 0));
    expect(back.schema.metadata).toEqual(schema.metadata);
    expect(back.schema.fields.map((f) => [f.name, String(f.type), f.nullable, f.metadata])).toEqual(schema.fields.map((f) => [f.name, String(f.type), f.nullable, f.metadata]));
    expect(cells(back)).toEqual(cells(reference));
  });

  it('writes into a buffer given back when it is large enough, else into a new one', () => {
    const first = writeIPCStream(schemaMessage, [batch], null);
    const again = writeIPCStream(schemaMessage, [batch.slice(1)], first.buffer as ArrayBuffer);
    expect(again.buffer).toBe(first.buffer);
    expect(cells(tableFromIPC(again))).toEqual(cells(tableFromIPC(tableToIPC(new Table([batch.slice(1)])))));
    const small = new ArrayBuffer(16);
    expect(writeIPCStream(schemaMessage, [batch], small).buffer).not.toBe(small);
  });
});
