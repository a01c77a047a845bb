// Writes the benchmark table as an Arrow IPC stream file, batch by batch (memory O(batch)).
// Usage: node bench/make-ipc.mjs <rows> <out.arrows>
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { RecordBatchStreamWriter } from 'apache-arrow';
import { benchBatches } from './table.mjs';

export async function writeBenchIPC(rows, out) {
  const writer = new RecordBatchStreamWriter();
  const file = createWriteStream(out);
  const done = pipeline(writer.toNodeStream(), file);
  for (const batch of benchBatches(rows)) {
    writer.write(batch);
    // Generation is slower than the disk; yield so the bytes of this batch flow out first.
    await new Promise((resolve) => setImmediate(resolve));
    if (file.writableNeedDrain) await new Promise((resolve) => file.once('drain', resolve));
  }
  writer.finish();
  await done;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [rowsText, out] = process.argv.slice(2);
  if (!rowsText || !out) { console.error('usage: node bench/make-ipc.mjs <rows> <out.arrows>'); process.exit(2); }
  await writeBenchIPC(Number(rowsText), out);
}
