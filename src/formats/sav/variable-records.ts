/**
 * Variable records, type 2 (fact sheet B3, B4): one per segment, each followed by its
 * continuation records (one per further 8-byte slot), so every slot of a case has a record.
 */
import type { SavSegment, SavVariable } from './layout.js';
import { RecordWriter, encodeText } from './record-writer.js';

const SPACES8 = encodeText('        ');
/** B3: ReadStat writes this format on continuation records; readers ignore it. */
const CONTINUATION_FORMAT = 0x011d01;

function writeSegmentRecord(out: RecordWriter, segment: SavSegment, label: Uint8Array | null): void {
  out.writeInt32(2);
  out.writeInt32(segment.width); // 0 numeric, 1..255 string
  out.writeInt32(label ? 1 : 0); // has_var_label
  out.writeInt32(0); // n_missing: no missing values are declared (nulls are SYSMIS/blank)
  out.writeInt32(segment.format); // print
  out.writeInt32(segment.format); // write
  out.writePadded(encodeText(segment.shortName), 8, 0x20);
  if (label) {
    out.writeInt32(label.length);
    out.writeBytes(label);
    out.alignTo(4, 0); // B3: label padded with zeros to a multiple of 4
  }
  for (let k = 1; k < segment.slots; k++) writeContinuation(out);
}

function writeContinuation(out: RecordWriter): void {
  out.writeInt32(2);
  out.writeInt32(-1);
  out.writeInt32(0);
  out.writeInt32(0);
  out.writeInt32(CONTINUATION_FORMAT);
  out.writeInt32(CONTINUATION_FORMAT);
  out.writeBytes(SPACES8);
}

/** All type-2 records, in column order; labels go on the first segment only (B4). */
export function writeVariableRecords(out: RecordWriter, variables: readonly SavVariable[]): void {
  for (const v of variables) {
    v.segments.forEach((segment, k) => writeSegmentRecord(out, segment, k === 0 ? v.label : null));
  }
}
