import { afterAll } from 'vitest';
import { removeTempDirs } from './helpers/batches.js';

// Every test file's temporary directories (test/helpers/batches.ts tempDir) go when it ends,
// whatever its own clean-up did: a test run leaves nothing in the temp directory.
afterAll(removeTempDirs);

// Exports with workers > 1 encode in the worker pool from their first row, however small the
// table (by default the first 100,000 rows are encoded on the calling thread): every test
// that exports with the default workers exercises the parallel path (issue #12).
process.env.TABULAR_EXPORT_INLINE_ROWS ??= '0';
