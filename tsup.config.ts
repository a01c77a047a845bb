import { defineConfig } from 'tsup';

export default defineConfig([
  {
    entry: { index: 'src/index.ts' },
    format: ['esm', 'cjs'],
    // One file per build: the formats' dynamic imports are inlined (the packages they need,
    // avsc, fzstd and parquet-wasm, are still loaded only when used).
    splitting: false,
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
  },
  {
    // The worker threads' entry (src/parallel/pool.ts finds it beside the library and the CLI's chunks).
    entry: { 'cli/main': 'src/cli/main.ts', 'encode-worker': 'src/parallel/encode-worker.ts' },
    format: ['esm'],
    // The server's code and each format's encoder go in chunks of their own, loaded when used
    // (issue #12: start-up).
    splitting: true,
    // apache-arrow bundled in: one file to parse instead of its ~200 ES modules to resolve and
    // load (0.05 s instead of 0.10 s here). The library's own builds keep it external, so an
    // embedder's RecordBatches are the same classes as the library's.
    noExternal: ['apache-arrow'],
    sourcemap: true,
    target: 'node20',
    banner: { js: '#!/usr/bin/env node' },
  },
]);
