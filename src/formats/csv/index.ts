import type { Table } from '../../table/types.js';
import { csvFormat } from './format.js';
import { chunkDispatcher } from '../../parallel/chunks.js';
import { ChunkedFileEncoder } from '../../parallel/file-encoder.js';
import type { ByteSink, EncoderContext, FileEncoder, FormatEncoder, PreparedEncoder } from '../protocol.js';
import { concatBytes, encodeUtf8, packBytes } from '../text/bytes.js';
import { chooseScalarWriter, type ScalarStyle } from '../text/cells.js';
import { TextFileEncoder } from '../text/file-encoder.js';
import type { TextColumn, TextLayout } from '../text/rows.js';
import { resolveCsvOptions, type CsvOptions, type ResolvedCsvOptions } from './options.js';
import { bindCsvStringWriter, makeFieldRules, quoteField } from './quote.js';

export type { CsvOptions } from './options.js';

const BOM = new Uint8Array([0xef, 0xbb, 0xbf]);
const NOTHING = packBytes(new Uint8Array(0));

/** DESIGN.md: NaN and ±Infinity as bare words in csv; dates and times unquoted. */
const STYLE: ScalarStyle = {
  nonFinite: {
    nan: packBytes(encodeUtf8('NaN')),
    infinity: packBytes(encodeUtf8('Infinity')),
    negativeInfinity: packBytes(encodeUtf8('-Infinity')),
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
  const rules = makeFieldRules(options.delimiter);
  const delimiter = packBytes(new Uint8Array([options.delimiter]));
  const columns = table.variables.map((v, i): TextColumn => {
    const prefix = i === 0 ? NOTHING : delimiter;
    if (v.type === 'string' || v.type === 'geography') {
      return { name: v.name, prefix, nullText: NOTHING, maxBytes: 2, bytesPerByte: 2, bind: (col) => bindCsvStringWriter(col, rules) };
    }
    const scalar = chooseScalarWriter(v.type, STYLE);
    return { name: v.name, prefix, nullText: NOTHING, maxBytes: scalar.maxBytes, bytesPerByte: 0, bind: scalar.bind };
  });
  return { format: 'csv', columns, rowEnd: packBytes(encodeUtf8(options.lineEnding)) };
}

/** The bytes every file begins with: BOM and header row, each when asked. */
function writeHead(table: Table, options: ResolvedCsvOptions): Uint8Array {
  const parts: Uint8Array[] = [];
  if (options.bom) parts.push(BOM);
  if (options.header) {
    const rules = makeFieldRules(options.delimiter);
    const delimiter = new Uint8Array([options.delimiter]);
    table.variables.forEach((v, i) => {
      if (i > 0) parts.push(delimiter);
      parts.push(quoteField(encodeUtf8(v.name), rules));
    });
    parts.push(encodeUtf8(options.lineEnding));
  }
  return concatBytes(parts);
}
