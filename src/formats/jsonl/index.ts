import type { Table } from '../../table/types.js';
import { chunkDispatcher } from '../../parallel/chunks.js';
import { ChunkedFileEncoder } from '../../parallel/file-encoder.js';
import type { ByteSink, EncoderContext, FileEncoder, FormatEncoder, PreparedEncoder } from '../protocol.js';
import { checkJsonlOptions, jsonlFormat, type JsonlOptions } from './format.js';
import { concatBytes, encodeUtf8, packBytes } from '../text/bytes.js';
import { chooseScalarWriter, type ScalarStyle } from '../text/cells.js';
import { TextFileEncoder } from '../text/file-encoder.js';
import type { TextColumn, TextLayout } from '../text/rows.js';
import { bindJsonStringWriter, JSON_BYTES_PER_BYTE, primeWriteJsonString, quoteJsonString } from './escape.js';

export type { JsonlOptions } from './format.js';

/**
 * JSON has no NaN or Infinity: DESIGN.md writes them as the strings of the same name. Dates,
 * dateTimes and times are JSON strings of their ISO text.
 */
const STYLE: ScalarStyle = {
  nonFinite: {
    nan: packBytes(encodeUtf8('"NaN"')),
    infinity: packBytes(encodeUtf8('"Infinity"')),
    negativeInfinity: packBytes(encodeUtf8('"-Infinity"')),
  },
  quoteTemporal: true,
  jsonFloats: true,
};

const NULL = packBytes(encodeUtf8('null'));


/** JSON Lines: one object per row, `{"col":value,...}` with keys in table order, `\n` after each. */
export const jsonlEncoder: FormatEncoder<JsonlOptions> = {
  ...jsonlFormat,
  prepare(table: Table, options: JsonlOptions = {}, context: EncoderContext = {}): PreparedEncoder {
    checkJsonlOptions(options);
    const layout = planJsonlLayout(table);
    const types = table.variables.map((v) => v.type);
    const dispatcher = chunkDispatcher({ kernel: 'jsonl', spec: { table }, types, format: 'jsonl' }, context);
    return {
      renames: [],
      warnings: [],
      readsRanges: dispatcher?.readsRanges ?? false,
      async beginFile(sink: ByteSink): Promise<FileEncoder> {
        return dispatcher ? new ChunkedFileEncoder(dispatcher, sink) : new TextFileEncoder(layout, types, sink);
      },
    };
  },
};


/** Per-column key prefixes and writers, chosen once for the whole export. */
export function planJsonlLayout(table: Table): TextLayout {
  primeWriteJsonString();
  const columns = table.variables.map((v, i): TextColumn => {
    // `{"name":` opens the row, `,"name":` continues it: the braces cost no extra pass.
    const prefix = packBytes(concatBytes([encodeUtf8(i === 0 ? '{' : ','), quoteJsonString(encodeUtf8(v.name)), encodeUtf8(':')]));
    if (v.type === 'string' || v.type === 'geography') {
      return { name: v.name, prefix, nullText: NULL, maxBytes: 2, bytesPerByte: JSON_BYTES_PER_BYTE, bind: bindJsonStringWriter };
    }
    const scalar = chooseScalarWriter(v.type, STYLE);
    return { name: v.name, prefix, nullText: NULL, maxBytes: scalar.maxBytes, bytesPerByte: 0, bind: scalar.bind };
  });
  // The first key opens each object; without columns (refused by validateTable anyway) `{}`.
  return { format: 'jsonl', columns, rowEnd: packBytes(encodeUtf8(columns.length > 0 ? '}\n' : '{}\n')) };
}
