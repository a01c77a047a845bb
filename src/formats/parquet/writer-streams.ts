import type { RecordBatch as WasmRecordBatch } from 'parquet-wasm/node';

// The two ends of parquet-wasm's streaming writer (transformParquetStream), as the worker
// drives it: batches in through a pull-only stream, file bytes out of another.

/**
 * The input side of parquet-wasm's streaming writer: a pull-only ReadableStream of wasm
 * RecordBatches. The writer asks for one batch at a time (a read, so a pull here, since the
 * high-water mark is 0 nothing is read ahead) and asks again only once it has written the
 * previous one — including flushing a finished row group to its output. So "the writer asks
 * again" is the moment a batch is fully consumed, which the worker waits for before it tells
 * the main thread a batch is done.
 *
 * Runs in the worker from its source text: it must refer to nothing outside itself but
 * globals (ReadableStream).
 */
export class BatchFeed {
  readonly stream: ReadableStream<WasmRecordBatch>;
  private controller: ReadableStreamDefaultController<WasmRecordBatch> | null = null;
  /** The writer is waiting for a batch. */
  private asked = false;
  private wake: (() => void) | null = null;
  private ended = false;

  constructor() {
    this.stream = new ReadableStream<WasmRecordBatch>({
      start: (controller) => {
        this.controller = controller;
      },
      pull: () => {
        this.asked = true;
        const wake = this.wake;
        this.wake = null;
        wake?.();
      },
      cancel: () => {
        this.ended = true;
      },
    }, { highWaterMark: 0 });
  }

  /** Resolves when the writer asks for the next batch (at once if it is waiting already). */
  whenAsked(): Promise<void> {
    if (this.asked) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.wake = resolve;
    });
  }

  /** Hands the writer one batch; it then belongs to the writer (wasm frees it). */
  push(batch: WasmRecordBatch): void {
    if (this.ended || !this.controller) {
      batch.free();
      throw new Error('internal: the parquet writer no longer takes batches');
    }
    if (!this.asked) throw new Error('internal: a batch was pushed before the parquet writer asked for one');
    this.asked = false;
    this.controller.enqueue(batch);
  }

  /** No more batches: the writer then closes the file (last row group and footer). */
  close(): void {
    if (this.ended) return;
    this.ended = true;
    this.controller?.close();
  }

  /** Stops the writer without a footer (after a failure), so its wasm memory is released. */
  fail(reason: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.controller?.error(reason);
  }
}

/**
 * The output side of parquet-wasm's streaming writer, in the worker: passes each chunk of its
 * byte stream to `send` as it comes. The chunks are fresh copies out of wasm memory, so they
 * can be transferred to the main thread as they are.
 *
 * Runs in the worker from its source text: it must refer to nothing outside itself but
 * globals (ReadableStream, setImmediate).
 */
export class OutputPump {
  /** Resolves when the writer's stream has ended and every chunk was sent. */
  readonly done: Promise<void>;
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private sent = 0;

  constructor(stream: ReadableStream<Uint8Array>, private readonly send: (bytes: Uint8Array) => void) {
    this.reader = stream.getReader();
    this.done = this.copy();
    this.done.catch(() => undefined); // observed by whoever awaits done
  }

  /**
   * Waits until every chunk the writer has produced so far was sent. Called when the writer is
   * idle (waiting for its next batch): its last chunk was then handed to a read of ours, whose
   * continuation may still be queued as a microtask; a macrotask turn runs them all. Repeats
   * until a turn sends nothing, in case a chunk's delivery took more than one turn.
   */
  async settle(): Promise<void> {
    for (;;) {
      const before = this.sent;
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (this.sent === before) return;
    }
  }

  /** Stops reading after a failure elsewhere; the writer's further writes then fail. */
  cancel(reason: Error): void {
    this.reader.cancel(reason).catch(() => undefined);
  }

  private async copy(): Promise<void> {
    for (;;) {
      const { done, value } = await this.reader.read();
      if (done) return;
      this.sent += 1;
      this.send(value);
    }
  }
}
