/**
 * The numbers of the Stata .dta format, releases 118 and 119, little-endian (LSF), as the facts
 * sheet (../shared/reference/dta-sav-facts.md PART A) gives them from Stata's own dta.sthlp.
 * Names follow the spec (K, N, nobs, map, GSO) so the code reads against it.
 */

/** A4: variable_types codes. 1..2045 are str# widths. */
export const TYPE_STRL = 32768;
export const TYPE_DOUBLE = 65526;
export const TYPE_LONG = 65528;
export const TYPE_INT = 65529;
export const TYPE_BYTE = 65530;

/** A10: the widest str#, in bytes; longer strings are strL. */
export const STR_MAX_WIDTH = 2045;
/** A10: the longest strL, in bytes. */
export const STRL_MAX_BYTES = 2_000_000_000;

/** A8: valid ranges outside the missing codes, and each type's system missing `.`. */
export const BYTE_MIN = -127;
export const BYTE_MAX = 100;
export const BYTE_MISSING = 101;
export const INT_MIN = -32767;
export const INT_MAX = 32740;
export const INT_MISSING = 32741;
export const LONG_MIN = -2147483647;
export const LONG_MAX = 2147483620;
export const LONG_MISSING = 2147483621;
/** A8: the largest double that is not a missing code (bits 0x7FDFFFFFFFFFFFFF); kept symmetric. */
export const DOUBLE_MAX = 8.98846567431158e307;
/** A8: high word of `.` as a double (bits 0x7FE0000000000000); the low word is 0. */
export const DOUBLE_MISSING_HIGH = 0x7fe00000;

/** A9: `%td` = unix days + 3653; `%tc` = unix ms + 315,619,200,000 (86,400 s days). */
export const TD_UNIX_EPOCH = 3653;
export const TC_UNIX_EPOCH_MS = 315_619_200_000;
export const MS_PER_DAY = 86_400_000;

/** A4: fixed slot sizes of the descriptor sections (118 and 119 alike). */
export const NAME_SLOT = 129;
export const FORMAT_SLOT = 57;
export const VARIABLE_LABEL_SLOT = 321;

/** A10: names, labels and counts Stata can hold. */
export const NAME_MAX_CHARS = 32;
export const LABEL_MAX_CHARS = 80;
export const K_MAX_118 = 32_767;
/** A10: Stata/MP 16+ allows 120,000 variables in a 119 file. */
export const K_MAX_119 = 120_000;
/** A10: Stata/MP's observation limit (also the 5-byte o of a 119 strL reference). */
export const N_MAX = 1_099_511_627_775;
/** A10: Stata/SE and IC stop here; larger files open only in Stata/MP. */
export const N_MAX_SE = 2_147_483_619;

/** A7: a value label is at most 32,000 bytes plus its NUL; a set at most 65,536 entries. */
export const VALUE_LABEL_MAX_BYTES = 32_000;
export const VALUE_LABEL_MAX_ENTRIES = 65_536;

/** A6: GSO record type for text: contents carry a trailing NUL counted in len. */
export const GSO_TYPE_ASCII = 130;
/** A6: "GSO" + u32 v + u64 o + u8 t + u32 len. */
export const GSO_HEADER_BYTES = 20;

/** A10: reserved words (reswords.sthlp; `_se` included, which ReadStat's list lacks). */
export const RESERVED_NAMES: ReadonlySet<string> = new Set([
  '_all', '_b', 'byte', '_coef', '_cons', 'double', 'float', 'if', 'in', 'int', 'long', '_n', '_N', '_pi',
  '_pred', '_rc', '_se', '_skip', 'strL', 'using', 'with',
]);

/** A10: `str` followed by digits is reserved too (str1, str80, ...). */
export function isReservedName(name: string): boolean {
  return RESERVED_NAMES.has(name) || /^str\d+$/.test(name);
}

/** A1, A12: what differs between the two releases written here. */
export interface DtaRelease {
  release: 118 | 119;
  /** Bytes of K in the header (u16, u32) and of each sortlist entry. */
  kBytes: 2 | 4;
  /** Bytes of v in a strL (v,o) reference in the data; o takes the rest of 8. */
  strlVBytes: 2 | 3;
}

export const RELEASE_118: DtaRelease = { release: 118, kBytes: 2, strlVBytes: 2 };
export const RELEASE_119: DtaRelease = { release: 119, kBytes: 4, strlVBytes: 3 };

/** A1: 118 unless K needs 119 (non-MP Stata refuses any 119 file). */
export function releaseFor(K: number): DtaRelease {
  return K > K_MAX_118 ? RELEASE_119 : RELEASE_118;
}

/** A3: the 14 map entries, in order. */
export const MAP_ENTRIES = 14;
export const MAP = {
  stata_data: 0, map: 1, variable_types: 2, varnames: 3, sortlist: 4, formats: 5, value_label_names: 6,
  variable_labels: 7, characteristics: 8, data: 9, strls: 10, value_labels: 11, stata_data_close: 12, eof: 13,
} as const;
