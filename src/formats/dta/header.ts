import type { Patch } from '../protocol.js';
import { DESCRIPTOR_SECTIONS } from './descriptors.js';
import type { SectionWriter } from './section-writer.js';
import { MAP, MAP_ENTRIES, type DtaRelease } from './spec.js';

/**
 * The header and the map (facts A2, A3). Every section's size is known before the first byte
 * except the strLs' (facts A11): the map is written as planned for N rows and no strL bytes,
 * and endFile returns patches of N and the map only when the file came out otherwise (strL
 * records, or a row count other than the table declared). Without patches the sink hashes
 * the file once, as it streams, instead of reading it back.
 */

export interface HeaderFields {
  release: DtaRelease;
  K: number;
  N: number;
  /** Dataset label, UTF-8, ≤ 320 bytes (80 characters). */
  label: Uint8Array;
  /** "dd Mon yyyy hh:mm" (17 ASCII bytes), or "" for none. */
  timestamp: string;
}

/** Where the header's patchable fields are, as file offsets. */
export interface HeaderPlaces {
  /** First byte of the u64 N (79 in 118, 81 in 119). */
  nPosition: number;
  /** The `<` of `<map>`: map entry 1, and the map's u64s start 5 bytes later. */
  mapPosition: number;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * Stata's "dd Mon yyyy hh:mm", in UTC so the same instant gives the same bytes on any machine
 * (Stata itself writes local time), with English month names (facts A2: pandas GH#13856).
 * Years outside 0..9999 do not fit the 17 bytes, so such a timestamp is left out.
 */
export function formatTimestamp(date: Date): string {
  const year = date.getUTCFullYear();
  if (!Number.isFinite(year) || year < 0 || year > 9999) return '';
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${two(date.getUTCDate())} ${MONTHS[date.getUTCMonth()]} ${String(year).padStart(4, '0')} `
    + `${two(date.getUTCHours())}:${two(date.getUTCMinutes())}`;
}

/** `<stata_dta><header>…</header><map>…</map>` with N as given and the map zeroed (see planMap). */
export function writeHeader(w: SectionWriter, fields: HeaderFields): HeaderPlaces {
  w.ascii('<stata_dta><header>');
  w.ascii(`<release>${fields.release.release}</release>`);
  w.ascii('<byteorder>LSF</byteorder>');
  w.ascii('<K>');
  if (fields.release.kBytes === 4) w.u32(fields.K);
  else w.u16(fields.K);
  w.ascii('</K><N>');
  const nPosition = w.position;
  w.u64(fields.N);
  w.ascii('</N><label>');
  w.u16(fields.label.length);
  w.raw(fields.label);
  w.ascii('</label><timestamp>');
  // Facts A2: the length byte is 0 or 17.
  w.u8(fields.timestamp.length === 17 ? 17 : 0);
  if (fields.timestamp.length === 17) w.ascii(fields.timestamp);
  w.ascii('</timestamp></header>');
  const mapPosition = w.ascii('<map>');
  w.zeros(8 * MAP_ENTRIES);
  w.ascii('</map>');
  return { nPosition, mapPosition };
}

function u64Bytes(values: readonly number[]): Uint8Array {
  const bytes = new Uint8Array(8 * values.length);
  const view = new DataView(bytes.buffer);
  // Facts C1: 64-bit offsets everywhere, written as u64 (JS numbers are exact to 2^53).
  values.forEach((v, i) => view.setBigUint64(8 * i, BigInt(v), true));
  return bytes;
}

export interface MapPlan {
  /** Where `<map>` starts, and the header's length up to and including `</map>`. */
  mapPosition: number;
  headerLength: number;
  K: number;
  release: DtaRelease;
  N: number;
  rowLength: number;
  /** Bytes of all GSO records. */
  strlBytes: number;
  /** Bytes of the whole `<value_labels>` section. */
  valueLabelsLength: number;
}

/** The 14 offsets of a file with these section sizes (facts A3 gives the same sums). */
export function planMap(plan: MapPlan): number[] {
  const map = new Array<number>(MAP_ENTRIES).fill(0);
  map[MAP.map] = plan.mapPosition;
  let at = plan.headerLength;
  for (const section of DESCRIPTOR_SECTIONS) {
    map[MAP[section.entry]] = at;
    at += section.size(plan.K, plan.release);
  }
  map[MAP.data] = at;
  at += '<data>'.length + plan.N * plan.rowLength + '</data>'.length;
  map[MAP.strls] = at;
  at += '<strls>'.length + plan.strlBytes + '</strls>'.length;
  map[MAP.value_labels] = at;
  at += plan.valueLabelsLength;
  map[MAP.stata_data_close] = at;
  map[MAP.eof] = at + '</stata_dta>'.length;
  return map;
}

/** The rewrites of N and of the 14 map offsets. */
export function headerPatches(places: HeaderPlaces, N: number, map: readonly number[]): Patch[] {
  if (map.length !== MAP_ENTRIES) throw new Error(`internal: the dta map needs ${MAP_ENTRIES} offsets, got ${map.length}`);
  return [
    { position: places.nPosition, bytes: u64Bytes([N]) },
    { position: places.mapPosition + 5, bytes: u64Bytes(map) },
  ];
}
