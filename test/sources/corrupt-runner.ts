/**
 * The fuzz test's child process (corrupt-fuzz.test.ts): runs one damaged file at a time through
 * every way the library and the server read it, and answers what each did. It runs apart from
 * the test so that a hang can be ended by killing it and a crash shows as its exit, instead of
 * taking the test worker down with it.
 */
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resourceUsage } from 'node:process';
import { ExportError, exportTable, fromIPC, fromParquet } from '../../src/index.js';
import { countIPCRows } from '../../src/server/ipc-rows.js';
import type { BatchSource } from '../../src/sources/types.js';

export interface FuzzCase {
  readonly id: number;
  readonly kind: 'ipc' | 'parquet';
  readonly path: string;
  /** A directory for the export's files and the stream step's temporary copy. */
  readonly out: string;
}

export interface StepResult {
  readonly step: string;
  readonly ms: number;
  /** Rows read (or counted), when the step succeeded. */
  readonly rows?: number;
  /** How it failed: an ExportError's code, else the error's name. */
  readonly failure?: { code: string; message: string };
}

export interface FuzzReply {
  readonly id: number;
  readonly steps: StepResult[];
  /** Peak resident memory of this process so far, in bytes. */
  readonly maxRss: number;
  /** Memory held by ArrayBuffers after the case. */
  readonly arrayBuffers: number;
}

/** Reads every batch of the source; its row count. */
export async function drain(source: BatchSource): Promise<number> {
  const opened = await source.open();
  let rows = 0;
  try {
    for await (const batch of opened.batches) rows += batch.numRows;
  } finally {
    await opened.close();
  }
  return rows;
}

async function step(name: string, run: () => Promise<number>): Promise<StepResult> {
  const start = performance.now();
  try {
    const rows = await run();
    return { step: name, ms: performance.now() - start, rows };
  } catch (err) {
    const failure = err instanceof ExportError || err instanceof ExportFailed ? { code: err.code, message: err.message }
      : { code: err instanceof Error ? err.name : typeof err, message: err instanceof Error ? err.message : String(err) };
    return { step: name, ms: performance.now() - start, failure };
  }
}

/** An export that ended failed (an export fails as an Export, not by throwing). */
class ExportFailed extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

async function exportCsv(source: BatchSource, out: string): Promise<number> {
  const exp = await exportTable(source, { format: 'csv', out, name: 'fuzz' });
  if (exp.status !== 'completed') throw new ExportFailed(exp.errorCode ?? 'none', exp.errorMessage ?? '');
  return exp.rows;
}

async function runCase(c: FuzzCase): Promise<FuzzReply> {
  const steps: StepResult[] = [];
  if (c.kind === 'ipc') {
    const bytes = new Uint8Array(await readFile(c.path));
    steps.push(await step('path', () => drain(fromIPC(c.path))));
    steps.push(await step('buffer', () => drain(fromIPC(bytes))));
    steps.push(await step('stream', () => drain(fromIPC(createReadStream(c.path), { tempDir: c.out }))));
    steps.push(await step('count', () => countIPCRows(c.path)));
    if (steps[0].failure === undefined) steps.push(await step('export', () => exportCsv(fromIPC(c.path), c.out)));
  } else {
    steps.push(await step('path', () => drain(fromParquet(c.path))));
    if (steps[0].failure === undefined) steps.push(await step('export', () => exportCsv(fromParquet(c.path), c.out)));
  }
  return { id: c.id, steps, maxRss: resourceUsage().maxRSS * 1024, arrayBuffers: process.memoryUsage().arrayBuffers };
}

process.on('message', (c: FuzzCase) => {
  void runCase(c).then((reply) => process.send?.(reply));
});
process.send?.({ ready: true });
