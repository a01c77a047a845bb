import { ExportError } from '../../errors.js';

/** The block codecs written (each read back by fastavro in the round-trip tests). */
export const AVRO_CODECS = ['deflate', 'null', 'snappy'] as const;
export type AvroCodec = (typeof AVRO_CODECS)[number];

/** avro options of an export request (all optional). */
export interface AvroOptions {
  /** Block compression (default `deflate`, which every Avro reader supports). */
  codec?: AvroCodec;
  /** zlib level 1 (fastest, the default) to 9 (smallest), or 0 (stored). */
  deflateLevel?: number;
  /** Most rows in one block (default 65,536); blocks also close at about 1 MiB of data. */
  blockRows?: number;
  /** Namespace of the record schema: dot-separated Avro names (default none). */
  namespace?: string;
  /**
   * The 16-byte sync marker of every file, as bytes or 32 hex digits; random per file by
   * default. Fixing it makes the output byte-for-byte reproducible (tests, caching).
   */
  syncMarker?: Uint8Array | string;
}

export interface ResolvedAvroOptions {
  codec: AvroCodec;
  deflateLevel: number;
  blockRows: number;
  /** Uncompressed bytes after which a block closes (one row may go past it). */
  blockBytes: number;
  namespace: string | null;
  syncMarker: Uint8Array | null;
}

/**
 * zlib level 1: on the benchmark table's blocks it deflates 2.5 times faster than zlib's
 * default level 6 (about 55 vs 20 MB/s here), for files about 9 % larger (36.2 vs 33.2 MB per
 * million rows). Level 6 cannot keep up with 500,000 rows/s on two cores; pass 6 for size.
 */
export const DEFAULT_DEFLATE_LEVEL = 1;
const DEFAULT_BLOCK_ROWS = 65_536;
/** Large enough that block overhead (head, sync, a zlib stream) vanishes; small enough to bound memory. */
export const BLOCK_BYTES = 1 << 20;
export const SYNC_BYTES = 16;

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Checks the options and fills in the defaults; an ExportError INVALID_OPTION names the bad one. */
export function resolveAvroOptions(options: AvroOptions = {}): ResolvedAvroOptions {
  const { codec = 'deflate', deflateLevel = DEFAULT_DEFLATE_LEVEL, blockRows = DEFAULT_BLOCK_ROWS, namespace, syncMarker } = options;
  if (!(AVRO_CODECS as readonly string[]).includes(codec)) {
    throw invalid(`codec must be one of ${AVRO_CODECS.join(', ')}, not ${JSON.stringify(codec)}`);
  }
  if (!Number.isInteger(deflateLevel) || deflateLevel < 0 || deflateLevel > 9) {
    throw invalid(`deflateLevel must be an integer from 0 to 9, not ${JSON.stringify(deflateLevel)}`);
  }
  if (!Number.isInteger(blockRows) || blockRows < 1 || blockRows > 2 ** 31 - 1) {
    throw invalid(`blockRows must be a positive integer below 2^31, not ${JSON.stringify(blockRows)}`);
  }
  if (namespace !== undefined && (typeof namespace !== 'string' || !namespace.split('.').every((part) => NAME.test(part)))) {
    throw invalid(`namespace must be dot-separated names of the form [A-Za-z_][A-Za-z0-9_]*, not ${JSON.stringify(namespace)}`);
  }
  return {
    codec,
    deflateLevel,
    blockRows,
    blockBytes: BLOCK_BYTES,
    namespace: namespace ?? null,
    syncMarker: syncMarker === undefined ? null : parseSyncMarker(syncMarker),
  };
}

function parseSyncMarker(marker: unknown): Uint8Array {
  if (marker instanceof Uint8Array && marker.length === SYNC_BYTES) return Uint8Array.from(marker);
  if (typeof marker === 'string' && /^[0-9a-fA-F]{32}$/.test(marker)) {
    return Uint8Array.from({ length: SYNC_BYTES }, (_, i) => parseInt(marker.slice(2 * i, 2 * i + 2), 16));
  }
  const shown = marker instanceof Uint8Array ? `${marker.length} bytes` : JSON.stringify(marker);
  throw invalid(`syncMarker must be 16 bytes or 32 hex digits, not ${shown}`);
}

function invalid(detail: string): ExportError {
  return new ExportError('INVALID_OPTION', detail, { format: 'avro' });
}
