/**
 * jsonl encoder: exact output for every type and edge case (escaping, non-finite floats,
 * int64 beyond 2^53 as bare numbers), keys in table order, sliced batches. Batches are built
 * straight from typed arrays.
 */
import type { RecordBatch } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { jsonlEncoder, type JsonlOptions } from '../../src/formats/jsonl/index.js';
import { batchOf, column, tableOf, type Value } from '../helpers/columns.js';
import type { Table, VariableType } from '../../src/table/types.js';
import { MemorySink } from '../helpers/memory-sink.js';

async function encode(table: Table, batches: RecordBatch[], options: JsonlOptions = {}): Promise<string> {
  const sink = new MemorySink();
  const file = await jsonlEncoder.prepare(table, options).beginFile(sink);
  let row = 0;
  for (const b of batches) {
    await file.writeBatch(b, row);
    row += b.numRows;
  }
  expect(await file.endFile()).toEqual([]);
  return sink.text();
}

/** The lines of a one-column table, `{"x":…}` each. */
async function linesOf(type: VariableType, values: Value[], tight = false): Promise<string[]> {
  const table = tableOf({ x: type });
  const text = await encode(table, [batchOf(table, [column(type, values, tight)])]);
  expect(text.endsWith('\n')).toBe(true);
  return text.slice(0, -1).split('\n').map((line) => {
    expect(line.startsWith('{"x":') && line.endsWith('}')).toBe(true);
    return line.slice(5, -1);
  });
}

describe('jsonl values', () => {
  it('writes int64 as bare numbers with all digits', async () => {
    expect(await linesOf('integer', [-(2n ** 63n), 2n ** 63n - 1n, 0n, -1n, null, 2n ** 53n + 1n, 1234567890123n]))
      .toEqual(['-9223372036854775808', '9223372036854775807', '0', '-1', 'null', '9007199254740993', '1234567890123']);
  });

  it('regression: -0 and floats of 1e16 and more are spelled so pandas and DuckDB read them back (-0.0, exponent form)', async () => {
    expect(await linesOf('float', [-0, 1e16, -9.927701216917027e19, 862842071829674500000, 9999999999999998, 123.5]))
      .toEqual(['-0.0', '1e+16', '-9.927701216917027e+19', '8.628420718296745e+20', '9999999999999998', '123.5']);
  });

  it('writes floats shortest, -0 kept, non-finite as strings', async () => {
    expect(await linesOf('float', [0, -0, NaN, Infinity, -Infinity, 5e-324, 1.7976931348623157e308, 0.1, null, 1e21, -1.5e-7, 2.5]))
      .toEqual(['0', '-0.0', '"NaN"', '"Infinity"', '"-Infinity"', '5e-324', '1.7976931348623157e+308', '0.1', 'null', '1e+21', '-1.5e-7', '2.5']);
  });

  it('writes booleans, dates, dateTimes and times', async () => {
    expect(await linesOf('boolean', [true, false, null])).toEqual(['true', 'false', 'null']);
    expect(await linesOf('date', [-719162, -1, 2932896, null])).toEqual(['"0001-01-01"', '"1969-12-31"', '"9999-12-31"', 'null']);
    expect(await linesOf('dateTime', [-1n, 0n, 1_700_000_000_000_000n, null, -62_135_596_800_000_000n]))
      .toEqual(['"1969-12-31T23:59:59.999999"', '"1970-01-01T00:00:00"', '"2023-11-14T22:13:20"', 'null', '"0001-01-01T00:00:00"']);
    expect(await linesOf('time', [0n, 86_399_999_999n, 1_000_000n, null])).toEqual(['"00:00:00"', '"23:59:59.999999"', '"00:00:01"', 'null']);
  });

  it('escapes strings per RFC 8259 and leaves non-ASCII raw', async () => {
    const values = ['plain', 'say "hi"', 'back\\slash', 'a\nb', 'a\rb', 'a\tb', '\b\f', '\u0001\u001f', '\u007f', 'é', '漢字', '😀',
      '\u2028', '', null, 'a,b', '</script>'];
    expect(await linesOf('string', values)).toEqual([
      '"plain"', '"say \\"hi\\""', '"back\\\\slash"', '"a\\nb"', '"a\\rb"', '"a\\tb"', '"\\b\\f"', '"\\u0001\\u001f"', '"\u007f"', '"é"',
      '"漢字"', '"😀"', '"\u2028"', '""', 'null', '"a,b"', '"</script>"',
    ]);
  });

  it('escapes at any position of strings of any length (word and tail paths), reading back with JSON.parse', async () => {
    const values: string[] = [];
    for (let length = 1; length <= 11; length++) {
      for (let at = 0; at < length; at++) {
        for (const special of ['"', '\\', '\n', '\u0000', '\u001b', ' ', '!', '#']) {
          const chars = Array.from({ length }, (_, i) => String.fromCharCode(97 + i));
          chars[at] = special;
          values.push(chars.join(''));
        }
      }
      values.push(`é${'abcdefghijk'.slice(0, length)}`);
    }
    for (const tight of [false, true]) {
      const lines = await linesOf('string', values, tight);
      expect(lines.map((line) => JSON.parse(line) as string)).toEqual(values);
      expect(lines[0]).toBe('"\\""');
    }
  });
});

describe('jsonl rows', () => {
  it('writes one object per line, keys in table order and JSON-escaped', async () => {
    const table = tableOf({ id: 'integer', 'say "x"': 'string', 'tab\tkey': 'float', é: 'boolean' });
    const batch = batchOf(table, [
      column('integer', [1n, null]), column('string', ['a', null]), column('float', [0.5, NaN]), column('boolean', [true, null]),
    ]);
    expect(await encode(table, [batch])).toBe(
      '{"id":1,"say \\"x\\"":"a","tab\\tkey":0.5,"é":true}\n{"id":null,"say \\"x\\"":null,"tab\\tkey":"NaN","é":null}\n',
    );
  });

  it('writes nothing for no rows and reads sliced batches at their offsets', async () => {
    const table = tableOf({ b: 'boolean', s: 'string' });
    const flags = [true, false, null, true, false, true, true, null, false, true];
    const full = batchOf(table, [column('boolean', flags), column('string', flags.map((_, i) => (i % 4 === 0 ? null : `s${i}`)))]);
    const lines = flags.map((f, i) => `{"b":${f === null ? 'null' : f},"s":${i % 4 === 0 ? 'null' : `"s${i}"`}}\n`);
    expect(await encode(table, [])).toBe('');
    expect(await encode(table, [full.slice(0, 3), full.slice(3, 4), full.slice(4, 10)])).toBe(lines.join(''));
    expect(await encode(table, [full.slice(5, 9)])).toBe(lines.slice(5, 9).join(''));
  });

  it('encodes many chunks exactly', async () => {
    const n = 5000;
    const table = tableOf({ id: 'integer', s: 'string' });
    const strings = Array.from({ length: n }, (_, i) => (i % 7 === 0 ? `"${i}"\n` : `v${i}`));
    const batch = batchOf(table, [column('integer', Array.from({ length: n }, (_, i) => BigInt(i))), column('string', strings)]);
    const expected = strings.map((s, i) => `{"id":${i},"s":${JSON.stringify(s)}}\n`).join('');
    expect(await encode(table, [batch])).toBe(expected);
  });
});

describe('jsonl options and capabilities', () => {
  it('reports extension, compression and capabilities', () => {
    expect(jsonlEncoder.extension({})).toBe('jsonl');
    expect(jsonlEncoder.extension({ gzip: true })).toBe('jsonl.gz');
    expect(jsonlEncoder.compression?.({ gzip: true })).toBe('gzip');
    expect(jsonlEncoder.compression?.({})).toBeNull();
    expect(jsonlEncoder.capabilities).toEqual({ splittable: true, needsRowCount: false, needsStatistics: false, patchesHeader: false });
  });

  it('refuses a gzip option that is not a boolean', () => {
    const table = tableOf({ x: 'integer' });
    expect(() => jsonlEncoder.prepare(table, { gzip: 'yes' as unknown as boolean })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', format: 'jsonl' }));
  });

  it('refuses a time outside the day, naming column and row', async () => {
    const table = tableOf({ t: 'time' });
    const file = await jsonlEncoder.prepare(table, {}).beginFile(new MemorySink());
    await expect(file.writeBatch(batchOf(table, [column('time', [0n, 86_400_000_000n])]), 10))
      .rejects.toMatchObject({ code: 'VALUE_OUT_OF_RANGE', format: 'jsonl', column: 't', row: 11 });
  });
});

describe('jsonl long strings', () => {
  it('writes rows of long strings and one very long string exactly', async () => {
    const table = tableOf({ s: 'string' });
    const long = Array.from({ length: 300 }, (_, i) => `${'w'.repeat(5000 + i)}"\n`);
    long.push('é'.repeat(1_500_000));
    const batch = batchOf(table, [column('string', long)]);
    expect(await encode(table, [batch])).toBe(long.map((s) => `{"s":${JSON.stringify(s)}}\n`).join(''));
  });
});
