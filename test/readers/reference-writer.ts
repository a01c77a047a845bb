/**
 * A deliberately tiny csv / jsonl writer used ONLY to test the harness itself (fixtures,
 * read_back.py, quirks) before and independently of the library. It follows the text forms of
 * DESIGN.md ("How each type is written") and is never used to judge the library's output.
 *
 * Choices readers forced (see the report in test/readers/read_back.py):
 *  - csv: an empty string is written as "" and a null as an empty field, so DuckDB
 *    (allow_quoted_nulls=false) tells them apart.
 *  - jsonl: a finite float is written as Python's repr writes it (1.0, -0.0, 1e+16,
 *    -9.927701216917027e+19): pandas, Python's json and DuckDB read the JSON number -0 as the
 *    integer 0 (sign lost), and pandas read_json fails ("Value is too big" / "too small") on
 *    any number whose integer digits exceed int64, even 99277012169170270000.0.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { VariableType } from '../../src/table/types.js';
import type { ArrowValue } from '../helpers/canonical.js';
import { isoDate, isoDateTime, isoTime, pyFloatRepr } from '../helpers/canonical.js';
import type { Fixture } from '../fixtures/build.js';
import { partRanges } from '../helpers/reader-quirks.js';

/** DESIGN.md text of a non-null value (csv cell before quoting). */
export function textOf(type: VariableType, value: Exclude<ArrowValue, null>): string {
  switch (type) {
    case 'integer': return (value as bigint).toString();
    case 'float': {
      const x = value as number;
      if (Number.isNaN(x)) return 'NaN';
      if (x === Infinity) return 'Infinity';
      if (x === -Infinity) return '-Infinity';
      return Object.is(x, -0) ? '-0' : String(x);
    }
    case 'boolean': return value ? 'true' : 'false';
    case 'date': return isoDate(value as number);
    case 'dateTime': return isoDateTime(value as bigint);
    case 'time': return isoTime(value as bigint);
    case 'string':
    case 'geography': return value as string;
  }
}

function csvCell(type: VariableType, value: ArrowValue): string {
  if (value === null) return '';
  const text = textOf(type, value);
  return text === '' || /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function jsonCell(type: VariableType, value: ArrowValue): string {
  if (value === null) return 'null';
  if (type === 'integer' || type === 'boolean') return textOf(type, value);
  if (type === 'float') {
    const x = value as number;
    if (!Number.isFinite(x)) return JSON.stringify(textOf(type, x));
    return pyFloatRepr(x); // always a fraction or an exponent; exponent from 1e16 on
  }
  return JSON.stringify(textOf(type, value));
}

function rowsText(fixture: Fixture, start: number, end: number, format: 'csv' | 'jsonl'): string {
  const vars = fixture.table.variables;
  let out = format === 'csv' ? `${vars.map((v) => csvCell('string', v.name)).join(',')}\n` : '';
  for (let row = start; row < end; row++) {
    if (format === 'csv') {
      out += `${vars.map((v) => csvCell(v.type, fixture.values[v.name][row])).join(',')}\n`;
    } else {
      out += `{${vars.map((v) => `${JSON.stringify(v.name)}:${jsonCell(v.type, fixture.values[v.name][row])}`).join(',')}}\n`;
    }
  }
  return out;
}

/** Writes the fixture as `format` into `dir`, one file per entry of partRows; returns the paths. */
export function writeReference(fixture: Fixture, format: 'csv' | 'jsonl', dir: string, partRows?: readonly number[]): string[] {
  mkdirSync(dir, { recursive: true });
  const rows = fixture.values[fixture.table.variables[0].name].length;
  const ranges = partRanges(partRows ?? [rows]);
  return ranges.map(([start, end], i) => {
    const path = join(dir, ranges.length === 1 ? `${fixture.name}.${format}` : `${fixture.name}_${i}.${format}`);
    writeFileSync(path, rowsText(fixture, start, end, format));
    return path;
  });
}
