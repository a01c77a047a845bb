import type { RecordBatch, Schema } from 'apache-arrow';
import { ExportError } from '../../errors.js';
import type { Table } from '../../table/types.js';
import type { ByteSink, FileEncoder, Patch } from '../protocol.js';
import { chooseDictionaryColumns, type EncodingChoice } from './dictionary-choice.js';
import { encodeBatchIPC } from './ipc-batches.js';
import type { FromWorker } from './messages.js';
import type { ResolvedParquetOptions } from './options.js';
import { explainBatchFailure } from './validate-batch.js';
import { parquetWorkers, type WorkerFile, type WorkerFileEvents } from './worker-client.js';
import { planWriterConfig } from './writer-config.js';

/** What every file of one export shares, fixed by prepare() and the first batch. */
export interface ParquetPlan {
  table: Table;
  options: ResolvedParquetOptions;
  /** The canonical Arrow schema, variable metadata in field metadata (schemaOfTable). */
  schema: Schema;
  /** IPC stream of an empty batch of the schema: fixes each file's schema in the writer. */
  schemaIPC: Uint8Array;
  /** Chosen from the export's first batch, then the same for every part; null until then. */
  dictionaryColumns: string[] | null;
  /** The parallel path's encodings (ParallelParquetFileEncoder), chosen like dictionaryColumns. */
  encodingChoice: EncodingChoice | null;
  /** The parallel path: the schema message of schemaIPC, and shared IPC buffers free for reuse. */
  schemaMessage: Uint8Array | null;
  spareIPCBuffers: SharedArrayBuffer[];
}

/**
 * One Parquet file, encoded by the Parquet worker (parquet-wasm's streaming writer, arrow-rs
 * AsyncArrowWriter) while this thread goes on. Batches are sent as Arrow IPC; the worker keeps
 * the open row group, encoded, and sends its bytes once it holds rowGroupSize rows; endFile()
 * gets the last group and the footer. The bytes go to the sink in order, each write awaited.
 *
 * One batch is in flight: writeBatch(n) sends batch n, then writes out what the worker sent
 * for batch n-1 and returns. The main thread thus prepares batch n+1 while the worker encodes
 * batch n, and when writeBatch(n) returns the sink holds exactly the bytes of batches 1..n-1,
 * whatever the timing: the splitting sink's split points are deterministic. Bytes the worker
 * sends early wait in the inbox until then. Memory: two batches and their encoded row groups,
 * never the table.
 */
export class ParquetFileEncoder implements FileEncoder, WorkerFileEvents {
  /** The file's line to its worker; null until the first batch (or the end) opens it. */
  private worker: WorkerFile | null = null;
  /** What the worker sent (chunks, taken, closed), in order, not yet handled. */
  private readonly inbox: FromWorker[] = [];
  private arrival: (() => void) | null = null;
  private sent = 0;
  /** Rows of the batches sent, and of those the worker has taken (their row groups' bytes are out). */
  private rowsSent = 0;
  private rowsTaken = 0;
  private ended = false;
  private failure: ExportError | null = null;
  /** Batches the worker has not taken yet, to name column and row if it refuses one. */
  private readonly inFlight = new Map<number, { batch: RecordBatch; firstRow: number }>();

  constructor(private readonly plan: ParquetPlan, private readonly sink: ByteSink) {}

  async writeBatch(batch: RecordBatch, firstRow: number): Promise<void> {
    this.checkUsable();
    if (batch.numRows === 0) return;
    const worker = this.openOnce(batch);
    const ipc = encodeBatchIPC(batch, this.plan.schema);
    const seq = ++this.sent;
    this.rowsSent += batch.numRows;
    this.inFlight.set(seq, { batch, firstRow });
    worker.send({ kind: 'batch', file: worker.id, seq, ipc }, [ipc.buffer as ArrayBuffer]);
    if (seq > 1) await this.drainThrough((m) => m.kind === 'taken' && m.seq === seq - 1);
  }

  /**
   * Rows whose bytes are still in the worker: the batch in flight and the open row group. The
   * writer ends a group at exactly rowGroupSize rows, so the groups out hold a multiple of it;
   * a group the 64 MiB byte limit ended early makes this too high, which only splits early.
   */
  bufferedRows(): number {
    const groupRows = this.plan.options.rowGroupSize;
    return this.rowsSent - Math.floor(this.rowsTaken / groupRows) * groupRows;
  }

  async endFile(): Promise<Patch[]> {
    this.checkUsable();
    this.ended = true;
    const worker = this.openOnce(null);
    worker.send({ kind: 'end', file: worker.id });
    await this.drainThrough((m) => m.kind === 'closed');
    worker.release();
    return [];
  }

  /**
   * Starts the file in the worker, with writer settings that need a batch to choose: which
   * columns get a dictionary is judged from the export's first batch (an empty file needs none).
   */
  private openOnce(first: RecordBatch | null): WorkerFile {
    if (this.worker) return this.worker;
    const plan = this.plan;
    if (plan.dictionaryColumns === null && first) plan.dictionaryColumns = chooseDictionaryColumns(plan.table, first);
    const config = planWriterConfig(plan.table, plan.options, plan.dictionaryColumns ?? []);
    const worker = parquetWorkers().open(this);
    this.worker = worker;
    worker.send({ kind: 'open', file: worker.id, schema: plan.schemaIPC, config });
    return worker;
  }

  /** The export failed or was cancelled elsewhere (FileEncoder protocol): give the file up. */
  abort(reason: Error): void {
    this.fail(reason);
  }

  /** Gives the file up after a failure: the worker drops its writer. Returns the error. */
  private fail(reason: unknown): ExportError {
    if (!this.failure) {
      this.failure = reason instanceof ExportError ? reason : toInternalError(reason);
      const worker = this.worker;
      if (worker) {
        worker.release();
        try {
          worker.send({ kind: 'abort', file: worker.id });
        } catch {
          // The worker is gone already, and the file with it.
        }
      }
      this.notify();
    }
    return this.failure;
  }

  onMessage(message: FromWorker): void {
    if (message.kind === 'failed') {
      const culprit = message.seq === null ? undefined : this.inFlight.get(message.seq);
      const cause = new Error(message.message);
      this.fail((culprit && explainBatchFailure(culprit.batch, culprit.firstRow, cause))
        ?? toInternalError(cause, culprit?.firstRow));
      return;
    }
    this.inbox.push(message);
    this.notify();
  }

  onWorkerFailed(error: Error): void {
    this.fail(toInternalError(error));
  }

  /** Handles the inbox in order (writing chunks to the sink) up to the message `last` matches. */
  private async drainThrough(last: (message: FromWorker) => boolean): Promise<void> {
    for (;;) {
      if (this.failure) throw this.failure;
      const message = this.inbox.shift();
      if (!message) {
        await this.nextArrival();
        continue;
      }
      if (message.kind === 'chunk') {
        try {
          await this.sink.write(message.bytes);
        } catch (err) {
          throw this.fail(err);
        }
      } else if (message.kind === 'taken') {
        this.rowsTaken += this.inFlight.get(message.seq)?.batch.numRows ?? 0;
        this.inFlight.delete(message.seq);
      }
      if (last(message)) return;
    }
  }

  /** Resolves when the worker sends something or the file fails; keeps the process alive meanwhile. */
  private nextArrival(): Promise<void> {
    const worker = this.worker;
    worker?.beginWait();
    return new Promise<void>((resolve) => {
      this.arrival = resolve;
    }).finally(() => worker?.endWait());
  }

  private notify(): void {
    const arrival = this.arrival;
    this.arrival = null;
    arrival?.();
  }

  private checkUsable(): void {
    if (this.failure) throw this.failure;
    if (this.ended) throw new Error('internal: the Parquet file was ended already');
  }
}

/** A failure of the writer itself; `firstRow` is the first row of the batch it failed on, if one. */
function toInternalError(err: unknown, firstRow?: number): ExportError {
  if (err instanceof ExportError) return err;
  const text = err instanceof Error ? err.message : String(err);
  const where = firstRow === undefined ? '' : ' on the batch that starts here';
  return new ExportError('INTERNAL', `the Parquet writer failed${where}: ${text}`, { format: 'parquet', row: firstRow }, { cause: err });
}
