/**
 * Issue #11, item 1: an export has at most MAX_PARTS (100,000) files. One that would open part
 * 100,001 fails TOO_MANY_PARTS, saying the format, the limit and the count, and what to change;
 * what it wrote is removed.
 */
import type { RecordBatch } from 'apache-arrow';
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Exporter, ExportError, fromBatches } from '../../src/index.js';
import { csvEncoder } from '../../src/formats/csv/index.js';
import { Progress } from '../../src/pipeline/progress.js';
import { runPipeline } from '../../src/pipeline/run.js';
import { DirectoryTarget } from '../../src/sinks/directory.js';
import { MAX_PARTS } from '../../src/sinks/limits.js';
import type { FileTarget } from '../../src/sinks/target.js';
import { idBatch, idBatches, listDir, tempDir } from '../helpers/batches.js';

const openFds = (): number => readdirSync('/proc/self/fd').length;

describe('at most MAX_PARTS files an export (issue #11)', () => {
  it('is 100,000', () => {
    expect(MAX_PARTS).toBe(100_000);
  });

  it('an export whose row count and maxRowsPerFile say 100,001 parts fails before its first byte', async () => {
    const out = await tempDir();
    let pulled = 0;
    const table = { name: 'ids', numRows: 100_001, variables: [{ name: 'id', type: 'integer' as const }, { name: 'label', type: 'string' as const }] };
    async function* source(): AsyncGenerator<RecordBatch> {
      for (let start = 0; start < 100_001; start += 10_000) {
        pulled += 1;
        yield idBatch(start, Math.min(10_000, 100_001 - start));
      }
    }
    const exp = await new Exporter().create(fromBatches(source()), { format: 'csv', out, table, maxRowsPerFile: 1 }).done();
    expect(exp.status).toBe('failed');
    expect(exp.errorCode).toBe('TOO_MANY_PARTS');
    expect(exp.errorMessage).toBe('csv: an export may have at most 100000 files, and this one would have 100001 '
      + '(100001 rows at maxRowsPerFile 1): give a larger maxFileSize or maxRowsPerFile');
    expect(pulled).toBe(0);
    expect(await listDir(out)).toEqual([]);
    // 100,000 parts exactly are allowed: a table declaring one row less passes the check (its
    // source then gives 2 rows, which csv takes as they come).
    const fits = new Exporter().create(fromBatches(idBatches([2])), { format: 'csv', out: await tempDir(), table: { ...table, numRows: 100_000 }, maxRowsPerFile: 1 });
    expect((await fits.done()).status).toBe('completed');
    expect(fits.fileCount).toBe(2);
  });

  it('an export of unknown length fails when it is about to open the part past the cap, and leaves nothing', async () => {
    // The cap lowered to 5, as 100,001 real parts take a quarter of a minute; the same check.
    const out = await tempDir();
    const fds = openFds();
    const opened: number[] = [];
    const target = new DirectoryTarget(out, 'x');
    const watched: FileTarget = {
      openPart: (spec) => { opened.push(spec.index); return target.openPart(spec); },
      commit: (names, base, extension) => target.commit(names, base, extension),
      abort: (err) => target.abort(err),
    };
    async function* unknownLength(): AsyncGenerator<RecordBatch> {
      yield* idBatches([7, 7]);
    }
    const error = await runPipeline({
      source: fromBatches(unknownLength()), tableName: 'ids', encoder: csvEncoder, options: {}, gzip: false,
      target: watched, maxRowsPerFile: 2, maxParts: 5, signal: new AbortController().signal, progress: new Progress(), tempDir: out,
    }).then(() => null, (err: unknown) => err);
    expect(error).toBeInstanceOf(ExportError);
    expect((error as ExportError).code).toBe('TOO_MANY_PARTS');
    expect((error as ExportError).message).toBe('csv: an export may have at most 5 files, and this one needs more: '
      + 'part 6 was about to be opened: give a larger maxFileSize or maxRowsPerFile');
    expect(opened).toEqual([0, 1, 2, 3, 4]);
    expect(await listDir(out)).toEqual([]);
    expect(openFds()).toBe(fds);
  });
});
