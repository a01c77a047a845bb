import { mkdir, writeFile } from 'node:fs/promises';
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
    // The command: one CommonJS file (bundle.js) with apache-arrow bundled in. Node loads it
    // without the ES module loader's resolving and linking (a 1,000-row csv export's whole
    // process ~20 % less CPU than the ESM chunks it was before; issue #12: start-up); V8
    // compiles a function only when it first runs, so the formats and the server it does not
    // use cost their parsing alone, and main.js (launcher.ts) runs it through V8's code cache.
    // dist/cli/package.json marks the folder as CommonJS, so the files keep .js names within a
    // "type": "module" package.
    entry: { 'cli/bundle': 'src/cli/main.ts', 'cli/main': 'src/cli/launcher.ts' },
    format: ['cjs'],
    outExtension: () => ({ js: '.js' }),
    splitting: false,
    noExternal: ['apache-arrow'],
    sourcemap: true,
    target: 'node20',
    banner: { js: '#!/usr/bin/env node' },
    onSuccess: async () => {
      await mkdir('dist/cli', { recursive: true });
      await writeFile('dist/cli/package.json', '{ "type": "commonjs" }\n');
    },
  },
  {
    // The worker threads' entry (src/parallel/pool.ts finds it in dist/), its kernels in chunks
    // loaded as a format first needs them.
    entry: { 'encode-worker': 'src/parallel/encode-worker.ts' },
    format: ['esm'],
    splitting: true,
    noExternal: ['apache-arrow'],
    sourcemap: true,
    target: 'node20',
  },
]);
