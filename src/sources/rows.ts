import { RecordBatch, Struct, makeData } from 'apache-arrow';
import type { Schema } from 'apache-arrow';
import { ExportError } from '../errors.js';
import { schemaOfTable } from '../table/arrow-types.js';
import type { Table } from '../table/types.js';
import { guardOpen } from './batches.js';
import { createColumnBuilder } from './row-columns.js';
import type { ColumnBuilder } from './row-columns.js';
import type { BatchSource, OpenedSource } from './types.js';

export type Row = Record<string, unknown>;
export type RowInput = Iterable<Row> | AsyncIterable<Row>;

export interface FromRowsOptions {
  /** Rows per batch (default 65,536). */
  batchSize?: number;
}

const DEFAULT_BATCH_SIZE = 65_536;

/**
 * Plain row objects, typed by the table's variables, built into canonical Arrow batches (the
 * types of src/table/arrow-types.ts, variable metadata in field metadata). A key missing from a
 * row is a null; keys the table does not name are ignored. A value of the wrong kind stops the
 * export with SCHEMA_MISMATCH naming the column and the 0-based row. Reopenable iff rows is an array.
 */
export function fromRows(rows: RowInput, table: Table, options: FromRowsOptions = {}): BatchSource {
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
    throw new ExportError('INVALID_OPTION', `batchSize must be a positive integer, got ${String(batchSize)}`);
  }
  const schema = schemaOfTable(table);
  const reopenable = Array.isArray(rows);
  const claim = guardOpen(reopenable, 'the row iterable');
  return {
    reopenable,
    name: table.name,
    async open(): Promise<OpenedSource> {
      claim();
      const count = Array.isArray(rows) ? rows.length : null;
      const batches = buildBatches(rows, table, schema, count === null ? batchSize : Math.max(1, Math.min(batchSize, count)));
      return {
        schema,
        numRows: count,
        totalBytes: null,
        bytesRead: () => 0,
        batches,
        async close() {
          await batches.return(undefined);
        },
      };
    },
  };
}

/** Collects rows column by column and cuts a batch every `batchSize` rows. */
class BatchAssembler {
  private readonly builders: ColumnBuilder[];
  private readonly names: string[];
  private readonly struct: Struct;
  private pending = 0;
  row = 0;

  constructor(table: Table, private readonly schema: Schema, readonly batchSize: number) {
    this.builders = table.variables.map((v) => createColumnBuilder(v, batchSize));
    this.names = table.variables.map((v) => v.name);
    this.struct = new Struct(schema.fields);
  }

  /** Adds one row; returns a batch when it completes one. */
  add(item: unknown): RecordBatch | null {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      throw new ExportError('SCHEMA_MISMATCH', `expected a row object keyed by column name, got ${item === null ? 'null' : Array.isArray(item) ? 'an array' : `a ${typeof item}`}`, { row: this.row });
    }
    const record = item as Row;
    for (let c = 0; c < this.builders.length; c++) this.builders[c].append(record[this.names[c]], this.row);
    this.row++;
    return ++this.pending === this.batchSize ? this.cut() : null;
  }

  /** The rows added since the last batch, if any. */
  flush(): RecordBatch | null {
    return this.pending > 0 ? this.cut() : null;
  }

  private cut(): RecordBatch {
    const children = this.builders.map((b) => b.finish());
    const data = makeData({ type: this.struct, length: this.pending, nullCount: 0, children });
    this.pending = 0;
    return new RecordBatch(this.schema, data);
  }
}

async function* buildBatches(rows: RowInput, table: Table, schema: Schema, batchSize: number): AsyncGenerator<RecordBatch, void, undefined> {
  const assembler = new BatchAssembler(table, schema, batchSize);
  // A sync iterable is walked with for...of: for await would cost a promise per row.
  if (Symbol.iterator in rows) {
    for (const item of rows as Iterable<Row>) {
      const batch = assembler.add(item);
      if (batch) yield batch;
    }
  } else {
    for await (const item of rows) {
      const batch = assembler.add(item);
      if (batch) yield batch;
    }
  }
  const last = assembler.flush();
  if (last) yield last;
}
