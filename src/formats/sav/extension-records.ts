/**
 * Extension records, type 7, in ascending subtype (fact sheet B1 item 5, B6): 3 integer info,
 * 4 float info, 11 display, 13 long names, 14 very long strings, 16 64-bit case count,
 * 20 encoding, 21 long-string value labels.
 */
import type { SavVariable } from './layout.js';
import { RecordWriter, encodeText } from './record-writer.js';
import { writeLongStringLabels, type LabelSet } from './value-labels.js';

/** B6: SYSMIS = −DBL_MAX; HIGHEST = DBL_MAX; LOWEST as SPSS ≤ 20 and PSPP write it. */
export const SYSMIS_BITS = 0xffefffffffffffffn;
const HIGHEST_BITS = 0x7fefffffffffffffn;
const LOWEST_BITS = 0xffeffffffffffffen;
/** B6/C11: UTF-8. */
const CHARACTER_CODE_UTF8 = 65001;

/** i32 7, subtype, size, count, then the payload; never an empty one (ReadStat rejects it, B6). */
function writeExtension(out: RecordWriter, subtype: number, size: number, payload: Uint8Array): number {
  if (payload.length === 0) throw new Error(`internal: empty sav extension record ${subtype}`);
  out.writeInt32(7);
  out.writeInt32(subtype);
  out.writeInt32(size);
  out.writeInt32(payload.length / size);
  const at = out.length;
  out.writeBytes(payload);
  return at;
}

function payloadOf(write: (w: RecordWriter) => void): Uint8Array {
  const w = new RecordWriter();
  write(w);
  return w.bytes();
}

export interface ExtensionOffsets {
  /** Where subtype 16's i64 ncases lies in the dictionary (patched at the end, B11). */
  ncases64: number;
}

export interface ExtensionInput {
  variables: readonly SavVariable[];
  /** −1 when unknown. */
  ncases: number;
  longStringLabels: readonly LabelSet[];
}

export function writeExtensionRecords(out: RecordWriter, input: ExtensionInput): ExtensionOffsets {
  const { variables } = input;
  writeExtension(out, 3, 4, payloadOf((w) => {
    // version 20.0.0 as ReadStat writes; machine −1; IEEE; compression_code 1 (always, B6);
    // little-endian 2; UTF-8.
    for (const x of [20, 0, 0, -1, 1, 1, 2, CHARACTER_CODE_UTF8]) w.writeInt32(x);
  }));
  writeExtension(out, 4, 8, payloadOf((w) => {
    w.writeFloat64Bits(SYSMIS_BITS);
    w.writeFloat64Bits(HIGHEST_BITS);
    w.writeFloat64Bits(LOWEST_BITS);
  }));
  writeExtension(out, 11, 4, payloadOf((w) => {
    // B6: one entry per segment (not per variable), or SPSS and PSPP reject/ignore it.
    for (const v of variables) {
      for (const segment of v.segments) {
        w.writeInt32(v.measure);
        w.writeInt32(displayWidth(v, segment.width));
        w.writeInt32(v.alignment);
      }
    }
  }));
  // B6: an entry for every variable, or PSPP lowercases the names.
  writeExtension(out, 13, 1, encodeText(variables.map((v) => `${v.segments[0].shortName}=${v.name}`).join('\t')));
  const veryLong = variables.filter((v) => v.segments.length > 1);
  if (veryLong.length > 0) {
    // B4: `SHORT=width` tuples, each ending with 00 09.
    writeExtension(out, 14, 1, encodeText(veryLong.map((v) => `${v.segments[0].shortName}=${v.width}\u0000\t`).join('')));
  }
  const ncases64 = writeExtension(out, 16, 8, payloadOf((w) => {
    w.writeBigInt64(1n);
    w.writeBigInt64(BigInt(input.ncases));
  })) + 8;
  writeExtension(out, 20, 1, encodeText('UTF-8'));
  if (input.longStringLabels.length > 0) {
    writeExtension(out, 21, 1, payloadOf((w) => writeLongStringLabels(w, input.longStringLabels)));
  }
  out.writeInt32(999); // B6: dictionary terminator
  out.writeInt32(0);
  return { ncases64 };
}

/** Columns SPSS shows: the format width for numbers, the segment's width (≤ 255) for strings. */
function displayWidth(v: SavVariable, segmentWidth: number): number {
  if (v.width === 0) return (v.format >> 8) & 0xff;
  return Math.max(1, Math.min(segmentWidth, 255));
}
