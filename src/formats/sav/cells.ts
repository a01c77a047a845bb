/**
 * Per-column writers of case data (fact sheet B7, B9): each fills its slots of a block of
 * cases, one column at a time, and records each slot's bytecode opcode as it goes, so the
 * compressor never looks at a value again. A writer is chosen once per file from the
 * column's type; the row loops read the column's typed arrays directly (no Vector.get).
 */
import type { ColumnView } from '../../table/columns.js';
import { OP_SYSMIS, SYSMIS, opcodeOf, valid, type ValueReport, type SlotWriter } from './case-block.js';
import type { SavVariable } from './layout.js';
import { shortStringWriter, veryLongStringWriter } from './string-cells.js';
import { SPSS_EPOCH_OFFSET_SECONDS } from './value-labels.js';

const SECONDS_PER_DAY = 86400;
/** B9: days from 1582-10-14 to 1970-01-01. */
const EPOCH_OFFSET_DAYS = 141428;

/** int64 as the nearest double, from its two 32-bit halves (no BigInt per cell). */
function int64Words(col: ColumnView): Int32Array {
  const v = col.values;
  return new Int32Array(v.buffer, v.byteOffset, v.length * 2);
}

/**
 * Seconds of an int64 count of microseconds (hi·2^32 + lo), plus `offset` whole seconds, as
 * the correctly rounded double (B9): whole seconds and the fraction are both exact or rounded
 * once, and they are added with the same sign, so no cancellation can amplify an error.
 */
export function secondsOfMicros(hi: number, lo: number, offset: number): number {
  // hi·2^32 = hi·4294·10^6 + hi·967296, so the remainder r stays below 2^53.
  const r = hi * 967296 + lo;
  let q = Math.floor(r / 1e6);
  let f = r - q * 1e6;
  if (f < 0) {
    q -= 1;
    f += 1e6;
  } else if (f >= 1e6) {
    q += 1;
    f -= 1e6;
  }
  const whole = hi * 4294 + q + offset; // exact: below 2^53
  if (f === 0) return whole;
  return whole >= 0 ? whole + f / 1e6 : -((-whole - 1) + (1e6 - f) / 1e6);
}

/*
 * One explicit loop per type rather than one loop calling a value function: a shared loop
 * would make that call site megamorphic across a file's columns and stop V8 inlining it.
 * Each stores the value (SYSMIS for null, NaN and ±Infinity, B7) and its opcode.
 */

function integerWriter(slot: number): SlotWriter {
  return (col, start, count, block) => {
    const { f64, ops, caseSize } = block;
    const w = int64Words(col);
    const bits = col.validity;
    for (let r = 0, at = block.base + slot, op = slot; r < count; r++, at += caseSize, op += caseSize) {
      const i = start + r;
      if (bits !== null && !valid(bits, col.bitOffset + i)) {
        f64[at] = SYSMIS;
        ops[op] = OP_SYSMIS;
      } else {
        const x = w[2 * i + 1] * 4294967296 + (w[2 * i] >>> 0); // nearest double (B9: exact to 2^53)
        f64[at] = x;
        ops[op] = opcodeOf(x);
      }
    }
  };
}

function floatWriter(slot: number, report: ValueReport): SlotWriter {
  return (col, start, count, block) => {
    const { f64, ops, caseSize } = block;
    const values = col.values as Float64Array;
    const bits = col.validity;
    for (let r = 0, at = block.base + slot, op = slot; r < count; r++, at += caseSize, op += caseSize) {
      const i = start + r;
      const x = values[i];
      if ((bits !== null && !valid(bits, col.bitOffset + i)) || x - x !== 0) { // x − x is NaN for NaN and ±Inf
        f64[at] = SYSMIS;
        ops[op] = OP_SYSMIS;
      } else {
        if (x === SYSMIS) report(i, 'sysmis');
        f64[at] = x;
        ops[op] = opcodeOf(x);
      }
    }
  };
}

function booleanWriter(slot: number): SlotWriter {
  return (col, start, count, block) => {
    const { f64, ops, caseSize } = block;
    const values = col.values as Uint8Array;
    const bits = col.validity;
    for (let r = 0, at = block.base + slot, op = slot; r < count; r++, at += caseSize, op += caseSize) {
      const bit = col.bitOffset + start + r;
      if (bits !== null && !valid(bits, bit)) {
        f64[at] = SYSMIS;
        ops[op] = OP_SYSMIS;
      } else {
        const x = (values[bit >> 3] >> (bit & 7)) & 1;
        f64[at] = x;
        ops[op] = 100 + x;
      }
    }
  };
}

function dateWriter(slot: number): SlotWriter {
  return (col, start, count, block) => {
    const { f64, ops, caseSize } = block;
    const days = col.values as Int32Array;
    const bits = col.validity;
    for (let r = 0, at = block.base + slot, op = slot; r < count; r++, at += caseSize, op += caseSize) {
      const i = start + r;
      if (bits !== null && !valid(bits, col.bitOffset + i)) {
        f64[at] = SYSMIS;
        ops[op] = OP_SYSMIS;
      } else {
        const x = (days[i] + EPOCH_OFFSET_DAYS) * SECONDS_PER_DAY; // B9: midnight in seconds since 1582-10-14
        f64[at] = x;
        ops[op] = opcodeOf(x);
      }
    }
  };
}

/** dateTime (offset 12,219,379,200 s, B9) and time (offset 0) from int64 microseconds. */
function microsWriter(slot: number, offset: number): SlotWriter {
  return (col, start, count, block) => {
    const { f64, ops, caseSize } = block;
    const w = int64Words(col);
    const bits = col.validity;
    for (let r = 0, at = block.base + slot, op = slot; r < count; r++, at += caseSize, op += caseSize) {
      const i = start + r;
      if (bits !== null && !valid(bits, col.bitOffset + i)) {
        f64[at] = SYSMIS;
        ops[op] = OP_SYSMIS;
      } else {
        const x = secondsOfMicros(w[2 * i + 1], w[2 * i] >>> 0, offset);
        f64[at] = x;
        ops[op] = opcodeOf(x);
      }
    }
  };
}

/** The writer of one variable, chosen once per file. */
export function chooseSlotWriter(v: SavVariable, report: ValueReport): SlotWriter {
  const slot = v.firstSlot;
  switch (v.type) {
    case 'integer': return integerWriter(slot);
    case 'float': return floatWriter(slot, report);
    case 'boolean': return booleanWriter(slot);
    case 'date': return dateWriter(slot);
    case 'dateTime': return microsWriter(slot, SPSS_EPOCH_OFFSET_SECONDS);
    case 'time': return microsWriter(slot, 0);
    case 'string':
    case 'geography': return v.segments.length === 1 ? shortStringWriter(v, report) : veryLongStringWriter(v, report);
  }
}
