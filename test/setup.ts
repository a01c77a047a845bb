import { afterAll } from 'vitest';
import { removeTempDirs } from './helpers/batches.js';

// Every test file's temporary directories (test/helpers/batches.ts tempDir) go when it ends,
// whatever its own clean-up did: a test run leaves nothing in the temp directory.
afterAll(removeTempDirs);
