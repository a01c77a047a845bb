import type { Table } from '../../table/types.js';
import { chunkDispatcher } from '../../parallel/chunks.js';
import { ChunkedFileEncoder } from '../../parallel/file-encoder.js';
import type { ByteSink, EncoderContext, FileEncoder, FormatEncoder, PreparedEncoder } from '../protocol.js';
import { checkJsonlOptions, jsonlFormat, type JsonlOptions } from './format.js';
import { concatBytes, encodeUtf8 } from '../text/bytes.js';
import { TextFileEncoder } from '../text/file-encoder.js';
import { scalarCell, type ScalarStyle, type TextColumn, type TextLayout } from '../text/rows.js';
import { CellKind, threadTextKernel } from '../text/text-kernel.js';

export type { JsonlOptions } from './format.js';

/**
 * Strings (RFC 8259 §7): `"` and `\` escaped, control characters below 0x20 as \b \f \n \r \t
 * or \u00XX, everything else (non-ASCII included) raw UTF-8. JSON has no NaN or Infinity:
 * DESIGN.md writes them as the strings of the same name. Dates, dateTimes and times are JSON
 * strings of their ISO text. Doubles as Python's repr spells them (JSON `-0` reads back as
 * integer 0 in pandas, Python's json and DuckDB, and an integer literal with more digits than
 * int64 makes pandas fail): `-0.0`, and exponent form from 1e16.
 */
const STYLE: ScalarStyle = {
  nonFinite: {
    nan: encodeUtf8('"NaN"'),
    infinity: encodeUtf8('"Infinity"'),
    negativeInfinity: encodeUtf8('"-Infinity"'),
  },
  quoteTemporal: true,
  jsonFloats: true,
};

const NULL = encodeUtf8('null');
/** Most output bytes per input byte of a string (`\u00XX`). */
const JSON_BYTES_PER_BYTE = 6;


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
  const kernel = threadTextKernel();
  const columns = table.variables.map((v, i): TextColumn => {
    // `{"name":` opens the row, `,"name":` continues it: the braces cost no extra pass.
    const prefix = concatBytes([encodeUtf8(i === 0 ? '{' : ','), kernel.field(encodeUtf8(v.name), null), encodeUtf8(':')]);
    if (v.type === 'string' || v.type === 'geography') {
      return { name: v.name, kind: CellKind.jsonString, prefix, nullText: NULL, maxBytes: 2, bytesPerByte: JSON_BYTES_PER_BYTE };
    }
    return { name: v.name, ...scalarCell(v.type, STYLE), prefix, nullText: NULL, bytesPerByte: 0 };
  });
  // The first key opens each object; without columns (refused by validateTable anyway) `{}`.
  return {
    format: 'jsonl', columns, rowEnd: encodeUtf8(columns.length > 0 ? '}\n' : '{}\n'),
    nonFinite: STYLE.nonFinite, quoteTemporal: STYLE.quoteTemporal, jsonFloats: STYLE.jsonFloats, delimiter: 0,
  };
}
