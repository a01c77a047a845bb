import type { RecordBatch } from 'apache-arrow';
import { ExportError } from '../../errors.js';
import { viewColumns } from '../../table/columns.js';
import type { VariableType } from '../../table/types.js';
import type { ByteSink, FileEncoder, Patch } from '../protocol.js';
import { bindColumn, CELL_WRITERS, CellError, type BoundColumn, type CellWriter, type RowChunk } from './data.js';
import { DESCRIPTOR_SECTIONS } from './descriptors.js';
import { formatTimestamp, headerPatches, planMap, writeHeader, type HeaderPlaces, type MapPlan } from './header.js';
import { writeValueLabels, type ValueLabelSet } from './labels.js';
import { encodeUtf8, SectionWriter } from './section-writer.js';
import { MAP, type DtaRelease } from './spec.js';
import { StrlSpool } from './strls.js';
import type { ChunkDispatcher } from '../../parallel/chunks.js';
import { ChunkedFileEncoder } from '../../parallel/file-encoder.js';
import type { DtaColumn } from './types.js';

/** Bytes of rows handed to the sink at a time: large enough to amortize, small enough to bound memory. */
const CHUNK_BYTES = 1 << 20;

/** Everything prepare() decided, shared by the file it begins. */
export interface DtaPlan {
  release: DtaRelease;
  columns: readonly DtaColumn[];
  types: readonly VariableType[];
  /** Bytes of one row, and each column's offset in it. */
  rowLength: number;
  columnOffsets: readonly number[];
  /** Indexes of the strL columns, ascending (= ascending v, facts A6). */
  strlColumns: readonly number[];
  /** N as the table declares it (patched if a different number of rows arrives). */
  N: number;
  datasetLabel: Uint8Array;
  timestamp?: Date;
  valueLabels: readonly ValueLabelSet[];
  /** Where strL records are spooled. */
  tempDir: string;
}

/**
 * Writes the header with the map planned for N rows and no strLs, the descriptors and
 * `<data>`; returns the file's encoder.
 */
export async function beginDtaFile(plan: DtaPlan, sink: ByteSink, dispatcher: ChunkDispatcher | null = null): Promise<FileEncoder> {
  const head = new SectionWriter(0);
  const places = writeHeader(head, {
    release: plan.release, K: plan.columns.length, N: plan.N, label: plan.datasetLabel,
    timestamp: formatTimestamp(plan.timestamp ?? new Date()),
  });
  const headBytes = head.finish();
  const labels = new SectionWriter(0);
  writeValueLabels(labels, plan.valueLabels);
  const valueLabels = labels.finish();
  const expected: MapPlan = {
    mapPosition: places.mapPosition, headerLength: headBytes.length, K: plan.columns.length, release: plan.release,
    N: plan.N, rowLength: plan.rowLength, strlBytes: 0, valueLabelsLength: valueLabels.length,
  };
  const map = planMap(expected);
  for (const p of headerPatches(places, plan.N, map)) headBytes.set(p.bytes, p.position);
  await sink.write(headBytes);
  let position = headBytes.length;
  for (const section of DESCRIPTOR_SECTIONS) {
    const w = new SectionWriter(position, 64 + section.bytesPerVariable * plan.columns.length);
    section.write(w, plan.columns, plan.release);
    checkPosition(map[MAP[section.entry]], position);
    await sink.write(w.finish());
    position += w.length;
  }
  checkPosition(map[MAP.data], position);
  await sink.write(encodeUtf8('<data>'));
  const file = new DtaFileEncoder(plan, sink, { places, expected, valueLabels });
  // strL references number the rows and share a spool: those files stay on one thread.
  if (!dispatcher || plan.strlColumns.length > 0) return file;
  // Rows encoded on worker threads (kernel.ts), the same bytes; the file keeps the counts and writes the tail.
  return new ChunkedFileEncoder(dispatcher, sink, {
    consume: (result, _firstRow, rows) => file.takeRows(result.bytes, result.info as number[], rows),
    end: () => file.endFile(),
    abort: () => file.abort(),
    warnings: file.warnings,
  });
}

function checkPosition(planned: number, actual: number): void {
  if (planned !== actual) throw new ExportError('INTERNAL', `the dta map is off: planned ${planned}, at ${actual}`, { format: 'dta' });
}

/**
 * Rows start..end-1 of a batch into `chunk`, column by column; a cell Stata cannot hold
 * becomes an ExportError naming its column and row in the table.
 */
export function fillRows(columns: readonly DtaColumn[], offsets: readonly number[], cols: readonly BoundColumn[],
  writers: readonly CellWriter[], chunk: RowChunk, start: number, end: number, firstRow: number): void {
  let c = 0;
  try {
    for (; c < cols.length; c++) writers[c](cols[c], chunk, offsets[c], start, end);
  } catch (err) {
    if (!(err instanceof CellError)) throw err;
    throw new ExportError(err.code, err.message, { format: 'dta', column: columns[c].source, row: firstRow + err.row }, { cause: err });
  }
}

/** What beginDtaFile fixed for the end of the file. */
interface FileLayout {
  places: HeaderPlaces;
  /** The map as written in the header. */
  expected: MapPlan;
  /** The `<value_labels>` section, written after the strLs. */
  valueLabels: Uint8Array;
}

/** One .dta file: rows as they stream, then strLs, value labels, and the patches of N and the map. */
class DtaFileEncoder implements FileEncoder {
  readonly warnings: string[] = [];
  private readonly writers: CellWriter[];
  private readonly chunkRows: number;
  private readonly strls: StrlSpool;
  private readonly unrepresentable: number[];
  private rows = 0;

  constructor(
    private readonly plan: DtaPlan,
    private readonly sink: ByteSink,
    private readonly layout: FileLayout,
  ) {
    // The per-column writers, chosen once for the file.
    this.writers = plan.columns.map((c) => CELL_WRITERS[c.kind]);
    this.chunkRows = Math.max(1, Math.floor(CHUNK_BYTES / plan.rowLength));
    this.strls = new StrlSpool(plan.tempDir);
    this.unrepresentable = plan.columns.map(() => 0);
  }

  async writeBatch(batch: RecordBatch, firstRow: number): Promise<void> {
    const { plan, writers } = this;
    const views = viewColumns(batch, plan.types);
    const cols = plan.columns.map((c, i) => bindColumn(c, views[i], i + 1));
    const strlCols = plan.strlColumns.map((i) => cols[i]);
    const stride = plan.rowLength;
    const obsBase = this.rows + 1;
    const count = batch.numRows;
    for (let start = 0; start < count; start += this.chunkRows) {
      const end = Math.min(count, start + this.chunkRows);
      // Zero-filled, and a new one each time: the sink owns what it was given.
      const bytes = new Uint8Array((end - start) * stride);
      const chunk: RowChunk = { bytes, view: new DataView(bytes.buffer), stride, obsBase, strlVBytes: plan.release.strlVBytes };
      this.fillChunk(cols, writers, chunk, start, end, firstRow);
      if (strlCols.length > 0) await this.strls.append(strlCols, obsBase, start, end);
      await this.sink.write(bytes);
    }
    this.rows += count;
    cols.forEach((c, i) => { this.unrepresentable[i] += c.unrepresentable; });
  }

  /** Rows encoded elsewhere (the kernel): their bytes, and the cells each column wrote as missing. */
  async takeRows(chunks: readonly Uint8Array[], unrepresentable: readonly number[], rows: number): Promise<void> {
    unrepresentable.forEach((n, i) => { this.unrepresentable[i] += n; });
    this.rows += rows;
    for (const bytes of chunks) await this.sink.write(bytes);
  }

  private fillChunk(cols: readonly BoundColumn[], writers: readonly CellWriter[], chunk: RowChunk, start: number, end: number,
    firstRow: number): void {
    fillRows(this.plan.columns, this.plan.columnOffsets, cols, writers, chunk, start, end, firstRow);
  }

  async endFile(): Promise<Patch[]> {
    const { sink, layout } = this;
    await sink.write(encodeUtf8('</data><strls>'));
    await this.strls.drain(sink);
    const tail = new SectionWriter(0, 32 + layout.valueLabels.length);
    tail.ascii('</strls>');
    tail.raw(layout.valueLabels);
    tail.ascii('</stata_dta>');
    await sink.write(tail.finish());
    this.reportUnrepresentable();
    const actual: MapPlan = { ...layout.expected, N: this.rows, strlBytes: this.strls.totalBytes };
    const map = planMap(actual);
    if (sink.bytesWritten !== map[MAP.eof]) {
      throw new ExportError('INTERNAL', `the dta map is off: ${map[MAP.eof]} bytes planned, ${sink.bytesWritten} written`, { format: 'dta' });
    }
    // Facts A3/C1: the map and N must be exact; rewrite them only where they came out otherwise.
    const same = planMap(layout.expected).every((offset, i) => offset === map[i]) && this.rows === layout.expected.N;
    return same ? [] : headerPatches(layout.places, this.rows, map);
  }

  /** The export failed or was cancelled: close and remove the strL spool file now. */
  abort(): Promise<void> {
    return this.strls.dispose();
  }

  private reportUnrepresentable(): void {
    this.plan.columns.forEach((c, i) => {
      const n = this.unrepresentable[i];
      if (n === 0) return;
      const what = c.kind === 'date'
        ? 'date(s) beyond the range of a Stata long'
        : 'value(s) a Stata double cannot hold (±Infinity, or beyond ±8.988e307)';
      this.warnings.push(`column "${c.source}": ${n} ${what} written as missing (.)`);
    });
  }
}
