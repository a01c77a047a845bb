#!/usr/bin/env python3
"""Reads export files back with an independent reader and prints what it saw as ONE JSON document.

    read_back.py <reader> <format> <path> [<path>...] [--schema '{"col": "integer", ...}']

Several paths are the parts of a split export, read as one table in the given order. The schema
(platform types, in column order) tells the reader what a researcher who knows the table would
ask for; without it each reader auto-detects. Adding a format = one function in READERS.

Output: {"columns": [...], "dtypes": {name: reader's dtype}, "rows": n, "values": {name: [cell...]}}
Cells are lossless JSON:
  integer         decimal string ("9223372036854775807"), never through a double
  float           {"f": repr(x)}: Python's shortest round-trip text; "nan", "inf", "-inf", "-0.0"
  boolean         true / false
  date            "YYYY-MM-DD"
  dateTime, time  Python isoformat(): "YYYY-MM-DDTHH:MM:SS" / "HH:MM:SS", plus ".ffffff" only when
                  the microseconds are not 0 (the export's own text form, DESIGN.md)
  string          the string
  null            null. NaN is a value only in a float column; in any other column (object, str,
                  datetime) it is how pandas marks a missing cell, so it is emitted as null.

What each reader is asked (see test/helpers/reader-quirks.ts for what the tests expect of each):
  pandas csv    read_csv(dtype per type, keep_default_na=False, na_values={col: [""] (+"NaN" for
                floats)}, parse_dates + date_format="ISO8601", float_precision="round_trip").
                keep_default_na=False keeps the strings "NA", "null", "None", "NaN" as strings in
                string columns; an empty field is the export's null. Float columns must list
                "NaN" as NA because pandas' float parser knows "inf"/"Infinity" but not "NaN".
                round_trip: the default "high" parser misreads about half of all 17-digit doubles.
                skip_blank_lines=False: in a one-column table a null is an empty line, which
                pandas otherwise drops (the row disappears).
                Known losses: pandas reads a quoted "" as NA too (empty string == null), and
                float64 has no null apart from NaN.
  pandas jsonl  read_json(lines=True, dtype per type, convert_dates=[date cols],
                keep_default_dates=False, precise_float=True). precise_float: the default ujson
                parser is not correctly rounded (0.7 -> 0.7000000000000001). Known losses: an
                integer column holding a null goes through float64 (ints beyond 2^53 round; if
                the rounded value leaves int64 the column stays float64), JSON `-0` is read as
                integer 0 (write -0.0), a number whose integer digits exceed int64 fails with
                "Value is too big/small" even with a fraction (write 1e+20), subnormal
                doubles make precise_float fail with "Range error when decoding numeric as
                double", and an empty file has no columns.
  duckdb csv    read_csv([paths], header=true, columns={...}, delim=',', quote='"', escape='"',
                allow_quoted_nulls=false): a quoted "" is an empty string, an empty field null.
  duckdb jsonl  read_json([paths], format='newline_delimited', columns={...}). "NaN", "Infinity"
                and "-Infinity" strings cast to DOUBLE exactly; the JSON number -0 reads as 0.0
                (the sign survives only as -0.0 or -0e0), so the tests expect -0.0 from the writer.
Versions checked: pandas 3.0.6, numpy 2.4.6, DuckDB 1.5.6 (Python 3.11).
"""
import argparse
import datetime as dt
import json
import math
import sys

FLOAT_TYPES = {"float"}
DATE_TYPES = {"date", "dateTime"}
DUCKDB_TYPES = {
    "integer": "BIGINT", "float": "DOUBLE", "boolean": "BOOLEAN", "date": "DATE",
    "dateTime": "TIMESTAMP", "time": "TIME", "string": "VARCHAR", "geography": "VARCHAR",
}
PANDAS_DTYPES = {
    "integer": "Int64", "float": "float64", "boolean": "boolean", "time": "str",
    "string": "str", "geography": "str",
}


def encode_cell(value, float_column, date_only):
    """One cell in the lossless JSON encoding described above."""
    if value is None or type(value).__name__ in ("NAType", "NaTType"):
        return None  # pd.NA, pd.NaT (NaT is a datetime subclass, so test it first)
    if isinstance(value, bool) or type(value).__name__ in ("bool_", "bool"):
        return bool(value)
    if isinstance(value, float) or type(value).__name__.startswith("float"):
        x = float(value)
        if math.isnan(x) and not float_column:
            return None
        return {"f": repr(x)}
    if isinstance(value, int) or type(value).__name__.startswith(("int", "uint")):
        return str(int(value))
    if isinstance(value, str):
        return value
    if isinstance(value, dt.datetime):  # pandas.Timestamp is a datetime subclass
        if getattr(value, "nanosecond", 0):
            return value.isoformat()  # nine digits: shows the loss rather than hiding it
        if date_only and value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    raise TypeError(f"cannot encode a {type(value).__name__}: {value!r}")


def result(columns, dtypes, rows, cells, schema):
    values = {}
    for name in columns:
        kind = schema.get(name) if schema else None
        float_column = kind in FLOAT_TYPES if kind else "float" in dtypes[name].lower() or dtypes[name] == "DOUBLE"
        date_only = kind == "date"
        values[name] = [encode_cell(v, float_column, date_only) for v in cells[name]]
    return {"columns": list(columns), "dtypes": dtypes, "rows": rows, "values": values}


# ---- pandas ---------------------------------------------------------------------------------

def pandas_frame_result(frames, schema):
    import pandas as pd

    df = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    columns = [str(c) for c in df.columns]
    dtypes = {str(c): str(df[c].dtype) for c in df.columns}
    # astype(object) turns NA/NaT into pd.NA/NaT/NaN objects and numpy scalars into Python ones
    cells = {str(c): list(df[c].astype(object)) for c in df.columns}
    return result(columns, dtypes, len(df), cells, schema)


def pandas_csv(paths, schema):
    import pandas as pd

    kwargs = {"keep_default_na": False, "float_precision": "round_trip", "skip_blank_lines": False}
    if schema:
        kwargs["dtype"] = {n: PANDAS_DTYPES[t] for n, t in schema.items() if t in PANDAS_DTYPES}
        kwargs["na_values"] = {n: ["", "NaN"] if t in FLOAT_TYPES else [""] for n, t in schema.items()}
        dates = [n for n, t in schema.items() if t in DATE_TYPES]
        if dates:
            kwargs["parse_dates"] = dates
            kwargs["date_format"] = "ISO8601"
    else:
        kwargs["na_values"] = ["", "NaN"]
    return pandas_frame_result([pd.read_csv(p, **kwargs) for p in paths], schema)


def pandas_jsonl(paths, schema):
    import pandas as pd

    kwargs = {"lines": True, "precise_float": True, "keep_default_dates": False, "convert_dates": False}
    if schema:
        kwargs["dtype"] = {n: PANDAS_DTYPES[t] for n, t in schema.items() if t in PANDAS_DTYPES}
        dates = [n for n, t in schema.items() if t in DATE_TYPES]
        if dates:
            kwargs["convert_dates"] = dates
    return pandas_frame_result([pd.read_json(p, **kwargs) for p in paths], schema)


# ---- DuckDB ---------------------------------------------------------------------------------

def duckdb_result(relation_sql, params, schema):
    import duckdb

    con = duckdb.connect()
    try:
        rel = con.sql(relation_sql, params=params)
        columns = list(rel.columns)
        dtypes = {c: str(t) for c, t in zip(columns, rel.types)}
        rows = rel.fetchall()
    finally:
        con.close()
    cells = {c: [row[i] for row in rows] for i, c in enumerate(columns)}
    return result(columns, dtypes, len(rows), cells, schema)


def duckdb_columns(schema):
    # A struct literal {'name': 'TYPE', ...}; names are quoted as SQL strings.
    def quote(s):
        return "'" + s.replace("'", "''") + "'"
    return "{" + ", ".join(f"{quote(n)}: {quote(DUCKDB_TYPES[t])}" for n, t in schema.items()) + "}"


def duckdb_csv(paths, schema):
    options = "header = true"
    if schema:
        options += (f", columns = {duckdb_columns(schema)}, delim = ',', quote = '\"', escape = '\"'"
                    ", allow_quoted_nulls = false")
    return duckdb_result(f"SELECT * FROM read_csv($paths, {options})", {"paths": paths}, schema)


def duckdb_jsonl(paths, schema):
    options = "format = 'newline_delimited'"
    if schema:
        options += f", columns = {duckdb_columns(schema)}"
    return duckdb_result(f"SELECT * FROM read_json($paths, {options})", {"paths": paths}, schema)


READERS = {
    ("pandas", "csv"): pandas_csv,
    ("pandas", "jsonl"): pandas_jsonl,
    ("duckdb", "csv"): duckdb_csv,
    ("duckdb", "jsonl"): duckdb_jsonl,
}


def main(argv):
    parser = argparse.ArgumentParser(description="Read export files back with an independent reader.")
    parser.add_argument("reader")
    parser.add_argument("format")
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--schema", help='JSON object {"column": "<platform type>"} in column order')
    args = parser.parse_args(argv)
    read = READERS.get((args.reader, args.format))
    if read is None:
        known = ", ".join(f"{r}/{f}" for r, f in READERS)
        print(f"read_back.py: no reader '{args.reader}' for format '{args.format}' (known: {known})", file=sys.stderr)
        return 2
    schema = json.loads(args.schema) if args.schema else None
    if schema is not None:
        unknown = {t for t in schema.values() if t not in DUCKDB_TYPES}
        if unknown:
            print(f"read_back.py: unknown platform type(s) in --schema: {sorted(unknown)}", file=sys.stderr)
            return 2
    out = read(args.paths, schema)
    sys.stdout.write(json.dumps(out, ensure_ascii=True, allow_nan=False))
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
