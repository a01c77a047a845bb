/**
 * Reads export files back with an independent reader (test/readers/read_back.py in the venv
 * that scripts/setup-readers.mjs makes) and checks them against a fixture. A missing reader
 * is an error, never a skip: the project must prove its files read back elsewhere.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { VariableType } from '../../src/table/types.js';
import type { Fixture } from '../fixtures/build.js';
import type { Cell } from './canonical.js';
import type { ReadBack } from './compare.js';
import { expectValuesEqual } from './compare.js';
import type { Expectation } from './reader-quirks.js';
import { expectationFor } from './reader-quirks.js';

export type { ReadBack } from './compare.js';
export type { Expectation } from './reader-quirks.js';
export { compareCanonical, expectValuesEqual } from './compare.js';
export { expectationFor } from './reader-quirks.js';

export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const VENV_PYTHON = `${PROJECT_ROOT}.venv/bin/python`;
export const READ_BACK_SCRIPT = `${PROJECT_ROOT}test/readers/read_back.py`;

/** The readers of each format read_back.py knows today (later: pyarrow, fastavro, readstat, pspp). */
export const READERS_BY_FORMAT: Record<string, readonly string[]> = {
  csv: ['pandas', 'duckdb'],
  jsonl: ['pandas', 'duckdb'],
  parquet: ['pyarrow', 'pandas', 'duckdb'],
  dta: ['pandas', 'readstat'],
  sav: ['readstat', 'pspp'],
  avro: ['fastavro'],
};

interface ReadBackJson {
  columns: string[];
  dtypes: Record<string, string>;
  rows: number;
  values: Record<string, Cell[]>;
}

/**
 * Reads `paths` (the parts of one export, in order) with `reader` as `format`. With `schema`
 * the reader is told each column's platform type, as a user who knows the table would.
 * Rejects with the reader's stderr when it fails.
 */
export function readBack(reader: string, format: string, paths: readonly string[],
  schema?: Record<string, VariableType>): Promise<ReadBack> {
  if (!existsSync(VENV_PYTHON)) {
    return Promise.reject(new Error(`independent readers are not installed: ${VENV_PYTHON} is missing; `
      + 'run `node scripts/setup-readers.mjs` (npm test does)'));
  }
  const args = [READ_BACK_SCRIPT, reader, format, ...paths];
  const schemaJson = schema ? JSON.stringify(schema) : null;
  // One argv string holds at most 128 KiB (Linux MAX_ARG_STRLEN): a wide table's schema goes through a file.
  const schemaFile = schemaJson !== null && schemaJson.length > 100_000 ? join(tmpdir(), `read-back-schema-${randomUUID()}.json`) : null;
  if (schemaFile !== null) writeFileSync(schemaFile, schemaJson as string);
  if (schemaJson !== null) args.push('--schema', schemaFile !== null ? `@${schemaFile}` : schemaJson);
  return new Promise((resolve, reject) => {
    execFile(VENV_PYTHON, args, { maxBuffer: 512 * 1024 * 1024, timeout: 300_000, env: { ...process.env, PYTHONIOENCODING: 'utf-8' } },
      (error, stdout, stderr) => {
        if (schemaFile !== null) rmSync(schemaFile, { force: true });
        if (error) {
          const tail = stderr.trim().split('\n').slice(-15).join('\n');
          reject(new Error(`read_back.py ${reader} ${format} failed (${error.code ?? error.signal ?? error.message}):\n${tail}`));
          return;
        }
        try {
          const parsed = JSON.parse(stdout) as ReadBackJson;
          resolve({ reader, format, paths: [...paths], ...parsed });
        } catch (cause) {
          reject(new Error(`read_back.py ${reader} ${format} printed no JSON: ${String(cause)}\n${stdout.slice(0, 500)}`, { cause }));
        }
      });
  });
}

export interface CheckOptions {
  /** Rows in each file of a split export, in order (Export.files[i].rows); default one file. */
  partRows?: readonly number[];
}

/**
 * Reads the files back with `reader` and throws unless they hold exactly the fixture, as far
 * as the reader can tell (test/helpers/reader-quirks.ts). Where the reader is known to refuse
 * the file, asserts that it does. Returns the read-back, or null when the read was refused.
 */
export async function expectReadBackMatches(reader: string, format: string, paths: readonly string[],
  fixture: Fixture, options: CheckOptions = {}): Promise<ReadBack | null> {
  const types = Object.fromEntries(fixture.table.variables.map((v) => [v.name, v.type]));
  const want: Expectation = expectationFor(fixture, reader, format, options.partRows);
  if (want.error) {
    const refusal = want.error;
    const got = await readBack(reader, format, paths, types).then(
      () => new Error(`${reader}/${format} read ${fixture.name}, but it is known to refuse it (${refusal}); `
        + 'update test/helpers/reader-quirks.ts if the reader was fixed'),
      (error: unknown) => (refusal.test(String(error)) ? null : new Error(`${reader}/${format} failed differently than known: ${String(error)}`)),
    );
    if (got) throw got;
    return null;
  }
  const got = await readBack(reader, format, paths, types);
  expectValuesEqual(got, want, types);
  return got;
}

/**
 * Throws unless `got` holds exactly the fixture's values, after the known quirks of
 * got.reader/got.format; the message names column, row, expected and got.
 */
export function expectSameValues(got: ReadBack, fixture: Fixture, options: CheckOptions = {}): void {
  const types = Object.fromEntries(fixture.table.variables.map((v) => [v.name, v.type]));
  expectValuesEqual(got, expectationFor(fixture, got.reader, got.format, options.partRows), types);
}
