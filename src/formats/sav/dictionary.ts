/**
 * Everything before the data, in the fact sheet's order (B1): header, variable records, value
 * label pairs, extension records, terminator. Built once per export; each file gets a copy.
 */
import { writeExtensionRecords } from './extension-records.js';
import { NCASES_OFFSET, writeHeader } from './header.js';
import type { SavLayout } from './layout.js';
import type { CompressionCode } from './options.js';
import { RecordWriter } from './record-writer.js';
import { writeValueLabelRecords, type ValueLabelPlan } from './value-labels.js';
import { writeVariableRecords } from './variable-records.js';

export interface DictionaryInput {
  layout: SavLayout;
  labels: ValueLabelPlan;
  compression: CompressionCode;
  /** −1 when unknown; patched at the end when it differs from the rows written (B11). */
  ncases: number;
  now: Date;
  file_label: Uint8Array;
}

export interface Dictionary {
  bytes: Uint8Array;
  /** Offsets of the case counts to patch: header i32 and subtype 16 i64. */
  ncases32: number;
  ncases64: number;
}

/** B10: ncases is an int32 in the header; larger counts are −1 there and live in subtype 16. */
export function headerCaseCount(ncases: number): number {
  return ncases >= 0 && ncases <= 0x7fffffff ? ncases : -1;
}

export function buildDictionary(input: DictionaryInput): Dictionary {
  const out = new RecordWriter();
  writeHeader(out, {
    compression: input.compression,
    nominal_case_size: input.layout.nominal_case_size,
    ncases: headerCaseCount(input.ncases),
    now: input.now,
    file_label: input.file_label,
  });
  writeVariableRecords(out, input.layout.variables);
  writeValueLabelRecords(out, input.labels.records);
  const { ncases64 } = writeExtensionRecords(out, {
    variables: input.layout.variables,
    ncases: input.ncases,
    longStringLabels: input.labels.longStrings,
  });
  return { bytes: out.bytes(), ncases32: NCASES_OFFSET, ncases64 };
}
