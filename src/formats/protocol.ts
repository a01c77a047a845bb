import type { RecordBatch } from 'apache-arrow';
import type { RangeItem } from '../parallel/ranges.js';
import type { Table } from '../table/types.js';

export const FORMATS = ['csv', 'jsonl', 'parquet', 'avro', 'dta', 'sav'] as const;
export type ExportFormat = (typeof FORMATS)[number];

/** Where an encoder's bytes go. `write` resolves once the bytes are accepted (backpressure). */
export interface ByteSink {
  write(bytes: Uint8Array): Promise<void>;
  /** Bytes accepted so far in this file. */
  readonly bytesWritten: number;
}

/** A rewrite of bytes already written, applied after the file ends (dta map and N, sav ncases). */
export interface Patch {
  position: number;
  bytes: Uint8Array;
}

export interface EncoderCapabilities {
  /** The splitting sink may end the file at a batch boundary and begin another. */
  splittable: boolean;
  /** Split threshold used when the caller gives none (parquet, avro: 1 GiB); undefined = one file. */
  defaultMaxFileSize?: number;
  /** Needs table.numRows before the first byte (else the pipeline runs a first pass). */
  needsRowCount: boolean;
  /** Needs per-column statistics (string byte widths, integer ranges) before the first byte. */
  needsStatistics: boolean;
  /** Returns patches from endFile; the target must seek, or a temp file is used. */
  patchesHeader: boolean;
}

/** A name a format forbids, and what it was renamed to in the file. */
export interface Rename {
  from: string;
  to: string;
  reason: string;
}

/** What validation found: the per-file encoder factory plus what the export reports. */
export interface PreparedEncoder {
  /** Called once per file (part). Writes the file's leading bytes to `sink`. */
  beginFile(sink: ByteSink): Promise<FileEncoder>;
  readonly renames: readonly Rename[];
  readonly warnings: readonly string[];
  /**
   * Whether this export's files can need patches, known once prepared; overrides
   * capabilities.patchesHeader. false (dta without strL, sav with the row count known) lets a
   * stream target send the bytes straight on instead of through a temporary file. Patches can
   * then still come only if the source gives other rows than the table declares.
   */
  readonly patchesHeader?: boolean;
  /**
   * True when this export's files take ranges of the source's batches that worker threads read
   * themselves (FileEncoder.writeRange; issue #12): csv, jsonl, dta and sav with workers > 1.
   */
  readonly readsRanges?: boolean;
  /** Rows per range when the format fixes them (a parquet row group): ranges then cut inside batches. */
  readonly rangeRows?: number;
  /** With rangeRows: a range also ends at about this many bytes of the source's batches (a row group's 64 MiB). */
  readonly rangeBytes?: number;
}

export interface FileEncoder {
  /** Encodes one canonical batch. `firstRow` is the batch's first row in the whole table (for errors). */
  writeBatch(batch: RecordBatch, firstRow: number): Promise<void>;
  /** Encodes a range of the source's batches, read by a worker thread (when PreparedEncoder.readsRanges). */
  writeRange?(item: RangeItem): Promise<void>;
  /** Writes the trailing bytes; returns rewrites of earlier bytes, if the format patches its header. */
  endFile(): Promise<Patch[]>;
  /** Warnings found while encoding (values a format could not hold exactly), reported on the export. */
  readonly warnings?: readonly string[];
  /**
   * Rows accepted by writeBatch whose bytes have not reached the sink yet (a parquet row group
   * being built, avro blocks being filled or compressed); absent or 0 when every batch's bytes
   * are written before writeBatch returns. The splitting sink counts them towards the file's
   * size, at the bytes per row seen so far. An estimate is fine; too high only splits early.
   */
  bufferedRows?(): number;
  /**
   * Writes out every row writeBatch accepted whose bytes are still being encoded elsewhere (on
   * worker threads), so the file's size is exact; the splitting sink calls it where it measures
   * a part (its first slice, near the limit). Encoders that hold rows by design (a parquet row
   * group, an avro block) do not have it.
   */
  drain?(): Promise<void>;
  /**
   * Gives the file up after a failure or cancel, instead of endFile: frees at once what the
   * encoder holds outside plain memory (the parquet worker's writer, the dta strL spool file).
   * May come while a writeBatch is still pending, which then rejects or is ignored; safe to
   * call more than once; never rejects. The sink discards the file's bytes itself.
   */
  abort?(reason: Error): void | Promise<void>;
}

/** What the running export tells an encoder about its surroundings. */
export interface EncoderContext {
  /** Where the encoder may put temporary files (the Exporter's tempDir). Default: os.tmpdir(). */
  tempDir?: string;
  /**
   * Threads the export may encode with (ExportRequest.workers). 1 or absent: encode on the
   * calling thread. The bytes must not depend on it (issue #12), except parquet's, whose
   * parallel path writes other row groups and encodings and no page index (same values).
   */
  workers?: number;
  /** The export's signal: work handed to other threads is dropped when it aborts. */
  signal?: AbortSignal;
}

/** The small table of functions each format provides (one folder per format under src/formats/). */
export interface FormatEncoder<Options = unknown> {
  readonly format: ExportFormat;
  /** File name extension without the dot, given the options (e.g. `csv.gz`). */
  extension(options: Options): string;
  readonly capabilities: EncoderCapabilities;
  /** Compression the sink applies around the encoder's bytes (csv.gz, jsonl.gz); none when absent. */
  compression?(options: Options): 'gzip' | null;
  /**
   * Checks the format's options on their own (no table needed) and throws an ExportError
   * INVALID_OPTION naming the bad one. Exporter.create calls it, so a bad option throws at
   * once instead of failing the export later; prepare checks them again.
   */
  checkOptions(options: Options | undefined): void;
  /**
   * Validates the table against the format's limits before any byte is written; throws an
   * ExportError naming the column. The table has numRows/statistics filled in when the
   * capabilities asked for them.
   */
  prepare(table: Table, options: Options, context?: EncoderContext): PreparedEncoder;
}

/**
 * A format as the registry knows it before its encoder is loaded: enough to check a request
 * (options, extension, capabilities) at Exporter.create. The encoder itself (prepare and all
 * it needs) is loaded when an export of the format runs (registry.loadEncoder), so a process
 * pays only for the formats it writes (issue #12: start-up).
 */
export type FormatInfo<Options = unknown> = Omit<FormatEncoder<Options>, 'prepare'>;
