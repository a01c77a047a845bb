/**
 * The command's entry (dist/cli/main.js): runs the command, dist/cli/bundle.js, through V8's
 * code cache, kept beside it in bundle.js.cache. Compiling the 1 MB bundle took ~17 ms of a
 * 1,000-row export's ~100 ms above Node's own start, and the functions a run compiles later
 * more; with the cache a run's CPU time was ~30 ms less (issue #12: start-up). Node 20 has
 * no compile cache of its own (module.enableCompileCache came in Node 22).
 *
 * V8 checks the cache against the source and its own version and flags and rejects one that
 * does not fit (then the bundle compiles as usual and a new cache is written). The cache is
 * written only beside the bundle, with the bundle's own trust: never in a shared directory,
 * where another user could plant one. Where the folder is read-only, there is simply no cache.
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import Module from 'node:module';
import { join } from 'node:path';
import { Script } from 'node:vm';

const file = join(__dirname, 'bundle.js');
const cacheFile = `${file}.cache`;
let source = readFileSync(file, 'utf8');
if (source.startsWith('#!')) source = `//${source.slice(2)}`;
let cachedData: Buffer | undefined;
try {
  cachedData = readFileSync(cacheFile);
} catch {
  cachedData = undefined;
}
const script = new Script(Module.wrap(source), { filename: file, cachedData });
if (cachedData === undefined || script.cachedDataRejected === true) {
  // Written when the process ends, so the cache holds every function this run compiled.
  process.once('exit', () => {
    const temporary = `${cacheFile}.${process.pid}.tmp`;
    try {
      writeFileSync(temporary, script.createCachedData());
      renameSync(temporary, cacheFile);
    } catch {
      rmSync(temporary, { force: true });
    }
  });
}
const bundle = new Module(file, module);
bundle.filename = file;
(bundle as unknown as { paths: string[] }).paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(__dirname);
const run = script.runInThisContext() as (exports: unknown, require: NodeJS.Require, module: Module, filename: string, dirname: string) => void;
run.call(bundle.exports, bundle.exports, Module.createRequire(file), bundle, file, __dirname);
