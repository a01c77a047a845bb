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
  pandas dta    StataReader.read(convert_dates=True, convert_categoricals=False), then by platform
                type: integers (int8/int16/int32 storage, or float64 when the column holds `.` or
                is stored as double) as exact decimal text; every NaN is Stata's `.` (dta has no
                NaN), so null; byte 0/1 as booleans; %td/%tc datetime64 as ISO text, and a %tc time
                of day on 01jan1960 as HH:MM:SS[.ffffff]. Adds "metadata": data_label, time_stamp,
                variable_labels(), value_labels() (keys as decimal text) and per column the label
                set, display format and storage type (pandas' private _lbllist/_fmtlist/_typlist).
  readstat dta  the ReadStat CLI (Debian readstat, reports 1.1.8): `readstat f.dta -` prints CSV with
                numbers by printf %d, doubles "%lf" or "%.14f" (a known loss), %td as
                YYYY-MM-DD, %tc as plain milliseconds (turned into ISO text here), `.` as an empty
                field, strings always quoted. "metadata": the "Key: value" lines of `readstat f.dta`
                plus the "variables" of `extract_metadata f.dta out.json` (name, label, and value
                labels as "categories").
  readstat sav  the ReadStat CLI (Debian readstat 1.1.9, reports 1.1.8) on .sav and .zsav:
                `readstat f.sav -` prints CSV; SYSMIS is an empty field; every number (dates and
                times too, as seconds since 1582-10-14 / since midnight) by printf "%lf" when it
                has at most 6 decimals in "%.14f", else "%.14f" (a double needing more decimals
                loses digits: 1e-310 prints 0.00000000000000); DBL_MAX (SPSS's HIGHEST) prints
                as missing; strings always quoted, trailing spaces removed. Dates and times are
                turned into ISO text here from the exact printed decimal, microseconds rounded
                half to even. Strings come back at most 32,766 bytes long (a 32,767-byte value
                loses its last byte). "metadata": `readstat f.sav` lines plus extract_metadata's
                "variables" (it refuses the .zsav extension, so it reads a .sav symlink; it
                drops subtype-21 value labels of strings wider than 8 bytes, even PSPP's own).
  pspp sav      GNU PSPP 1.6.2 `pspp-convert f.sav out.csv` (plain, no --print-formats): F
                numbers exact (shortest round-trip text), SYSMIS a single space, DATE
                mm/dd/yyyy, DATETIME mm/dd/yyyy HH:MM:SS, TIME HH:MM:SS: fractions of a second
                cut off, and dates before 1582-10-14 print blank; CR LF inside a string is
                written as LF (PSPP holds both bytes: LENGTH() says so). (--print-formats would give
                the display formats instead, e.g. 2 decimals for F8.2: worse.) "metadata": the
                tables of `pspp -O format=csv` running GET FILE / DISPLAY DICTIONARY / DISPLAY
                FILE LABEL, plus every message either tool printed.
  fastavro avro fastavro.reader over each part in order (parts must carry the same schema). Every
                field must be ["null", T] with T per DESIGN.md (long; double; boolean; int+date;
                long+local-timestamp-micros; long+time-micros; string) and fastavro must return
                int / float / bool / date / naive datetime / time / str objects, else the read
                fails. fastavro skips the snappy codec's CRC-32, so it is checked here per block.
                Needs cramjam for snappy. Column names are the Avro field names as written.
  pyarrow parquet  pq.read_table(part) for each part (every part's Arrow schema, field and schema
                metadata included, must equal the first's), concatenated; cells from to_pylist().
                Exact, no known loss. Adds "metadata", per part: the Parquet physical and logical
                type, codecs, encodings and statistics of each column, its Arrow type and field
                metadata, the schema metadata (ARROW:schema left out), and the row group sizes.
  pyarrow-dataset parquet  pyarrow.dataset.dataset(<the export's directory, or the parts>,
                format="parquet").to_table(): the parts read as one dataset, in file name order.
  pandas parquet  read_parquet(part) as users call it (pyarrow engine, numpy dtypes), frames
                concatenated. Known losses: an integer column holding a null becomes float64 (its
                values round to the nearest double) and a null float is NaN.
  duckdb parquet  read_parquet([paths]), types from the files.
  polars parquet  polars.read_parquet(part) for each part, concatenated, turned into Arrow (to_arrow)
                for the cells: strings come back as large_string, otherwise polars keeps the Arrow
                types (timestamp units and zones included). Used by the parallel parquet tests.
Versions checked: pandas 3.0.6, numpy 2.4.6, DuckDB 1.5.6 (Python 3.11).
"""
import argparse
import datetime as dt
import json
import math
import os
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


# ---- Stata .dta (pandas read_stata, ReadStat CLI) -------------------------------------------

STATA_TC_UNIX_MS = 315_619_200_000  # %tc 0 = 1960-01-01T00:00:00 (unix ms 0 = %tc 315619200000)


def dta_iso_millis(ms, as_time):
    """ISO text of %tc milliseconds (numpy, so years beyond 9999 print too); a time when as_time
    and the value lies on 01jan1960, else the full date-time (which then fails to compare)."""
    import numpy as np

    if as_time and 0 <= ms < 86_400_000:
        base = dt.datetime(1960, 1, 1) + dt.timedelta(milliseconds=ms)
        return base.time().isoformat()
    text = str(np.datetime64(int(ms) - STATA_TC_UNIX_MS, "ms").astype("datetime64[us]"))
    return text[:-7] if text.endswith(".000000") else text


def dta_cells(kind, values):
    """Cells of one column in the lossless encoding, given the platform type: pandas returns
    Stata's numeric storage (int8..float64, NaN for `.`), datetime64 for %td/%tc."""
    cells = []
    for v in values:
        if v is None or type(v).__name__ in ("NAType", "NaTType") or (isinstance(v, float) and math.isnan(v)):
            cells.append(None)  # dta has no NaN: every NaN pandas returns is the missing value `.`
        elif kind == "integer":
            x = float(v)
            cells.append(str(int(x)) if x.is_integer() else {"f": repr(x)})
        elif kind == "boolean":
            cells.append({0: False, 1: True}.get(int(v), str(v)) if float(v).is_integer() else str(v))
        elif kind == "time" and isinstance(v, dt.datetime):
            cells.append(v.time().isoformat() if v.date() == dt.date(1960, 1, 1) else v.isoformat())
        else:
            cells.append(encode_cell(v, kind == "float", kind == "date"))
    return cells


def pandas_dta(paths, schema):
    """read_stata(convert_dates=True, convert_categoricals=False): %td/%tc become datetime64, value
    labels stay codes. metadata: what StataReader says of the file; the storage type codes
    (_typlist) and label-set names (_lbllist) are private attributes of pandas 3.0.6."""
    import pandas as pd

    frames, metadata = [], []
    for p in paths:
        with pd.io.stata.StataReader(p) as reader:
            df = reader.read(convert_dates=True, convert_categoricals=False)
            labels = reader.value_labels()
            metadata.append({
                "data_label": reader.data_label, "time_stamp": reader.time_stamp,
                "variable_labels": reader.variable_labels(),
                "value_labels": {k: {str(int(c)): t for c, t in v.items()} for k, v in labels.items()},
                "label_sets": dict(zip(df.columns, getattr(reader, "_lbllist", []))),
                "formats": dict(zip(df.columns, getattr(reader, "_fmtlist", []))),
                "types": dict(zip(df.columns, [str(t) for t in getattr(reader, "_typlist", [])])),
            })
        frames.append(df)
    df = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    columns = [str(c) for c in df.columns]
    dtypes = dict(zip(columns, map(str, df.dtypes)))
    # One conversion for the whole frame: per-column access is slow on very wide (format 119) frames.
    raw = {str(c): v for c, v in df.astype(object).to_dict("list").items()} if len(df) else {c: [] for c in columns}
    values = {}
    for c in columns:
        kind = schema.get(c) if schema else None
        values[c] = dta_cells(kind, raw[c]) if kind else [encode_cell(v, "float" in dtypes[c], False) for v in raw[c]]
    return {"columns": columns, "dtypes": dtypes, "rows": len(df), "values": values,
            "metadata": metadata[0] if len(metadata) == 1 else metadata}


def readstat_value(kind, text):
    """One field of `readstat file.dta -`: numbers as printf %d, "%lf" or "%.14f", %td as
    YYYY-MM-DD, %tc as a plain number of ms, strings always quoted, `.` an empty unquoted field."""
    from decimal import Decimal

    if kind in ("string", "geography", None):
        return text
    if text == "":
        return None
    if kind == "integer":
        d = Decimal(text)
        return str(int(d)) if d == d.to_integral_value() else {"f": repr(float(text))}
    if kind == "float":
        return {"f": repr(float(text))}
    if kind == "boolean":
        return {"1": True, "0": False}.get(text, text)
    if kind == "date":
        return text
    if kind in ("dateTime", "time"):
        return dta_iso_millis(int(Decimal(text)), kind == "time")
    return text


def readstat_dta(paths, schema):
    """The ReadStat CLI: `readstat file.dta -` for the values (CSV on stdout), `readstat file.dta`
    and `extract_metadata file.dta out.json` for the metadata (label, rows, variable labels,
    value labels as "categories")."""
    import csv
    import io
    import os
    import subprocess
    import tempfile

    columns, cells, metadata = None, None, []
    for p in paths:
        out = subprocess.run(["readstat", p, "-"], capture_output=True, check=True).stdout.decode("utf-8")
        csv.field_size_limit(sys.maxsize)  # strLs run to megabytes
        rows = list(csv.reader(io.StringIO(out, newline="")))
        header, body = rows[0], rows[1:]
        if columns is None:
            columns, cells = header, {c: [] for c in header}
        for row in body:
            for c, text in zip(header, row):
                cells[c].append(readstat_value(schema.get(c) if schema else None, text))
        info = subprocess.run(["readstat", p], capture_output=True, check=True).stdout.decode("utf-8")
        meta = dict(line.split(": ", 1) for line in info.splitlines() if ": " in line)
        with tempfile.TemporaryDirectory() as tmp:
            target = os.path.join(tmp, "meta.json")
            subprocess.run(["extract_metadata", p, target], capture_output=True, check=True)
            with open(target, encoding="utf-8") as f:
                text = f.read()
        try:
            meta["variables"] = json.loads(text)["variables"]
        except ValueError as err:
            meta["variables_error"] = f"extract_metadata printed invalid JSON: {err}"
        metadata.append(meta)
    rows = len(cells[columns[0]]) if columns else 0
    return {"columns": columns, "dtypes": {c: "readstat-csv" for c in columns}, "rows": rows, "values": cells,
            "metadata": metadata[0] if len(metadata) == 1 else metadata}


# ---- SPSS .sav / .zsav (ReadStat CLI, GNU PSPP) ---------------------------------------------

SPSS_EPOCH_DAYS = 141_428  # days from 1582-10-14 (SPSS day 0) to 1970-01-01


def civil_text(days):
    """YYYY-MM-DD of days since 1970-01-01, proleptic Gregorian, any year (H. Hinnant's
    civil_from_days); Python's date stops at 9999, and SPSS values can round past it."""
    z = days + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    y = yoe + era * 400 + (1 if m <= 2 else 0)
    return f"{y:04d}-{m:02d}-{d:02d}"


def clock_text(micros):
    """HH:MM:SS[.ffffff] of microseconds (hours beyond 23 print as they are)."""
    seconds, fraction = divmod(micros, 1_000_000)
    text = f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
    return text if fraction == 0 else f"{text}.{fraction:06d}"


def spss_micros(text):
    """Microseconds of an SPSS number of seconds printed as decimal text, rounded half to even
    from the exact decimal (no trip through a double)."""
    from decimal import ROUND_HALF_EVEN, Decimal

    return int((Decimal(text) * 1_000_000).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def spss_seconds_cell(kind, text):
    """A number of SPSS seconds as a date / dateTime / time cell (DATE and DATETIME count from
    1582-10-14, TIME from midnight)."""
    micros = spss_micros(text)
    if kind == "time":
        return ("-" + clock_text(-micros)) if micros < 0 else clock_text(micros)
    days, rest = divmod(micros, 86_400_000_000)
    date = civil_text(days - SPSS_EPOCH_DAYS)
    return date if kind == "date" and rest == 0 else f"{date}T{clock_text(rest)}"


def readstat_sav_value(kind, text):
    """One field of `readstat file.sav -`: SYSMIS an empty unquoted field; every number printed
    by printf, "%lf" when the value has at most 6 decimals in "%.14f", else "%.14f" (so a double
    needing more than 14 decimals loses digits); dates and times as plain numbers of seconds;
    strings always quoted, trailing spaces removed."""
    from decimal import Decimal

    if kind in ("string", "geography", None):
        return text
    if text == "":
        return None
    if kind == "integer":
        d = Decimal(text)
        return str(int(d)) if d == d.to_integral_value() else {"f": repr(float(text))}
    if kind == "float":
        return {"f": repr(float(text))}
    if kind == "boolean":
        return {Decimal(1): True, Decimal(0): False}.get(Decimal(text), text)
    return spss_seconds_cell(kind, text)


def run_tool(argv):
    """Runs a CLI; fails with its stderr (the message the tests show) when it exits non-zero."""
    import subprocess

    done = subprocess.run(argv, capture_output=True)
    if done.returncode != 0:
        raise RuntimeError(f"{argv[0]} exited {done.returncode}: {done.stderr.decode('utf-8', 'replace').strip()}")
    return done


def readstat_sav(paths, schema):
    """The ReadStat CLI: `readstat file.sav -` for the values (CSV on stdout; names are the long
    names of subtype 13), `readstat file.sav` and `extract_metadata file.sav out.json` for the
    metadata (rows, table label, encoding, compression; per variable name, type, format class,
    decimals, label and value labels)."""
    import csv
    import io
    import os
    import tempfile

    columns, cells, metadata = None, None, []
    for p in paths:
        out = run_tool(["readstat", p, "-"]).stdout.decode("utf-8")
        rows = list(csv.reader(io.StringIO(out, newline="")))
        header, body = (rows[0], rows[1:]) if rows else ([], [])
        if columns is None:
            columns, cells = header, {c: [] for c in header}
        for row in body:
            # csv.reader yields [] for an empty line: a one-column table's blank string
            for c, text in zip(header, row or [""] * len(header)):
                cells[c].append(readstat_sav_value(schema.get(c) if schema else None, text))
        info = run_tool(["readstat", p]).stdout.decode("utf-8")
        meta = dict(line.split(": ", 1) for line in info.splitlines() if ": " in line)
        with tempfile.TemporaryDirectory() as tmp:
            # extract_metadata picks its parser by extension and refuses `.zsav`; its sav parser reads $FL3.
            alias = os.path.join(tmp, "input.sav")
            os.symlink(os.path.abspath(p), alias)
            target = os.path.join(tmp, "meta.json")
            run_tool(["extract_metadata", alias, target])
            with open(target, encoding="utf-8") as f:
                text = f.read()
        try:
            meta["variables"] = json.loads(text)["variables"]
        except ValueError as err:
            meta["variables_error"] = f"extract_metadata printed invalid JSON: {err}"
        metadata.append(meta)
    columns = columns or []
    rows = len(cells[columns[0]]) if columns else 0
    return {"columns": columns, "dtypes": {c: "readstat-csv" for c in columns}, "rows": rows, "values": cells or {},
            "metadata": metadata[0] if len(metadata) == 1 else metadata}


def pspp_sav_value(kind, text):
    """One field of `pspp-convert file.sav out.csv` (no --print-formats): SYSMIS a single space;
    F numbers in the shortest text that reads back to the same double (exact); DATE as
    mm/dd/yyyy, DATETIME as mm/dd/yyyy HH:MM:SS and TIME as [-]HH:MM:SS, all with the fraction
    of a second cut off (floor), and a date before 1582-10-14 (negative) a single space too;
    strings with trailing spaces removed, quoted only when needed."""
    if kind in ("string", "geography", None):
        return text
    if text.strip() == "":
        return None
    if kind == "integer":
        x = float(text)
        return str(int(x)) if x.is_integer() else {"f": repr(x)}
    if kind == "float":
        return {"f": repr(float(text))}
    if kind == "boolean":
        return {1.0: True, 0.0: False}.get(float(text), text)
    if kind == "time":
        return text
    date, _, clock = text.partition(" ")
    m, d, y = date.split("/")
    iso = f"{int(y):04d}-{m}-{d}"
    return f"{iso}T{clock}" if kind == "dateTime" else iso


def pspp_tables(text):
    """The tables of PSPP's csv output driver: {"Table: Variables": [[...], ...], ...}; lines
    outside tables (warnings, notes) under "messages"."""
    import csv
    import io

    tables, current = {"messages": []}, None
    for row in csv.reader(io.StringIO(text, newline="")):
        if not row:
            current = None
        elif current is None and len(row) == 1 and row[0].startswith("Table: "):
            current = tables.setdefault(row[0][len("Table: "):], [])
        elif current is not None:
            current.append(row)
        else:
            tables["messages"].append(",".join(row))
    return tables


def pspp_sav(paths, schema):
    """GNU PSPP: `pspp-convert file.sav out.csv` for the values, and a syntax run (`GET FILE.
    DISPLAY DICTIONARY. DISPLAY FILE LABEL.` through `pspp -O format=csv`) for the metadata:
    the Variables table (name, label, measurement level, width, alignment, print and write
    formats), Value Labels, File Label, and every message either tool printed (warnings about
    the file would appear there)."""
    import csv
    import os
    import tempfile

    columns, cells, metadata = None, None, []
    for p in paths:
        with tempfile.TemporaryDirectory() as tmp:
            target = os.path.join(tmp, "out.csv")
            converted = run_tool(["pspp-convert", p, target])
            with open(target, encoding="utf-8", newline="") as f:
                rows = list(csv.reader(f))
            syntax = os.path.join(tmp, "dictionary.sps")
            quoted = p.replace("'", "''")
            with open(syntax, "w", encoding="utf-8") as f:
                f.write(f"GET FILE='{quoted}'.\nDISPLAY DICTIONARY.\nDISPLAY FILE LABEL.\n")
            shown = run_tool(["pspp", "-O", "format=csv", syntax])
            meta = pspp_tables(shown.stdout.decode("utf-8"))
        meta["messages"] += [line for out in (converted.stdout, converted.stderr, shown.stderr) for line in
                             out.decode("utf-8", "replace").splitlines() if line.strip()]
        metadata.append(meta)
        header, body = (rows[0], rows[1:]) if rows else ([], [])
        if columns is None:
            columns, cells = header, {c: [] for c in header}
        for row in body:
            # csv.reader yields [] for an empty line: a one-column table's blank string
            for c, text in zip(header, row or [""] * len(header)):
                cells[c].append(pspp_sav_value(schema.get(c) if schema else None, text))
    columns = columns or []
    rows = len(cells[columns[0]]) if columns else 0
    return {"columns": columns, "dtypes": {c: "pspp-csv" for c in columns}, "rows": rows, "values": cells or {},
            "metadata": metadata[0] if len(metadata) == 1 else metadata}


# ---- Avro (fastavro) ------------------------------------------------------------------------

# DESIGN.md: the Avro type (and logicalType) of each platform type, and the Python type fastavro
# must hand back for it (exact type: bool is an int subclass, datetime a date subclass).
AVRO_TYPES = {
    "integer": ("long", None, int), "float": ("double", None, float), "boolean": ("boolean", None, bool),
    "date": ("int", "date", dt.date), "dateTime": ("long", "local-timestamp-micros", dt.datetime),
    "time": ("long", "time-micros", dt.time), "string": ("string", None, str), "geography": ("string", None, str),
}


def avro_field_type(field):
    """(type, logicalType) of a ["null", T] field, the only shape the design allows."""
    branches = field["type"]
    if not (isinstance(branches, list) and len(branches) == 2 and branches[0] == "null"):
        raise ValueError(f"field {field['name']}: type {branches!r} is not [\"null\", T]")
    t = branches[1]
    return (t["type"], t.get("logicalType")) if isinstance(t, dict) else (t, None)


def check_snappy_crcs(path):
    """Each snappy block ends in the big-endian CRC-32 of its uncompressed data (Avro spec)."""
    import fastavro
    import zlib

    with open(path, "rb") as f:
        data = f.read()
        f.seek(0)
        for i, block in enumerate(fastavro.block_reader(f)):
            raw = data[block.offset:block.offset + block.size]
            stored = int.from_bytes(raw[-20:-16], "big")  # before the 16-byte sync marker
            if stored != zlib.crc32(block.bytes_.getvalue()):
                raise ValueError(f"{path}: block {i} has CRC {stored:08x}, its data {zlib.crc32(block.bytes_.getvalue()):08x}")


def fastavro_avro(paths, schema):
    import fastavro

    columns, types, cells, rows = None, None, None, 0
    for path in paths:
        with open(path, "rb") as f:
            reader = fastavro.reader(f)
            fields = reader.writer_schema["fields"]
            names = [field["name"] for field in fields]
            part_types = {field["name"]: avro_field_type(field) for field in fields}
            if columns is None:
                columns, types, cells = names, part_types, {n: [] for n in names}
            elif names != columns or part_types != types:
                raise ValueError(f"{path}: schema differs from the first part's ({part_types} vs {types})")
            for record in reader:
                for n in names:
                    cells[n].append(record[n])
                rows += 1
            codec = reader.codec
        if codec == "snappy":
            check_snappy_crcs(path)
    for n in columns if schema else []:
        avro_type, logical, py_type = AVRO_TYPES[schema[n]]
        if types[n] != (avro_type, logical):
            raise ValueError(f"column {n}: Avro type {types[n]}, the design says {(avro_type, logical)} for {schema[n]}")
        for i, v in enumerate(cells[n]):
            if v is not None and (type(v) is not py_type or getattr(v, "tzinfo", None) is not None):
                raise TypeError(f"column {n} row {i}: fastavro returned {v!r}, expected a naive {py_type.__name__}")
    dtypes = {n: ":".join(t for t in types[n] if t) for n in columns}
    return result(columns, dtypes, rows, cells, schema)


# ---- Parquet (pyarrow, pandas, DuckDB) ------------------------------------------------------

def parquet_metadata(path):
    """What one Parquet part says about itself (pyarrow's view of its footer)."""
    import pyarrow.parquet as pq

    f = pq.ParquetFile(path)
    meta, arrow = f.metadata, f.schema_arrow
    groups = [meta.row_group(g) for g in range(meta.num_row_groups)]
    columns = {}
    for i in range(meta.num_columns):
        column, field = f.schema.column(i), arrow.field(i)
        chunks = [g.column(i) for g in groups]
        columns[field.name] = {
            "physical_type": column.physical_type,
            "logical_type": str(column.logical_type),
            "arrow_type": str(field.type),
            "field_metadata": {k.decode(): v.decode() for k, v in (field.metadata or {}).items()},
            "compression": sorted({c.compression for c in chunks}),
            "encodings": sorted({e for c in chunks for e in c.encodings}),
            "statistics": all(c.is_stats_set for c in chunks) if chunks else None,
        }
    keys = sorted(k.decode() for k in (meta.metadata or {}))
    schema_metadata = {k.decode(): v.decode() for k, v in (arrow.metadata or {}).items() if k != b"ARROW:schema"}
    return {"columns": columns, "key_value_metadata_keys": keys, "schema_metadata": schema_metadata,
            "row_groups": [g.num_rows for g in groups], "num_rows": meta.num_rows, "created_by": meta.created_by}


def arrow_table_result(table, schema, metadata):
    columns = list(table.column_names)
    dtypes = {c: str(t) for c, t in zip(columns, table.schema.types)}
    cells = {c: table.column(c).to_pylist() for c in columns}
    out = result(columns, dtypes, table.num_rows, cells, schema)
    out["metadata"] = metadata
    return out


def pyarrow_parquet(paths, schema):
    import pyarrow as pa
    import pyarrow.parquet as pq

    tables, metadata = [], []
    for p in paths:
        t = pq.read_table(p)
        if tables and not t.schema.equals(tables[0].schema, check_metadata=True):
            raise ValueError(f"{p}: schema differs from the first part's:\n{t.schema}\nvs\n{tables[0].schema}")
        tables.append(t)
        metadata.append(parquet_metadata(p))
    return arrow_table_result(pa.concat_tables(tables), schema, metadata)


def pyarrow_dataset_parquet(paths, schema):
    import pyarrow.dataset as ds

    dataset = ds.dataset(paths[0] if len(paths) == 1 else paths, format="parquet")
    table = dataset.to_table()
    return arrow_table_result(table, schema, {"files": [f.rsplit("/", 1)[-1] for f in dataset.files]})


def pandas_parquet(paths, schema):
    import pandas as pd

    return pandas_frame_result([pd.read_parquet(p) for p in paths], schema)


def duckdb_parquet(paths, schema):
    return duckdb_result("SELECT * FROM read_parquet($paths)", {"paths": paths}, schema)


def polars_parquet(paths, schema):
    import polars as pl

    frame = pl.concat([pl.read_parquet(p) for p in paths]) if len(paths) > 1 else pl.read_parquet(paths[0])
    return arrow_table_result(frame.to_arrow(), schema, {"polars": pl.__version__})


READERS = {
    ("pandas", "csv"): pandas_csv,
    ("pandas", "jsonl"): pandas_jsonl,
    ("duckdb", "csv"): duckdb_csv,
    ("duckdb", "jsonl"): duckdb_jsonl,
    ("pandas", "dta"): pandas_dta,
    ("readstat", "dta"): readstat_dta,
    ("readstat", "sav"): readstat_sav,
    ("pspp", "sav"): pspp_sav,
    ("fastavro", "avro"): fastavro_avro,
    ("pyarrow", "parquet"): pyarrow_parquet,
    ("pyarrow-dataset", "parquet"): pyarrow_dataset_parquet,
    ("pandas", "parquet"): pandas_parquet,
    ("duckdb", "parquet"): duckdb_parquet,
    ("polars", "parquet"): polars_parquet,
}


def main(argv):
    parser = argparse.ArgumentParser(description="Read export files back with an independent reader.")
    parser.add_argument("reader")
    parser.add_argument("format")
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--schema", help='JSON object {"column": "<platform type>"} in column order, or @file holding it')
    args = parser.parse_args(argv)
    read = READERS.get((args.reader, args.format))
    if read is None:
        known = ", ".join(f"{r}/{f}" for r, f in READERS)
        print(f"read_back.py: no reader '{args.reader}' for format '{args.format}' (known: {known})", file=sys.stderr)
        return 2
    schema = None
    if args.schema:
        if args.schema.startswith("@"):  # a wide table's schema comes in a file (argv strings stop at 128 KiB)
            with open(args.schema[1:], encoding="utf-8") as f:
                schema = json.load(f)
        else:
            schema = json.loads(args.schema)
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
    code = main(sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    # The answer is out: leave without the interpreter's teardown, where pyarrow's thread pool
    # now and then aborts the process ("terminate called without an active exception",
    # SIGABRT: seen once in a full run, after the reading had succeeded).
    os._exit(code)
