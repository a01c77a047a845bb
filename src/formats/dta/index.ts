import { tmpdir } from 'node:os';
import { ExportError } from '../../errors.js';
import type { Table } from '../../table/types.js';
import type { ByteSink, EncoderCapabilities, EncoderContext, FileEncoder, FormatEncoder, PreparedEncoder, Rename } from '../protocol.js';
import { beginDtaFile, type DtaPlan } from './file-encoder.js';
import { collectValueLabels, truncateChars, type ValueLabelSet } from './labels.js';
import { assignStataNames } from './names.js';
import { encodeUtf8 } from './section-writer.js';
import { K_MAX_119, LABEL_MAX_CHARS, N_MAX, N_MAX_SE, releaseFor } from './spec.js';
import { planColumns } from './types.js';

export interface DtaOptions {
  /** The header's timestamp (written in UTC); fix it for byte-identical files. Default: now. */
  timestamp?: Date;
  /** Where strL values are spooled while rows stream (they follow the data). Default: the Exporter's tempDir. */
  tempDir?: string;
}

/**
 * Stata .dta, release 118 (119 only beyond 32,767 variables), one file. The pipeline's first
 * pass supplies numRows and the statistics the storage types are chosen from: integer ranges
 * and string byte widths. What users get (DESIGN.md, dta column):
 * - integer: the smallest of byte/int/long whose range outside Stata's missing codes holds
 *   the column, else double (exact to ±2^53; a warning when the range goes beyond);
 * - float: double; NaN is `.`; ±Infinity and |x| > 8.988e307 are `.` with a warning;
 * - boolean: byte 0/1; date: long %td; dateTime: double %tc, microseconds rounded to the
 *   nearest millisecond (ties to the later instant); time: double %tcHH:MM:SS.sss, ms since
 *   midnight, never rounded past 23:59:59.999;
 * - string, geography: str# sized in UTF-8 bytes, strL beyond 2045 bytes; null is "";
 * - names: Stata rules, renamed deterministically (names.ts) and reported; labels ≤ 80
 *   characters (cut with a warning); value labels on integer columns (keys that are not int32
 *   whole numbers are skipped with a warning); the header timestamp is written in UTC.
 */
const capabilities: EncoderCapabilities = {
  splittable: false,
  needsRowCount: true,
  needsStatistics: true,
  patchesHeader: true,
};

export const dtaEncoder: FormatEncoder<DtaOptions> = {
  format: 'dta',
  capabilities,
  extension: () => 'dta',
  checkOptions: (options: DtaOptions = {}) => checkOptions(options),
  prepare(table: Table, options: DtaOptions = {}, context: EncoderContext = {}): PreparedEncoder {
    const warnings: string[] = [];
    const { plan, renames } = planDta(table, options, context, warnings);
    return {
      renames,
      warnings,
      // The map's offsets after the data depend on the strLs' total size, known only at the end;
      // without strL columns everything in the header is known up front (N from the first pass).
      patchesHeader: plan.strlColumns.length > 0,
      beginFile: (sink: ByteSink): Promise<FileEncoder> => beginDtaFile(plan, sink),
    };
  },
};

/** Checks everything Stata cannot hold before the first byte, and decides the file's layout. */
function planDta(table: Table, options: DtaOptions, context: EncoderContext, warnings: string[]): { plan: DtaPlan; renames: Rename[] } {
  checkOptions(options);
  // The cell writers read int64 values as little-endian int32 pairs.
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
    throw new ExportError('INTERNAL', 'the dta writer needs a little-endian host', { format: 'dta' });
  }
  const K = table.variables.length;
  if (K > K_MAX_119) {
    throw new ExportError('TOO_MANY_VARIABLES', `the table has ${K} columns, but Stata holds at most ${K_MAX_119} variables `
      + '(Stata/MP, format 119)', { format: 'dta', column: table.variables[K_MAX_119].name });
  }
  const release = releaseFor(K);
  if (release.release === 119) {
    warnings.push(`the table has ${K} columns, more than the 32,767 of format 118, so the file is format 119, which only Stata/MP opens`);
  }
  const N = table.numRows ?? 0;
  if (N > N_MAX) {
    throw new ExportError('VALUE_OUT_OF_RANGE', `the table has ${N} rows, but Stata holds at most ${N_MAX} observations`, { format: 'dta' });
  }
  if (N > N_MAX_SE) warnings.push(`the table has ${N} rows: only Stata/MP opens more than ${N_MAX_SE} observations`);

  const { names, renames } = assignStataNames(table.variables.map((v) => v.name));
  const labels = table.variables.map((v) => fitLabel(v.label ?? '', `column "${v.name}": variable label`, warnings));
  const sets: ValueLabelSet[] = [];
  const valueLabelNames = table.variables.map((v, i) => {
    const set = collectValueLabels(v, names[i], warnings);
    if (set) sets.push(set);
    return set?.name ?? '';
  });
  const columns = planColumns(table, names, labels, valueLabelNames, warnings);
  const columnOffsets: number[] = [];
  let rowLength = 0;
  for (const c of columns) {
    columnOffsets.push(rowLength);
    rowLength += c.width;
  }
  const plan: DtaPlan = {
    release, columns, rowLength, columnOffsets, N, valueLabels: sets,
    types: table.variables.map((v) => v.type),
    strlColumns: columns.flatMap((c, i) => (c.kind === 'strL' ? [i] : [])),
    datasetLabel: encodeUtf8(fitLabel(table.description || table.name, 'dataset label', warnings)),
    timestamp: options.timestamp,
    tempDir: options.tempDir ?? context.tempDir ?? tmpdir(),
  };
  return { plan, renames };
}

/** Facts A2/A4/C7: labels hold 80 characters; longer ones are cut on a character boundary, with a warning. */
function fitLabel(text: string, what: string, warnings: string[]): string {
  const fitted = truncateChars(text, LABEL_MAX_CHARS);
  if (fitted !== text) warnings.push(`${what} cut to Stata's ${LABEL_MAX_CHARS} characters`);
  return fitted;
}

function checkOptions(options: DtaOptions): void {
  if (options.timestamp !== undefined && (!(options.timestamp instanceof Date) || Number.isNaN(options.timestamp.getTime()))) {
    throw new ExportError('INVALID_OPTION', 'dta.timestamp must be a valid Date', { format: 'dta' });
  }
  if (options.tempDir !== undefined && (typeof options.tempDir !== 'string' || options.tempDir === '')) {
    throw new ExportError('INVALID_OPTION', 'dta.tempDir must be a directory path', { format: 'dta' });
  }
}
