// An API process of the distributed mode for the crash test: the built library's
// DistributedExporter creates one export, prints its id, then polls it until killed.
// Usage: node api-process.mjs <redis url> <table location> <format> <out>
import { DistributedExporter } from '../../dist/index.js';

const [redis, table, format, out] = process.argv.slice(2);
const exporter = new DistributedExporter({ redis, shardRows: 100_000 });
const exp = await exporter.create(table, { format, out });
process.stdout.write(`created ${exp.id}\n`);
for (;;) {
  const now = await exporter.get(exp.id);
  process.stdout.write(`${now.status} ${now.percentCompleted}\n`);
  await new Promise((r) => setTimeout(r, 100));
}
