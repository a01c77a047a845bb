// Writes the benchmark table as an Arrow IPC stream, or with `file: true` (--file) an Arrow IPC
// file (footer, random access), batch by batch (memory O(batch)).
// Usage: node bench/make-ipc.mjs <rows> <out.arrows> [--file]
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { RecordBatchFileWriter, RecordBatchStreamWriter } from 'apache-arrow';
import { benchBatches } from './table.mjs';

export async function writeBenchIPC(rows, out, { file: asFile = false } = {}) {
  const writer = asFile ? new RecordBatchFileWriter() : new RecordBatchStreamWriter();
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
  const [rowsText, out, flag] = process.argv.slice(2);
  if (!rowsText || !out || (flag && flag !== '--file')) { console.error('usage: node bench/make-ipc.mjs <rows> <out.arrows> [--file]'); process.exit(2); }
  await writeBenchIPC(Number(rowsText), out, { file: flag === '--file' });
}
