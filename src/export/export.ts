import { EventEmitter } from 'node:events';
import type { ExportFormat, Rename } from '../formats/protocol.js';
import type { ProgressSnapshot } from '../pipeline/progress.js';
import type { ExportedFile } from '../pipeline/run.js';
import type { TableBase } from '../table/types.js';

export type ExportStatus = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';

/** Exactly the Export resource of spec/export-resource.md. */
export interface ExportJSON {
  kind: 'export';
  uri: string;
  id: string;
  createdAt: number;
  status: ExportStatus;
  errorMessage: string | null;
  percentCompleted: number;
  format: ExportFormat;
  size: number | null;
  fileCount: number | null;
  table: TableBase | null;
}

const FINAL: ReadonlySet<ExportStatus> = new Set(['completed', 'failed', 'cancelled']);

/**
 * One export's state. Created `queued`; `running` while its pipeline runs; then exactly one
 * of `completed`, `failed` or `cancelled`, after which nothing changes. Emits 'status' on
 * every transition and 'progress' (throttled) while running.
 */
export class Export extends EventEmitter {
  readonly kind = 'export' as const;
  readonly createdAt: number;
  status: ExportStatus = 'queued';
  errorMessage: string | null = null;
  /** Stable code of the error that failed the export (ExportError.code), else null. */
  errorCode: string | null = null;
  size: number | null = null;
  fileCount: number | null = null;
  table: TableBase | null;
  files: ExportedFile[] = [];
  renames: readonly Rename[] = [];
  warnings: string[] = [];
  rows = 0;
  private percent = 0;
  private readonly settled: Promise<this>;
  private settle!: (value: this) => void;

  constructor(readonly id: string, readonly format: ExportFormat, table: TableBase | null, createdAt = Date.now()) {
    super();
    this.createdAt = createdAt;
    this.table = table;
    this.settled = new Promise((resolve) => { this.settle = resolve; });
  }

  get uri(): string {
    return `/exports/${this.id}`;
  }

  get percentCompleted(): number {
    return this.percent;
  }

  get finished(): boolean {
    return FINAL.has(this.status);
  }

  /** Resolves (never rejects) once the export has ended, whatever the outcome. */
  done(): Promise<this> {
    return this.settled;
  }

  toJSON(): ExportJSON {
    return {
      kind: this.kind,
      uri: this.uri,
      id: this.id,
      createdAt: this.createdAt,
      status: this.status,
      errorMessage: this.errorMessage,
      percentCompleted: this.percent,
      format: this.format,
      size: this.size,
      fileCount: this.fileCount,
      table: this.table,
    };
  }

  /** @internal Shows at least `percent` from now on (below 100: only completion reaches 100). */
  resumeFrom(percent: number): void {
    if (!this.finished) this.percent = Math.max(this.percent, Math.min(99.9, percent));
  }

  /** @internal */ markRunning(): void {
    this.transition('running');
  }

  /** @internal */ reportProgress(snapshot: ProgressSnapshot): void {
    if (this.finished) return;
    if (snapshot.percentCompleted > this.percent) this.percent = Math.min(99.9, snapshot.percentCompleted);
    this.rows = snapshot.rows;
    this.emit('progress', snapshot);
  }

  /** @internal */ markCompleted(files: ExportedFile[], rows: number): void {
    if (this.finished) return;
    this.files = files;
    this.rows = rows;
    this.size = files.reduce((n, f) => n + f.size, 0);
    this.fileCount = files.length;
    this.percent = 100;
    this.transition('completed');
  }

  /** @internal */ markFailed(message: string, code: string): void {
    if (this.finished) return;
    this.errorMessage = message;
    this.errorCode = code;
    this.transition('failed');
  }

  /** @internal */ markCancelled(message: string): void {
    if (this.finished) return;
    this.errorMessage = message;
    this.errorCode = 'CANCELLED';
    this.transition('cancelled');
  }

  private transition(status: ExportStatus): void {
    this.status = status;
    this.emit('status', status, this);
    if (this.finished) this.settle(this);
  }
}
