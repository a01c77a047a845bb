/**
 * The 176-byte file header (fact sheet B2).
 */
import type { CompressionCode } from './options.js';
import { RecordWriter, cutUtf8, encodeText } from './record-writer.js';

/** B2: the header is 176 bytes; ncases sits at byte 80 (patched at the end, B11). */
export const HEADER_BYTES = 176;
export const NCASES_OFFSET = 80;
/** B2: the file label field is 64 bytes. */
export const MAX_FILE_LABEL_BYTES = 64;

const PRODUCT = '@(#) SPSS DATA FILE - tabular-export';
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export interface HeaderFields {
  compression: CompressionCode;
  nominal_case_size: number;
  /** −1 when unknown (patched later), B2. */
  ncases: number;
  now: Date;
  /** At most 64 bytes, already cut. */
  file_label: Uint8Array;
}

const two = (n: number): string => String(n).padStart(2, '0');

/** `dd Mmm yy` and `hh:mm:ss` in UTC, so a fixed `now` gives the same bytes on every machine. */
export function creationStamp(now: Date): { date: string; time: string } {
  const date = `${two(now.getUTCDate())} ${MONTHS[now.getUTCMonth()]} ${two(now.getUTCFullYear() % 100)}`;
  const time = `${two(now.getUTCHours())}:${two(now.getUTCMinutes())}:${two(now.getUTCSeconds())}`;
  return { date, time };
}

/** The file label cut to 64 bytes on a character boundary; `cut` tells whether it was cut. */
export function fileLabelBytes(text: string): { bytes: Uint8Array; cut: boolean } {
  const full = encodeText(text);
  const bytes = cutUtf8(full, MAX_FILE_LABEL_BYTES);
  return { bytes, cut: bytes.length < full.length };
}

export function writeHeader(out: RecordWriter, fields: HeaderFields): void {
  const start = out.length;
  // B2/B8: `$FL3` if and only if zlib compression.
  out.writeBytes(encodeText(fields.compression === 2 ? '$FL3' : '$FL2'));
  out.writePadded(encodeText(PRODUCT), 60, 0x20);
  out.writeInt32(2); // layout_code: little-endian marker
  out.writeInt32(fields.nominal_case_size);
  out.writeInt32(fields.compression);
  out.writeInt32(0); // weight_index: no weight variable
  out.writeInt32(fields.ncases);
  out.writeFloat64(100); // bias
  const stamp = creationStamp(fields.now);
  out.writePadded(encodeText(stamp.date), 9, 0x20);
  out.writePadded(encodeText(stamp.time), 8, 0x20);
  out.writePadded(fields.file_label, MAX_FILE_LABEL_BYTES, 0x20);
  out.writePadded(new Uint8Array(0), 3, 0);
  if (out.length - start !== HEADER_BYTES) throw new Error('internal: sav header is not 176 bytes');
}
