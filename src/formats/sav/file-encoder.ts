/**
 * One .sav/.zsav file: the dictionary, then the cases block by block (each block filled
 * column by column, then compressed), then the patches for the case count (B11) and the
 * zheader (B8).
 */
import type { RecordBatch } from 'apache-arrow';
import { viewColumns } from '../../table/columns.js';
import type { VariableType } from '../../table/types.js';
import type { ByteSink, FileEncoder, Patch } from '../protocol.js';
import { BytecodeCompressor, DataBuffer, type DataOutput } from './bytecode.js';
import type { CaseBlock, SlotWriter, ValueIssue } from './case-block.js';
import { chooseSlotWriter } from './cells.js';
import { headerCaseCount, type Dictionary } from './dictionary.js';
import type { SavLayout } from './layout.js';
import type { CompressionCode } from './options.js';
import { int32Bytes, int64Bytes } from './record-writer.js';
import { ZsavBlocks, zheaderBytes } from './zsav.js';
import type { ChunkDispatcher } from '../../parallel/chunks.js';
import { ChunkedFileEncoder } from '../../parallel/file-encoder.js';
import { recycle } from '../../parallel/recycle.js';
import type { SavChunkInfo } from './kernel.js';

/** Bytes of case slots filled per block: small enough to stay in cache, large enough to amortize. */
const BLOCK_BYTES = 1 << 18;

/** Cases per block for a case of `caseSize` slots (the kernel fills blocks of the same size). */
export function rowsPerBlock(caseSize: number): number {
  return Math.max(1, Math.floor(BLOCK_BYTES / (8 * Math.max(1, caseSize))));
}
/** Data gathered before it goes out: fewer, larger writes cost less per byte. */
const FLUSH_BYTES = 1 << 20;

export interface SavFilePlan {
  layout: SavLayout;
  /** The case count the dictionary declares (−1 when unknown). */
  ncases: number;
  dictionary: Dictionary;
  compression: CompressionCode;
  zlibLevel: number;
}

/** Values a column could not store exactly: the first row and how many, for one warning each. */
export interface IssueCount {
  column: number;
  issue: ValueIssue;
  first: number;
  count: number;
}

export class SavFileEncoder implements FileEncoder {
  readonly warnings: string[] = [];
  private readonly writers: SlotWriter[];
  private readonly types: VariableType[];
  private readonly caseSize: number;
  private readonly rowsPerBlock: number;
  private readonly scratch: CaseBlock;
  private readonly buffer: DataBuffer;
  private readonly compressor: BytecodeCompressor | null;
  private readonly output: DataOutput;
  private readonly zsav: ZsavBlocks | null;
  private readonly issues = new Map<string, IssueCount>();
  private rows = 0;
  /** The current batch's first row in the table: writers report batch-relative rows. */
  private batchFirstRow = 0;

  private constructor(private readonly plan: SavFilePlan, sink: ByteSink) {
    const { layout, compression } = plan;
    this.caseSize = Math.max(1, layout.nominal_case_size);
    this.rowsPerBlock = rowsPerBlock(this.caseSize);
    this.types = layout.variables.map((v) => v.type);
    this.writers = layout.variables.map((v) => chooseSlotWriter(v, (row, issue) => this.noteIssue(v.column, row, issue)));
    const blockSlots = this.rowsPerBlock * this.caseSize;
    const ops = new Uint8Array(blockSlots);
    if (compression === 0) {
      this.buffer = new DataBuffer(FLUSH_BYTES + blockSlots * 8);
      this.scratch = { f64: this.buffer.f64, i32: this.buffer.i32, u8: this.buffer.u8, ops, base: 0, caseSize: this.caseSize };
      this.compressor = null;
    } else {
      const bytes = new Uint8Array(blockSlots * 8);
      this.scratch = {
        f64: new Float64Array(bytes.buffer), i32: new Int32Array(bytes.buffer), u8: bytes, ops, base: 0, caseSize: this.caseSize,
      };
      this.buffer = new DataBuffer(FLUSH_BYTES + BytecodeCompressor.maxBytes(blockSlots));
      this.compressor = new BytecodeCompressor(this.buffer);
    }
    this.zsav = compression === 2 ? new ZsavBlocks(sink, plan.dictionary.bytes.length, plan.zlibLevel) : null;
    this.output = this.zsav ?? { write: (bytes) => sink.write(bytes), copies: false };
  }

  /**
   * Writes the dictionary (and the zheader) and returns the encoder for the cases; with a
   * dispatcher, the cases' slots are filled on worker threads (kernel.ts) and compressed here,
   * in order: the same bytes.
   */
  static async begin(plan: SavFilePlan, sink: ByteSink, dispatcher: ChunkDispatcher | null = null): Promise<FileEncoder> {
    const file = new SavFileEncoder(plan, sink);
    await sink.write(plan.dictionary.bytes.slice());
    if (plan.compression === 2) await sink.write(zheaderBytes(plan.dictionary.bytes.length));
    if (!dispatcher) return file;
    return new ChunkedFileEncoder(dispatcher, sink, {
      consume: async (result, _firstRow, rows) => {
        const info = result.info as SavChunkInfo;
        file.takeIssues(info.issues);
        await file.takeCases(result.bytes[0], info, rows);
      },
      end: () => file.endFile(),
      warnings: file.warnings,
    });
  }

  async writeBatch(batch: RecordBatch, firstRow: number): Promise<void> {
    this.batchFirstRow = firstRow;
    const columns = viewColumns(batch, this.types);
    const total = batch.numRows;
    const writers = this.writers;
    for (let start = 0; start < total; start += this.rowsPerBlock) {
      const count = Math.min(this.rowsPerBlock, total - start);
      const block = this.blockFor();
      for (let j = 0; j < writers.length; j++) writers[j](columns[j], start, count, block);
      if (this.compressor) this.compressor.compress(block, count);
      else this.buffer.length += count * this.caseSize * 8;
      if (this.buffer.length >= FLUSH_BYTES) await this.flushData();
    }
    this.rows += total;
  }

  /** The block to fill: the scratch block (compressed), or the output buffer itself (none). */
  private blockFor(): CaseBlock {
    if (this.compressor) return this.scratch;
    this.scratch.base = this.buffer.length >> 3;
    return this.scratch;
  }

  /**
   * Cases filled elsewhere (the kernel.ts chunk `bytes`, laid out as `info` says), taken as
   * writeBatch would have written them. Uncompressed: the slots as they are. Compressed: the
   * slots that complete the open group go through this file's compressor, which then holds no
   * open group, so what it has is handed out, then the chunk's own whole groups, then the slots
   * after them open the next group here.
   */
  async takeCases(bytes: Uint8Array, info: SavChunkInfo, rows: number): Promise<void> {
    const { caseSize } = this;
    const slots = rows * caseSize;
    // The file (sav) takes views of the chunk, and its writer gives the memory back once
    // written (recycle.ts); zsav's zlib blocks get a copy, and the memory goes back at once.
    const toFile = this.zsav === null;
    const handOn = (from: number, to: number): Promise<void> => this.output.write(toFile ? bytes.subarray(from, to) : bytes.slice(from, to));
    if (!this.compressor) {
      await this.flushData();
      await handOn(0, info.slotBytes);
    } else {
      const ops = bytes.subarray(info.slotBytes, info.slotBytes + slots);
      const slotsOf = (from: number, to: number): CaseBlock => ({
        f64: new Float64Array(bytes.buffer, bytes.byteOffset + from * 8, to - from),
        i32: new Int32Array(bytes.buffer, bytes.byteOffset + from * 8, (to - from) * 2),
        u8: bytes.subarray(from * 8, to * 8), ops: ops.subarray(from, to), base: 0, caseSize: 1,
      });
      const { headSlots, middleSlots } = info;
      if (headSlots > 0) this.compressor.compress(slotsOf(0, headSlots), headSlots);
      if (middleSlots > 0) {
        await this.flushData();
        await handOn(info.middleAt, info.middleAt + info.middleLength);
      }
      const tail = headSlots + middleSlots;
      if (tail < slots) this.compressor.compress(slotsOf(tail, slots), slots - tail);
      if (this.buffer.length >= FLUSH_BYTES) await this.flushData();
    }
    if (!toFile) recycle(bytes);
    this.rows += rows;
  }

  /** Issues a kernel found in a chunk, merged in order (the first row is the table's). */
  takeIssues(found: readonly IssueCount[]): void {
    for (const f of found) {
      const key = `${f.column}:${f.issue}`;
      const seen = this.issues.get(key);
      if (seen) seen.count += f.count;
      else this.issues.set(key, { ...f });
    }
  }

  private async flushData(): Promise<void> {
    const upTo = this.compressor ? this.compressor.complete : this.buffer.length;
    await this.buffer.drain(upTo, this.output);
    if (this.compressor) {
      this.compressor.shifted(upTo);
    } else {
      // Uncompressed cases are filled straight into the output buffer, which drain replaced.
      this.scratch.f64 = this.buffer.f64;
      this.scratch.i32 = this.buffer.i32;
      this.scratch.u8 = this.buffer.u8;
    }
  }

  async endFile(): Promise<Patch[]> {
    this.compressor?.finish();
    await this.flushData();
    // B11/C10: the count must be exact. Declared from the first pass it already is, and the
    // file needs no rewrite (the target then skips re-reading it); otherwise patch both.
    const patches: Patch[] = this.plan.ncases === this.rows ? [] : [
      { position: this.plan.dictionary.ncases32, bytes: int32Bytes(headerCaseCount(this.rows)) },
      { position: this.plan.dictionary.ncases64, bytes: int64Bytes(BigInt(this.rows)) },
    ];
    if (this.zsav) patches.push(await this.zsav.finish());
    this.reportIssues();
    return patches;
  }

  private noteIssue(column: number, batchRow: number, issue: ValueIssue): void {
    const key = `${column}:${issue}`;
    const seen = this.issues.get(key);
    if (seen) seen.count++;
    else this.issues.set(key, { column, issue, first: this.batchFirstRow + batchRow, count: 1 });
  }

  private reportIssues(): void {
    for (const { column, issue, first, count } of this.issues.values()) {
      const v = this.plan.layout.variables[column];
      const what = issue === 'cut'
        ? `value(s) longer than the column's width (${v.width} bytes, from the statistics) were cut on a character boundary`
        : 'value(s) equal to -1.7976931348623157e308 (the bit pattern of SPSS\'s system-missing value) will read back as missing';
      this.warnings.push(`sav, column "${v.source.name}", row ${first}: ${count} ${what}`);
    }
  }
}
