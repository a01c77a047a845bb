import { encodeUtf8, type SectionWriter } from './section-writer.js';
import { FORMAT_SLOT, MAP, NAME_SLOT, VARIABLE_LABEL_SLOT, type DtaRelease } from './spec.js';
import type { DtaColumn } from './types.js';

/**
 * The seven descriptor sections between the map and the data (facts A4), each a run of
 * fixed-size slots per variable. Each is written by its own function so a very wide table
 * (119: up to 120,000 variables) goes to the sink section by section, never as one buffer.
 */
export interface DescriptorSection {
  /** The map entry that points at the section's opening tag. */
  entry: keyof typeof MAP;
  /** Bytes per variable, to size the buffer up front. */
  bytesPerVariable: number;
  /** The section's size in bytes, tags included (facts A3), so the map can be computed before writing. */
  size(K: number, release: DtaRelease): number;
  write(w: SectionWriter, columns: readonly DtaColumn[], release: DtaRelease): void;
}

/** Open and close tag bytes of a section. */
const tags = (name: string): number => 2 * name.length + 5;

/** K × u16 type codes. */
function writeVariableTypes(w: SectionWriter, columns: readonly DtaColumn[]): void {
  w.ascii('<variable_types>');
  for (const c of columns) w.u16(c.typeCode);
  w.ascii('</variable_types>');
}

/** K × 129 bytes: the UTF-8 name, NUL-padded. */
function writeVarnames(w: SectionWriter, columns: readonly DtaColumn[]): void {
  w.ascii('<varnames>');
  for (const c of columns) w.slot(encodeUtf8(c.name), NAME_SLOT);
  w.ascii('</varnames>');
}

/** K+1 zero entries ("not sorted"): u16 in 118, u32 in 119 (facts C4: a 2-byte 119 sortlist breaks Stata). */
function writeSortlist(w: SectionWriter, columns: readonly DtaColumn[], release: DtaRelease): void {
  w.ascii('<sortlist>');
  w.zeros(release.kBytes * (columns.length + 1));
  w.ascii('</sortlist>');
}

/** K × 57 bytes of display formats. */
function writeFormats(w: SectionWriter, columns: readonly DtaColumn[]): void {
  w.ascii('<formats>');
  for (const c of columns) w.slot(encodeUtf8(c.format), FORMAT_SLOT);
  w.ascii('</formats>');
}

/** K × 129 bytes: the name of the column's value-label set, or empty. */
function writeValueLabelNames(w: SectionWriter, columns: readonly DtaColumn[]): void {
  w.ascii('<value_label_names>');
  for (const c of columns) w.slot(encodeUtf8(c.valueLabelName), NAME_SLOT);
  w.ascii('</value_label_names>');
}

/** K × 321 bytes: the variable label (≤ 80 characters, so ≤ 320 bytes and a NUL). */
function writeVariableLabels(w: SectionWriter, columns: readonly DtaColumn[]): void {
  w.ascii('<variable_labels>');
  for (const c of columns) w.slot(encodeUtf8(c.label), VARIABLE_LABEL_SLOT);
  w.ascii('</variable_labels>');
}

/** No characteristics: the empty pair is still required. */
function writeCharacteristics(w: SectionWriter): void {
  w.ascii('<characteristics></characteristics>');
}

/** In file order (facts A2). */
export const DESCRIPTOR_SECTIONS: readonly DescriptorSection[] = [
  { entry: 'variable_types', bytesPerVariable: 2, size: (K) => tags('variable_types') + 2 * K, write: writeVariableTypes },
  { entry: 'varnames', bytesPerVariable: NAME_SLOT, size: (K) => tags('varnames') + NAME_SLOT * K, write: writeVarnames },
  { entry: 'sortlist', bytesPerVariable: 4, size: (K, r) => tags('sortlist') + r.kBytes * (K + 1), write: writeSortlist },
  { entry: 'formats', bytesPerVariable: FORMAT_SLOT, size: (K) => tags('formats') + FORMAT_SLOT * K, write: writeFormats },
  { entry: 'value_label_names', bytesPerVariable: NAME_SLOT, size: (K) => tags('value_label_names') + NAME_SLOT * K, write: writeValueLabelNames },
  { entry: 'variable_labels', bytesPerVariable: VARIABLE_LABEL_SLOT, size: (K) => tags('variable_labels') + VARIABLE_LABEL_SLOT * K, write: writeVariableLabels },
  { entry: 'characteristics', bytesPerVariable: 0, size: () => tags('characteristics'), write: writeCharacteristics },
];
