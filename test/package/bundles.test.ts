/**
 * The published bundles (dist/, built by `npm test` before vitest), loaded the ways an
 * embedding service loads them: require() of the CommonJS build, import of the ESM build, and
 * the ESM build from `node --input-type=module -e`, whose flag the parquet worker must not
 * inherit. Each writes a small table in every format.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/batches.js';
import { PROJECT_ROOT } from '../helpers/readers.js';

const FORMATS = ['csv', 'jsonl', 'parquet', 'avro', 'dta', 'sav'];

/** The body of the script: exports a 3-row table to every format and prints `format status size` lines. */
function script(load: string, out: string): string {
  return `${load}
const table = { name: 'tiny', variables: [
  { name: 'id', type: 'integer' }, { name: 'x', type: 'float' }, { name: 'when', type: 'dateTime' }, { name: 'note', type: 'string' },
] };
const rows = [
  { id: 1, x: 0.5, when: '2024-01-02T03:04:05.123456', note: 'a' },
  { id: 2, x: null, when: null, note: 'é, "quoted"' },
  { id: 3, x: -1e300, when: '1999-12-31T23:59:59', note: null },
];
(async () => {
  for (const format of ${JSON.stringify(FORMATS)}) {
    const exp = await lib.exportTable(lib.fromRows(rows, table), { format, out: ${JSON.stringify(out)} + '/' + format });
    console.log(format, exp.status, exp.size, exp.errorMessage ?? '');
  }
})();
`;
}

function run(args: string[]): string[] {
  const result = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 60_000 });
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  return result.stdout.trim().split('\n');
}

function expectAllCompleted(lines: string[]): void {
  expect(lines.map((l) => l.split(' ').slice(0, 2).join(' '))).toEqual(FORMATS.map((f) => `${f} completed`));
  for (const line of lines) expect(Number(line.split(' ')[2])).toBeGreaterThan(0);
}

describe('the built package', () => {
  const dist = join(PROJECT_ROOT, 'dist');

  it('require() of the CommonJS build writes every format', async () => {
    const out = await tempDir('te-cjs-');
    expectAllCompleted(run(['-e', script(`const lib = require(${JSON.stringify(join(dist, 'index.cjs'))});`, out)]));
  });

  it('import of the ESM build writes every format, also under node --expose-gc --input-type=module', async () => {
    const load = `const lib = await import(${JSON.stringify(join(dist, 'index.js'))});`;
    // The import goes inside the async function, so the same text runs as a script and as a module.
    const body = (out: string): string => script('', out).replace('(async () => {', `(async () => {\n${load}`);
    expectAllCompleted(run(['-e', body(await tempDir('te-esm-'))]));
    // With a per-process flag too (the benchmarks run with --expose-gc), which a worker must not be given explicitly.
    expectAllCompleted(run(['--expose-gc', '--input-type=module', '-e', body(await tempDir('te-esm-module-'))]));
  });
});
