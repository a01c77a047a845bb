/**
 * dta and sav to a stream target (any Node Writable, e.g. an object-store upload): where nothing
 * in the header waits for the end, the bytes go straight on, without a temporary file; where
 * something does (dta strLs, sav zsav), through one, as before. Either way the bytes are the
 * ones a directory export writes.
 */
import { readFile } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Exporter, exportTable, fromBatches, type ExportRequest } from '../../src/index.js';
import type { Table } from '../../src/table/types.js';
import { batchOf, column, tableOf } from '../helpers/columns.js';
import { idBatches, tempDir } from '../helpers/batches.js';

const FIXED = { dta: { timestamp: new Date('2024-01-02T03:04:00Z') }, sav: { now: new Date('2024-01-02T03:04:05Z') } };

/** A Writable per part that keeps what it is given, and whether it got bytes before the export ended. */
function collectingTarget() {
  const parts: Buffer[][] = [];
  return {
    parts,
    open: (): Writable => {
      const chunks: Buffer[] = [];
      parts.push(chunks);
      return new Writable({ write(chunk: Buffer, _e, cb) { chunks.push(chunk); cb(); } });
    },
  };
}

/** Runs the export once to a directory and once to a stream target through `exporter`. */
async function bothWays(exporter: Exporter, batches: () => ReturnType<typeof idBatches>, request: Omit<ExportRequest, 'out' | 'target'>) {
  const onDisk = await exportTable(fromBatches(batches()), { ...request, out: await tempDir() });
  expect(onDisk.status, onDisk.errorMessage ?? '').toBe('completed');
  const target = collectingTarget();
  const streamed = await exporter.create(fromBatches(batches()), { ...request, target: target.open }).done();
  return { onDisk, streamed, bytes: target.parts.map((p) => Buffer.concat(p)) };
}

describe('dta and sav to a stream target', () => {
  // A tempDir that cannot be made: an export that needs a temporary file fails, one that does not, completes.
  const noTemp = (): Exporter => new Exporter({ tempDir: '/nonexistent/tabular-export-no-temp' });

  it.each([
    ['dta', {}],
    ['sav', {}],
    ['sav', { sav: { compression: 'none' as const } }],
  ])('%s %j: straight to the Writable, no temporary file, the same bytes as on disk', async (format, options) => {
    const fixed = format === 'dta' ? { dta: FIXED.dta } : { sav: { ...FIXED.sav, ...(options as { sav?: object }).sav } };
    const { onDisk, streamed, bytes } = await bothWays(noTemp(), () => idBatches([3, 4]), { format, name: 'ids', ...fixed });
    expect(onDisk.files[0].name).toBe(`ids.${format}`);
    expect(streamed.status, streamed.errorMessage ?? '').toBe('completed');
    expect(bytes).toHaveLength(1);
    expect(bytes[0].equals(await readFile(onDisk.files[0].path as string))).toBe(true);
    expect(streamed.files[0].md5).toBe(onDisk.files[0].md5);
  });

  it('dta with strL and zsav still go through a temporary file, with the same bytes as on disk', async () => {
    const table: Table = { ...tableOf({ note: 'string' }), name: 'notes' };
    const notes = () => [batchOf(table, [column('string', ['x'.repeat(3000), 'short', null])])];
    const exporter = new Exporter({ tempDir: await tempDir('te-stream-temp-') });
    for (const request of [{ format: 'dta', table, dta: FIXED.dta }, { format: 'sav', table, sav: { ...FIXED.sav, compression: 'zsav' as const } }]) {
      const { onDisk, streamed, bytes } = await bothWays(exporter, notes, request);
      expect(onDisk.files[0].name).toBe(request.format === 'dta' ? 'notes.dta' : 'notes.zsav');
      expect(streamed.status, streamed.errorMessage ?? '').toBe('completed');
      expect(bytes[0].equals(await readFile(onDisk.files[0].path as string))).toBe(true);
      // And they need that file: without a usable tempDir they fail, clearly.
      const failed = await noTemp().create(fromBatches(notes()), { ...request, target: collectingTarget().open }).done();
      expect(failed.status).toBe('failed');
      expect(failed.errorCode).toBe('TARGET_FAILED');
      // It names the file and the cause, but not the server's temporary directory (issue #10: no paths in messages).
      expect(failed.errorMessage).toBe(`${request.format}: cannot make a temporary file for ${request.format === 'dta' ? 'notes.dta' : 'notes.zsav'}, a part whose header is rewritten at the end, in the temporary directory (tempDir): ENOENT: no such file or directory, mkdir`);
    }
  });

  it('sav whose source gives other rows than the table declares fails clearly on a stream target', async () => {
    const table: Table = { ...tableOf({ id: 'integer', label: 'string' }), name: 'ids', numRows: 10, statistics: { id: { nullCount: 0, min: 0n, max: 6n }, label: { nullCount: 0, maxByteLength: 5 } } };
    const exp = await noTemp().create(fromBatches(idBatches([3, 4])), { format: 'sav', table, ...FIXED, target: collectingTarget().open }).done();
    expect(exp.status).toBe('failed');
    expect(exp.errorCode).toBe('SCHEMA_MISMATCH');
    expect(exp.errorMessage).toMatch(/^sav: the header, written first, turned out wrong at the end/);
  });
});
