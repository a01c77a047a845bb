import type { Table } from '../../table/types.js';
import { csvFormat } from './format.js';
import { chunkDispatcher } from '../../parallel/chunks.js';
import { ChunkedFileEncoder } from '../../parallel/file-encoder.js';
import type { ByteSink, EncoderContext, FileEncoder, FormatEncoder, PreparedEncoder } from '../protocol.js';
import { concatBytes, encodeUtf8 } from '../text/bytes.js';
import { TextFileEncoder } from '../text/file-encoder.js';
import { scalarCell, type ScalarStyle, type TextColumn, type TextLayout } from '../text/rows.js';
import { CellKind, threadTextKernel } from '../text/text-kernel.js';
import { resolveCsvOptions, type CsvOptions, type ResolvedCsvOptions } from './options.js';

export type { CsvOptions } from './options.js';

const BOM = new Uint8Array([0xef, 0xbb, 0xbf]);
const NOTHING = new Uint8Array(0);

/**
 * RFC 4180 fields: a value is quoted only when it holds the delimiter, `"`, CR or LF, with
 * quotes doubled inside; a non-null empty string is written `""` so it differs from null (an
 * empty field). DESIGN.md: NaN and ±Infinity as bare words; dates and times unquoted.
 */
const STYLE: ScalarStyle = {
  nonFinite: {
    nan: encodeUtf8('NaN'),
    infinity: encodeUtf8('Infinity'),
    negativeInfinity: encodeUtf8('-Infinity'),
  },
  quoteTemporal: false,
  jsonFloats: false,
};


/** RFC 4180 csv, one file per part, each beginning with the BOM and header when asked. */
export const csvEncoder: FormatEncoder<CsvOptions> = {
  ...csvFormat,
  prepare(table: Table, options: CsvOptions = {}, context: EncoderContext = {}): PreparedEncoder {
    const resolved = resolveCsvOptions(options);
    const layout = planCsvLayout(table, resolved);
    const head = writeHead(table, resolved);
    const types = table.variables.map((v) => v.type);
    const dispatcher = chunkDispatcher({ kernel: 'csv', spec: { table, options }, types, format: 'csv' }, context);
    return {
      renames: [],
      warnings: [],
      readsRanges: dispatcher?.readsRanges ?? false,
      async beginFile(sink: ByteSink): Promise<FileEncoder> {
        if (head.length > 0) await sink.write(head.slice());
        return dispatcher ? new ChunkedFileEncoder(dispatcher, sink) : new TextFileEncoder(layout, types, sink);
      },
    };
  },
};

/** Per-column writers and separators, chosen once for the whole export. */
export function planCsvLayout(table: Table, options: ResolvedCsvOptions): TextLayout {
  const delimiter = new Uint8Array([options.delimiter]);
  const columns = table.variables.map((v, i): TextColumn => {
    const prefix = i === 0 ? NOTHING : delimiter;
    if (v.type === 'string' || v.type === 'geography') {
      return { name: v.name, kind: CellKind.csvString, prefix, nullText: NOTHING, maxBytes: 2, bytesPerByte: 2 };
    }
    return { name: v.name, ...scalarCell(v.type, STYLE), prefix, nullText: NOTHING, bytesPerByte: 0 };
  });
  return {
    format: 'csv', columns, rowEnd: encodeUtf8(options.lineEnding),
    nonFinite: STYLE.nonFinite, quoteTemporal: STYLE.quoteTemporal, jsonFloats: STYLE.jsonFloats, delimiter: options.delimiter,
  };
}

/** The bytes every file begins with: BOM and header row, each when asked. */
function writeHead(table: Table, options: ResolvedCsvOptions): Uint8Array {
  const parts: Uint8Array[] = [];
  if (options.bom) parts.push(BOM);
  if (options.header) {
    const delimiter = new Uint8Array([options.delimiter]);
    const kernel = threadTextKernel();
    table.variables.forEach((v, i) => {
      if (i > 0) parts.push(delimiter);
      parts.push(kernel.field(encodeUtf8(v.name), options.delimiter));
    });
    parts.push(encodeUtf8(options.lineEnding));
  }
  return concatBytes(parts);
}
