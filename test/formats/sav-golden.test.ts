/**
 * A byte-exact golden sav file pins the layout (header, variable records, value labels,
 * extension records, bytecode data) for a small table with a fixed creation time. The golden is
 * itself judged by ReadStat and PSPP, so it is not merely self-consistent.
 * Regenerate after an intended layout change: SAV_UPDATE_GOLDEN=1 npx vitest run test/formats/sav-golden.test.ts
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exportTable, fromBatches } from '../../src/index.js';
import { defineFixture } from '../fixtures/build.js';
import { PROJECT_ROOT, expectReadBackMatches } from '../helpers/readers.js';

const GOLDEN = join(PROJECT_ROOT, 'fixtures/golden/small.sav');
const NOW = new Date(Date.UTC(2025, 10, 24, 12, 34, 56));

const small = defineFixture('small', [
  { name: 'id', type: 'integer', label: 'Row' },
  { name: 'score', type: 'float', label: 'Score', valueLabels: [{ value: '1.5', label: 'middling' }] },
  { name: 'ok', type: 'boolean' },
  { name: 'day', type: 'date' },
  { name: 'at', type: 'dateTime' },
  { name: 'clock', type: 'time' },
  { name: 'city', type: 'string', label: 'City', valueLabels: [{ value: 'Zürich', label: 'ZH' }] },
  { name: 'note', type: 'string', label: 'A very long string (two segments)' },
], {
  id: [1n, 2n, 1000n],
  score: [1.5, null, -0],
  ok: [true, false, null],
  day: ['2024-02-29', '1582-10-14', null],
  at: ['2024-02-29T12:34:56', '1970-01-01T00:00:00.5', null],
  clock: ['12:34:56', '00:00:00', null],
  city: ['Zürich', 'Genève', null],
  note: [`${'a'.repeat(254)}é${'b'.repeat(4)}`, '', null],
}, { description: 'Golden sav table' });

const root = mkdtempSync(join(tmpdir(), 'sav-golden-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('sav golden file', () => {
  it('writes fixtures/golden/small.sav byte for byte', async () => {
    const exp = await exportTable(fromBatches(small.batches), { format: 'sav', out: root, table: small.table, sav: { now: NOW } });
    expect(exp.status).toBe('completed');
    const path = exp.files[0].path as string;
    const bytes = readFileSync(path);
    if (process.env.SAV_UPDATE_GOLDEN === '1') writeFileSync(GOLDEN, bytes);
    expect(existsSync(GOLDEN), `${GOLDEN} is missing: run with SAV_UPDATE_GOLDEN=1 to write it`).toBe(true);
    const golden = readFileSync(GOLDEN);
    expect(bytes.length).toBe(golden.length);
    const first = bytes.findIndex((b, i) => b !== golden[i]);
    expect(first, `first differing byte at offset ${first}`).toBe(-1);
  });

  it('is read by ReadStat and PSPP value by value', async () => {
    const readstat = await expectReadBackMatches('readstat', 'sav', [GOLDEN], small);
    const meta = (readstat as unknown as { metadata: Record<string, string> }).metadata;
    expect(meta.Timestamp).toBe('24 Nov 2025 12:34');
    expect(meta['Table label']).toBe('Golden sav table');
    const pspp = await expectReadBackMatches('pspp', 'sav', [GOLDEN], small);
    const tables = (pspp as unknown as { metadata: { messages: string[]; Variables: string[][] } }).metadata;
    expect(tables.messages).toEqual([]);
    expect(tables.Variables.slice(1).map((r) => [r[0], r[7]])).toEqual([
      ['id', 'F4.0'], ['score', 'F8.2'], ['ok', 'F1.0'], ['day', 'DATE11'], ['at', 'DATETIME27.6'], ['clock', 'TIME15.6'],
      ['city', 'A7'], ['note', 'A260'],
    ]);
  });
});
