import type { RecordBatch } from 'apache-arrow';
import { isValid, viewColumns, type ColumnView } from './columns.js';
import type { Table, VariableStatistics, VariableType } from './types.js';

/**
 * Accumulates what two-pass formats need before their first byte: the row count, each
 * string column's largest UTF-8 byte length and each integer column's range. Fed canonical
 * batches; O(columns) memory.
 */
export class StatisticsCollector {
  rows = 0;
  private readonly types: VariableType[];
  private readonly stats: VariableStatistics[];

  constructor(private readonly table: Table) {
    this.types = table.variables.map((v) => v.type);
    this.stats = table.variables.map(() => ({ nullCount: 0 }));
    primeMeasureColumn();
  }

  add(batch: RecordBatch): void {
    this.addColumns(viewColumns(batch, this.types), batch.numRows);
  }

  /** A canonical batch's columns (views), of `rows` rows. */
  addColumns(cols: readonly ColumnView[], rows: number): void {
    this.rows += rows;
    cols.forEach((col, i) => measureColumn(col, this.stats[i]));
  }

  /** What was measured, per column in table order (what a worker thread sends back). */
  columnStatistics(): VariableStatistics[] {
    return this.stats;
  }

  /** Takes in what another collector measured over other rows of the same table. */
  merge(rows: number, stats: readonly VariableStatistics[]): void {
    this.rows += rows;
    stats.forEach((s, i) => mergeStatistics(this.stats[i], s));
  }

  /** The table with numRows and statistics filled in (given statistics are kept). */
  result(): Table {
    const statistics: Record<string, VariableStatistics> = {};
    this.table.variables.forEach((v, i) => {
      statistics[v.name] = { ...this.stats[i], ...this.table.statistics?.[v.name] };
    });
    return { ...this.table, numRows: this.rows, statistics };
  }
}

function mergeStatistics(into: VariableStatistics, from: VariableStatistics): void {
  into.nullCount = (into.nullCount ?? 0) + (from.nullCount ?? 0);
  if (from.maxByteLength !== undefined) into.maxByteLength = Math.max(into.maxByteLength ?? 0, from.maxByteLength);
  if (from.min !== undefined && (into.min === undefined || from.min < into.min)) into.min = from.min;
  if (from.max !== undefined && (into.max === undefined || from.max > into.max)) into.max = from.max;
}

function measureColumn(col: ColumnView, into: VariableStatistics): void {
  into.nullCount = (into.nullCount ?? 0) + col.nullCount;
  if (col.type === 'string' || col.type === 'geography') {
    const offsets = col.offsets as Int32Array;
    let max = into.maxByteLength ?? 0;
    for (let i = 0; i < col.length; i++) {
      const len = offsets[i + 1] - offsets[i];
      // Arrow allows a null slot to span bytes, so only valid slots count.
      if (len > max && (col.validity === null || isValid(col, i))) max = len;
    }
    into.maxByteLength = max;
  } else if (col.type === 'integer') {
    const range = integerRange(col);
    if (range === null) return;
    if (into.min === undefined || range.min < into.min) into.min = range.min;
    if (into.max === undefined || range.max > into.max) into.max = range.max;
  }
}

/**
 * The smallest and largest valid value of an int64 column, compared as (signed high, unsigned
 * low) 32-bit word pairs: reading a BigInt64Array makes a BigInt per value, which took ~130 ms
 * of a 5M-row dta export's first pass (issue #12). Only the two winners become BigInts.
 * Little-endian word order, as every platform Node runs on (the dta writer checks it).
 */
function integerRange(col: ColumnView): { min: bigint; max: bigint } | null {
  const v = col.values as BigInt64Array;
  const words = new Int32Array(v.buffer, v.byteOffset, col.length * 2);
  let minAt = -1;
  let maxAt = -1;
  let minHi = 0;
  let minLo = 0;
  let maxHi = 0;
  let maxLo = 0;
  for (let i = 0; i < col.length; i++) {
    if (col.validity !== null && !isValid(col, i)) continue;
    const hi = words[2 * i + 1];
    const lo = words[2 * i] >>> 0;
    if (minAt < 0 || hi < minHi || (hi === minHi && lo < minLo)) { minAt = i; minHi = hi; minLo = lo; }
    if (maxAt < 0 || hi > maxHi || (hi === maxHi && lo > maxLo)) { maxAt = i; maxHi = hi; maxLo = lo; }
  }
  return minAt < 0 ? null : { min: v[minAt], max: v[maxAt] };
}

let primed = false;

/**
 * Runs measureColumn over small text and integer columns, with and without nulls, several rounds
 * (V8 gives a function its feedback vector only after its first calls), once per thread. V8
 * compiled integerRange while a batch's first column ran (on-stack replacement), before the code
 * after its loop had run, and threw that away when it first did, 4 compiles per thread in all.
 */
function primeMeasureColumn(): void {
  if (primed) return;
  primed = true;
  const validity = new Uint8Array([0b1011_0111, 0xff, 0, 0, 0, 0, 0, 0]);
  const integers = (nulls: boolean): ColumnView => ({
    type: 'integer', length: 12, nullCount: nulls ? 3 : 0, validity: nulls ? validity : null, bitOffset: 0,
    values: BigInt64Array.from({ length: 12 }, (_, i) => BigInt(i * 7919 - 40_000) << BigInt(i % 3 === 0 ? 33 : 0)), offsets: null,
  });
  const text = (nulls: boolean): ColumnView => ({
    type: 'string', length: 12, nullCount: nulls ? 3 : 0, validity: nulls ? validity : null, bitOffset: 0,
    values: new Uint8Array(64), offsets: Int32Array.from({ length: 13 }, (_, i) => i * 5 - (i % 2)),
  });
  const cols = [integers(false), integers(true), text(false), text(true)];
  for (let round = 0; round < 16; round++) for (const col of cols) measureColumn(col, { nullCount: 0 });
}

/** True when the table lacks something the format needs before its first byte. */
export function needsFirstPass(table: Table, needsRowCount: boolean, needsStatistics: boolean): boolean {
  if (needsRowCount && table.numRows === undefined) return true;
  if (!needsStatistics) return false;
  return table.variables.some((v) => {
    const s = table.statistics?.[v.name];
    if (v.type === 'string' || v.type === 'geography') return s?.maxByteLength === undefined;
    if (v.type === 'integer') return s?.min === undefined || s?.max === undefined;
    return false;
  });
}
