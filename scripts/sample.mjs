// `npm start`: exports the bundled sample table to every format available into ./exports.
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { dirname, join, relative } from 'node:path';
import { availableFormats, exportTable, fromIPC } from '../dist/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const input = join(root, 'fixtures', 'sample', 'survey.arrow');
const out = join(root, 'exports');
await mkdir(out, { recursive: true });

let failed = 0;
for (const format of availableFormats()) {
  const started = performance.now();
  const exp = await exportTable(fromIPC(input), { format, out, name: 'survey' });
  const ms = (performance.now() - started).toFixed(0);
  if (exp.status !== 'completed') {
    failed += 1;
    console.log(`${format.padEnd(8)} ${exp.status}: ${exp.errorMessage}`);
    continue;
  }
  const files = exp.files.map((f) => relative(process.cwd(), f.path)).join(', ');
  console.log(`${format.padEnd(8)} ${exp.rows} rows  ${exp.size} bytes  ${exp.fileCount} file(s)  ${ms} ms  ${files}`);
  for (const r of exp.renames) console.log(`         renamed ${r.from} -> ${r.to} (${r.reason})`);
}
console.log(`\nSample table ${relative(process.cwd(), input)} exported to ${relative(process.cwd(), out)}/`);
process.exitCode = failed ? 1 : 0;
