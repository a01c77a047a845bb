import { tmpdir } from 'node:os';
import { ExportError } from '../../errors.js';
import type { Table } from '../../table/types.js';
import { checkDtaOptions, dtaFormat, type DtaOptions } from './format.js';
import type { ByteSink, EncoderContext, FileEncoder, FormatEncoder, PreparedEncoder, Rename } from '../protocol.js';
import { beginDtaFile, type DtaPlan } from './file-encoder.js';
import { collectValueLabels, truncateChars, type ValueLabelSet } from './labels.js';
import { assignStataNames } from './names.js';
import { encodeUtf8 } from './section-writer.js';
import { K_MAX_119, LABEL_MAX_CHARS, N_MAX, N_MAX_SE, releaseFor } from './spec.js';
import { planColumns } from './types.js';
import { chunkDispatcher } from '../../parallel/chunks.js';
import type { DtaKernelSpec } from './kernel.js';

export type { DtaOptions } from './format.js';


export const dtaEncoder: FormatEncoder<DtaOptions> = {
  ...dtaFormat,
  prepare(table: Table, options: DtaOptions = {}, context: EncoderContext = {}): PreparedEncoder {
    const warnings: string[] = [];
    const { plan, renames } = planDta(table, options, context, warnings);
    const spec: DtaKernelSpec = { columns: plan.columns, columnOffsets: plan.columnOffsets, rowLength: plan.rowLength, strlVBytes: plan.release.strlVBytes };
    const dispatcher = chunkDispatcher({ kernel: 'dta', spec, types: plan.types, format: 'dta' }, context);
    return {
      renames,
      warnings,
      // The map's offsets after the data depend on the strLs' total size, known only at the end;
      // without strL columns everything in the header is known up front (N from the first pass).
      patchesHeader: plan.strlColumns.length > 0,
      readsRanges: (dispatcher?.readsRanges ?? false) && plan.strlColumns.length === 0,
      beginFile: (sink: ByteSink): Promise<FileEncoder> => beginDtaFile(plan, sink, dispatcher),
    };
  },
};

/** Checks everything Stata cannot hold before the first byte, and decides the file's layout. */
export function planDta(table: Table, options: DtaOptions, context: EncoderContext, warnings: string[]): { plan: DtaPlan; renames: Rename[] } {
  checkDtaOptions(options);
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

