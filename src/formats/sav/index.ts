/**
 * SPSS system files (.sav, bytecode or uncompressed; .zsav) written by hand and streamed.
 * Layout and interoperability rules: ../shared/reference/dta-sav-facts.md parts B and C.
 *
 * Two-pass: string widths and integer ranges come from the table's statistics (the pipeline's
 * first pass when the table does not give them). The case count is written when known (the
 * first pass gives it) and patched at the end only if the rows written differ, or when it was
 * unknown (−1), so it is always exact (B11, C10).
 */
import type { Table } from '../../table/types.js';
import { savFormat } from './format.js';
import type { ByteSink, EncoderContext, FileEncoder, FormatEncoder, PreparedEncoder } from '../protocol.js';
import { buildDictionary } from './dictionary.js';
import { rowsPerBlock, SavFileEncoder } from './file-encoder.js';
import type { SavKernelSpec } from './kernel.js';
import { chunkDispatcher } from '../../parallel/chunks.js';
import { fileLabelBytes, MAX_FILE_LABEL_BYTES } from './header.js';
import { planLayout } from './layout.js';
import { resolveSavOptions, type SavOptions } from './options.js';
import { planValueLabels } from './value-labels.js';

export type { SavOptions } from './options.js';


export const savEncoder: FormatEncoder<SavOptions> = {
  ...savFormat,
  prepare(table: Table, options: SavOptions = {}, context: EncoderContext = {}): PreparedEncoder {
    const resolved = resolveSavOptions(options);
    const layout = planLayout(table);
    const warnings = [...layout.warnings];
    const labels = planValueLabels(layout.variables, warnings);
    const label = fileLabelBytes(table.description ?? table.name);
    if (label.cut) warnings.push(`sav: the file label was cut to ${label.bytes.length} bytes (SPSS allows ${MAX_FILE_LABEL_BYTES})`);
    const ncases = table.numRows ?? -1;
    const caseSize = Math.max(1, layout.nominal_case_size);
    const spec: SavKernelSpec = { variables: layout.variables, caseSize, compressed: resolved.compression !== 0 };
    const types = layout.variables.map((v) => v.type);
    const dispatcher = chunkDispatcher({ kernel: 'sav', spec, types, format: 'sav', rowMultiple: rowsPerBlock(caseSize) }, context);
    return {
      renames: layout.renames,
      warnings,
      // The case count is patched only when it was not known up front; zsav always patches its
      // trailer's offsets into its header.
      patchesHeader: ncases < 0 || resolved.compression === 2,
      readsRanges: dispatcher?.readsRanges ?? false,
      async beginFile(sink: ByteSink): Promise<FileEncoder> {
        const dictionary = buildDictionary({
          layout, labels, compression: resolved.compression, ncases, now: resolved.now ?? new Date(), file_label: label.bytes,
        });
        return SavFileEncoder.begin({ layout, ncases, dictionary, compression: resolved.compression, zlibLevel: resolved.zlibLevel }, sink, dispatcher);
      },
    };
  },
};
