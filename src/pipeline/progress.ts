import { EventEmitter } from 'node:events';

export interface ProgressSnapshot {
  rows: number;
  /** Bytes written to finished and open files. */
  bytes: number;
  /** Files finished so far. */
  files: number;
  percentCompleted: number;
}

/**
 * Counts rows, bytes and files, and turns them into percentCompleted: 0..100, never
 * decreasing, 100 only once the export completes. It uses the row count when known (the
 * table's numRows or a first pass) and the input bytes read otherwise. 'progress' events are
 * throttled; listening never changes what is written.
 */
export class Progress extends EventEmitter {
  rows = 0;
  files = 0;
  private closedBytes = 0;
  private openBytes: () => number = () => 0;
  private percent = 0;
  private totalRows: number | null = null;
  private input: { read: () => number; total: number } | null = null;
  private lastEmit = 0;

  constructor(private readonly intervalMs = 100) {
    super();
  }

  setTotalRows(n: number | null | undefined): void {
    this.totalRows = n ?? null;
  }

  setInput(read: () => number, total: number | null): void {
    this.input = total && total > 0 ? { read, total } : null;
  }

  /** The open file's byte counter, read on demand. */
  trackOpenFile(bytes: () => number): void {
    this.openBytes = bytes;
  }

  fileFinished(size: number): void {
    this.files += 1;
    this.closedBytes += size;
    this.openBytes = () => 0;
    this.update();
  }

  addRows(n: number): void {
    this.rows += n;
    this.update();
  }

  get bytes(): number {
    return this.closedBytes + this.openBytes();
  }

  get percentCompleted(): number {
    return this.percent;
  }

  complete(): void {
    this.percent = 100;
    this.emit('progress', this.snapshot());
  }

  snapshot(): ProgressSnapshot {
    return { rows: this.rows, bytes: this.bytes, files: this.files, percentCompleted: this.percent };
  }

  private update(): void {
    let estimate = 0;
    if (this.totalRows !== null) estimate = this.totalRows === 0 ? 0 : this.rows / this.totalRows;
    else if (this.input) estimate = this.input.read() / this.input.total;
    // Capped below 100: only complete() may report 100.
    const next = Math.min(99.9, Math.round(estimate * 1000) / 10);
    if (next > this.percent) this.percent = next;
    const now = Date.now();
    if (now - this.lastEmit >= this.intervalMs) {
      this.lastEmit = now;
      this.emit('progress', this.snapshot());
    }
  }
}
