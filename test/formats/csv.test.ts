/**
 * csv encoder: exact output for every type and edge case, options, headers per file, sliced
 * batches and batches larger than one chunk. Batches are built straight from typed arrays.
 */
import type { RecordBatch } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { ExportError } from '../../src/errors.js';
import { csvEncoder, type CsvOptions } from '../../src/formats/csv/index.js';
import { batchOf, column, tableOf, type Value } from '../helpers/columns.js';
import type { Table, VariableType } from '../../src/table/types.js';
import { MemorySink } from '../helpers/memory-sink.js';

/** A one-column table and batch. */
function single(type: VariableType, values: Value[], name = 'x'): { table: Table; batch: RecordBatch } {
  const table = tableOf({ [name]: type });
  return { table, batch: batchOf(table, [column(type, values)]) };
}

/** The files written for `files` (each a list of batches), as strings. */
async function encodeFiles(table: Table, files: RecordBatch[][], options: CsvOptions = {}): Promise<string[]> {
  const prepared = csvEncoder.prepare(table, options);
  const out: string[] = [];
  let row = 0;
  for (const batches of files) {
    const sink = new MemorySink();
    const file = await prepared.beginFile(sink);
    for (const b of batches) {
      await file.writeBatch(b, row);
      row += b.numRows;
    }
    expect(await file.endFile()).toEqual([]);
    expect(sink.bytesWritten).toBe(Buffer.byteLength(sink.text()));
    out.push(sink.text());
  }
  return out;
}

async function encode(table: Table, batches: RecordBatch[], options: CsvOptions = {}): Promise<string> {
  return (await encodeFiles(table, [batches], options))[0];
}

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

describe('csv values', () => {
  const cases: [string, VariableType, Value[], string][] = [
    ['integers', 'integer', [I64_MIN, I64_MAX, 0n, -1n, null, 2n ** 53n + 1n, -(2n ** 53n) - 1n, 42n],
      'x\n-9223372036854775808\n9223372036854775807\n0\n-1\n\n9007199254740993\n-9007199254740993\n42\n'],
    ['floats', 'float', [0, -0, NaN, Infinity, -Infinity, 5e-324, 1.7976931348623157e308, 0.1, null, 123.45, -2.5, 1e21, 1e-7, 0.1 + 0.2],
      'x\n0\n-0\nNaN\nInfinity\n-Infinity\n5e-324\n1.7976931348623157e+308\n0.1\n\n123.45\n-2.5\n1e+21\n1e-7\n0.30000000000000004\n'],
    ['booleans', 'boolean', [true, false, null, true], 'x\ntrue\nfalse\n\ntrue\n'],
    ['dates', 'date', [-719162, -1, 0, 2932896, null, 11016], 'x\n0001-01-01\n1969-12-31\n1970-01-01\n9999-12-31\n\n2000-02-29\n'],
    ['dateTimes', 'dateTime', [-1n, -62_135_596_800_000_000n, 253_402_300_799_999_999n, 0n, null, -1_500_000n, 1_700_000_000_123_456n, -86_400_000_000n],
      'x\n1969-12-31T23:59:59.999999\n0001-01-01T00:00:00\n9999-12-31T23:59:59.999999\n1970-01-01T00:00:00\n\n' +
      '1969-12-31T23:59:58.500000\n2023-11-14T22:13:20.123456\n1969-12-31T00:00:00\n'],
    ['times', 'time', [0n, 86_399_999_999n, null, 3_723_000_000n, 1n], 'x\n00:00:00\n23:59:59.999999\n\n01:02:03\n00:00:00.000001\n'],
    ['strings', 'string', ['plain', 'a,b', 'say "hi"', 'line\nbreak', 'cr\rhere', '', null, '😀', '漢字', 'é', ' spaced out ', '"', ',', 'crlf\r\n'],
      'x\nplain\n"a,b"\n"say ""hi"""\n"line\nbreak"\n"cr\rhere"\n""\n\n😀\n漢字\né\n spaced out \n""""\n","\n"crlf\r\n"\n'],
    ['geography', 'geography', ['POINT (1 2)', 'LINESTRING (0 0, 1 1)', null], 'x\nPOINT (1 2)\n"LINESTRING (0 0, 1 1)"\n\n'],
  ];
  it.each(cases)('%s', async (_name, type, values, expected) => {
    const { table, batch } = single(type, values);
    expect(await encode(table, [batch])).toBe(expected);
  });

  it('quotes a special byte at any position of strings of any length (word and tail paths)', async () => {
    const values: string[] = [];
    const expected: string[] = [];
    for (let length = 1; length <= 11; length++) {
      for (let at = 0; at < length; at++) {
        for (const special of [',', '"', '\n', '\r']) {
          const chars = Array.from({ length }, (_, i) => String.fromCharCode(97 + i));
          chars[at] = special;
          const value = chars.join('');
          values.push(value);
          expected.push(`"${value.replace(/"/g, '""')}"`);
        }
      }
      const clean = 'abcdefghijk'.slice(0, length);
      values.push(clean, ` ${clean}!`, `é${clean}`);
      expected.push(clean, ` ${clean}!`, `é${clean}`);
    }
    for (const tight of [false, true]) {
      const table = tableOf({ s: 'string' });
      const batch = batchOf(table, [column('string', values, tight)]);
      expect(await encode(table, [batch], { header: false })).toBe(expected.map((e) => `${e}\n`).join(''));
    }
  });
});

describe('csv quoting under other delimiters', () => {
  // The word-at-a-time check compares each byte with `"`, LF, CR and the delimiter; bytes one
  // off them (and the filler that pads a string's last partial word) must not be quoted.
  it.each([['A'], ['B'], ['\t'], [';'], ['|']])('delimiter %j: quoted exactly when a value holds it, `"`, LF or CR', async (delimiter) => {
    const values: string[] = [];
    const expected: string[] = [];
    const specials = [delimiter, '"', '\n', '\r'];
    const neighbours = ['!', '#', '\t', '\x0b', '\x0c', '\x0e', 'A', 'B', 'C', ':', '<', '{', '}', 'é'].filter((c) => !specials.includes(c));
    for (let length = 1; length <= 9; length++) {
      for (let at = 0; at < length; at++) {
        for (const c of [...specials, ...neighbours]) {
          const chars = Array.from({ length }, (_, i) => String.fromCharCode(109 + i));
          chars[at] = c;
          const value = chars.join('');
          values.push(value);
          expected.push(specials.includes(c) ? `"${value.replace(/"/g, '""')}"` : value);
        }
      }
    }
    for (const tight of [false, true]) {
      const table = tableOf({ s: 'string' });
      const batch = batchOf(table, [column('string', values, tight)]);
      expect(await encode(table, [batch], { header: false, delimiter })).toBe(expected.map((e) => `${e}\n`).join(''));
    }
  });
});

describe('csv rows and options', () => {
  const table = tableOf({ id: 'integer', 'name, full': 'string', 'say "x"': 'float', ok: 'boolean' });
  const batch = batchOf(table, [
    column('integer', [1n, 2n, null]),
    column('string', ['Ann', 'B;C', null]),
    column('float', [1.5, null, NaN]),
    column('boolean', [true, false, null]),
  ]);

  it('writes a header quoted by the same rules, then one line per row', async () => {
    expect(await encode(table, [batch])).toBe('id,"name, full","say ""x""",ok\n1,Ann,1.5,true\n2,B;C,,false\n,,NaN,\n');
  });

  it('leaves the header out when asked', async () => {
    expect(await encode(table, [batch], { header: false })).toBe('1,Ann,1.5,true\n2,B;C,,false\n,,NaN,\n');
  });

  it('uses ; as delimiter (quoting ; and no longer ,)', async () => {
    expect(await encode(table, [batch], { delimiter: ';' })).toBe('id;name, full;"say ""x""";ok\n1;Ann;1.5;true\n2;"B;C";;false\n;;NaN;\n');
  });

  it('uses tab as delimiter', async () => {
    const t = tableOf({ a: 'string', b: 'integer' });
    const b = batchOf(t, [column('string', ['x\ty', 'x,y']), column('integer', [1n, 2n])]);
    expect(await encode(t, [b], { delimiter: '\t' })).toBe('a\tb\n"x\ty"\t1\nx,y\t2\n');
  });

  it('ends lines with CRLF when asked', async () => {
    expect(await encode(table, [batch], { lineEnding: '\r\n' })).toBe('id,"name, full","say ""x""",ok\r\n1,Ann,1.5,true\r\n2,B;C,,false\r\n,,NaN,\r\n');
  });

  it('begins every file with the BOM and the header when asked', async () => {
    const [a, b] = await encodeFiles(table, [[batch.slice(0, 1)], [batch.slice(1, 3)]], { bom: true });
    expect(a).toBe('\ufeffid,"name, full","say ""x""",ok\n1,Ann,1.5,true\n');
    expect(b).toBe('\ufeffid,"name, full","say ""x""",ok\n2,B;C,,false\n,,NaN,\n');
    const [c] = await encodeFiles(table, [[batch]], { bom: true, header: false });
    expect(c.startsWith('\ufeff1,Ann')).toBe(true);
  });

  it('writes only the header (and BOM) for a file without rows, and nothing without them', async () => {
    expect(await encode(table, [])).toBe('id,"name, full","say ""x""",ok\n');
    expect(await encode(table, [batch.slice(0, 0)], { header: false })).toBe('');
  });

  it('reads sliced batches at their offsets (values, validity and boolean bits)', async () => {
    const t = tableOf({ b: 'boolean', i: 'integer', s: 'string', d: 'date' });
    const flags = [true, false, null, true, false, true, true, null, false, true, false];
    const full = batchOf(t, [
      column('boolean', flags),
      column('integer', flags.map((_, i) => (i % 3 === 0 ? null : BigInt(i)))),
      column('string', flags.map((_, i) => (i % 4 === 0 ? null : `s${i}`))),
      column('date', flags.map((_, i) => i)),
    ]);
    const text = (v: boolean | null): string => (v === null ? '' : String(v));
    const rows = flags.map((f, i) => `${text(f)},${i % 3 === 0 ? '' : i},${i % 4 === 0 ? '' : `s${i}`},1970-01-${String(i + 1).padStart(2, '0')}\n`);
    expect(await encode(t, [full.slice(3, 10)], { header: false })).toBe(rows.slice(3, 10).join(''));
    expect(await encode(t, [full.slice(0, 3), full.slice(3, 5), full.slice(5, 11)], { header: false })).toBe(rows.join(''));
  });

  it('keeps bytes already handed to the sink intact (regression: Buffer#slice shares memory)', async () => {
    const { table: t } = single('integer', []);
    const batches = Array.from({ length: 5 }, (_, i) => batchOf(t, [column('integer', [BigInt(i), BigInt(10 * i)])]));
    expect(await encode(t, batches, { header: false })).toBe('0\n0\n1\n10\n2\n20\n3\n30\n4\n40\n');
  });

  it('encodes a batch of many chunks and over a megabyte exactly', async () => {
    const n = 30_000;
    const t = tableOf({ id: 'integer', s: 'string', f: 'float' });
    const ids = Array.from({ length: n }, (_, i) => BigInt(i * 7919));
    const strings = Array.from({ length: n }, (_, i) => (i % 10 === 0 ? `q"${i}"` : `value number ${i} ${'x'.repeat(i % 13)}`));
    const floats = Array.from({ length: n }, (_, i) => i / 8);
    const big = batchOf(t, [column('integer', ids), column('string', strings), column('float', floats)]);
    const expected = ids.map((id, i) => `${id},${i % 10 === 0 ? `"q""${i}"""` : strings[i]},${floats[i]}\n`).join('');
    const sink = new MemorySink();
    const file = await csvEncoder.prepare(t, { header: false }).beginFile(sink);
    await file.writeBatch(big, 0);
    expect(sink.text()).toBe(expected);
    expect(sink.chunks.length).toBeGreaterThan(1);
    expect(expected.length).toBeGreaterThan(1 << 20);
  });
});

describe('csv errors and capabilities', () => {
  const table = tableOf({ x: 'integer' });

  it.each([
    [{ delimiter: '"' }], [{ delimiter: '\r' }], [{ delimiter: '\n' }], [{ delimiter: '' }], [{ delimiter: ';;' }],
    [{ delimiter: '§' }], [{ lineEnding: '\r' as '\n' }], [{ header: 'yes' as unknown as boolean }], [{ bom: 1 as unknown as boolean }],
  ])('refuses %j with INVALID_OPTION', (options) => {
    expect(() => csvEncoder.prepare(table, options)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', format: 'csv' }));
  });

  it('refuses a date outside 0001..9999, naming column and row', async () => {
    const t = tableOf({ ok: 'integer', when: 'date' });
    const b = batchOf(t, [column('integer', [1n, 2n]), column('date', [0, 2932897])]);
    const file = await csvEncoder.prepare(t, {}).beginFile(new MemorySink());
    const error = await file.writeBatch(b, 100).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(ExportError);
    expect(error).toMatchObject({ code: 'VALUE_OUT_OF_RANGE', format: 'csv', column: 'when', row: 101 });
  });

  it.each([
    ['dateTime', 253_402_300_800_000_000n], ['dateTime', -62_135_596_800_000_001n], ['time', -1n], ['time', 86_400_000_000n],
  ] as const)('refuses a %s of %d', async (type, value) => {
    const { table: t, batch } = single(type, [value]);
    const file = await csvEncoder.prepare(t, {}).beginFile(new MemorySink());
    await expect(file.writeBatch(batch, 0)).rejects.toMatchObject({ code: 'VALUE_OUT_OF_RANGE', column: 'x', row: 0 });
  });

  it('reports extension, compression and capabilities', () => {
    expect(csvEncoder.extension({})).toBe('csv');
    expect(csvEncoder.extension({ gzip: true })).toBe('csv.gz');
    expect(csvEncoder.compression?.({})).toBeNull();
    expect(csvEncoder.compression?.({ gzip: true })).toBe('gzip');
    expect(csvEncoder.capabilities).toEqual({ splittable: true, needsRowCount: false, needsStatistics: false, patchesHeader: false });
    expect(csvEncoder.format).toBe('csv');
  });
});
