"""Test tables of the distributed mode, written and read back by pyarrow, pandas, DuckDB,
fastavro, ReadStat and PSPP (never by this project's own code).

  tables.py write <dir> <files> <rows per file> <rows per row group> [<name>]
      Parquet files <name>-000.parquet, ... in <dir>: columns id (int64, 0..n-1 across the files in
      name order), x (float64, id / 4), s (string, "r<id>", null every 7th row), d (date32).
  tables.py write-ipc <dir> <files> <rows per file> <rows per batch> <name>
      The same as Arrow IPC files <name>-000.arrow, ... (record batches of <rows per batch>).
  tables.py checkall '[[<format>, [<path>, ...]], ...]'   (many exports in one process: a JSON list of summaries)
  tables.py check <format> <path>...
      Reads the files (the parts of one export, in order) with independent readers and prints
      JSON: rows, distinct ids, min and max id, sum of ids, ids in order?, nulls in s, and for csv
      the header count.
"""
import json
import os
import subprocess
import sys
import tempfile


def write(directory, files, rows, group, name="t", ipc=False):
    import pyarrow as pa
    import pyarrow.parquet as pq
    os.makedirs(directory, exist_ok=True)
    for f in range(files):
        start = f * rows
        ids = pa.array(range(start, start + rows), pa.int64())
        s = pa.array([None if i % 7 == 0 else f"r{i}" for i in range(start, start + rows)], pa.string())
        x = pa.array([i / 4 for i in range(start, start + rows)], pa.float64())
        d = pa.array([i % 20000 for i in range(start, start + rows)], pa.int32()).cast(pa.date32())
        table = pa.table({"id": ids, "x": x, "s": s, "d": d})
        if ipc:
            with pa.ipc.new_file(os.path.join(directory, f"{name}-{f:03d}.arrow"), table.schema) as writer:
                for batch in table.to_batches(max_chunksize=group):
                    writer.write_batch(batch)
        else:
            pq.write_table(table, os.path.join(directory, f"{name}-{f:03d}.parquet"), row_group_size=group)


def summary(ids, nulls, extra=None):
    ids = [int(i) for i in ids]
    out = {
        "rows": len(ids), "distinct": len(set(ids)), "min": min(ids) if ids else None, "max": max(ids) if ids else None,
        "sum": sum(ids), "ordered": all(ids[i] < ids[i + 1] for i in range(len(ids) - 1)), "nullS": int(nulls),
    }
    out.update(extra or {})
    return out


def check(fmt, paths):
    if fmt in ("csv", "jsonl", "parquet"):
        import duckdb
        con = duckdb.connect()
        reader = {"csv": "read_csv", "jsonl": "read_json", "parquet": "read_parquet"}[fmt]
        extra = {}
        if fmt == "csv":
            opts = ", header=true, columns={'id':'BIGINT','x':'DOUBLE','s':'VARCHAR','d':'DATE'}"
            headers = 0
            for p in paths:
                with open(p, "r", encoding="utf-8") as fh:
                    headers += sum(1 for line in fh if line.startswith("id,"))
            extra["headers"] = headers
        elif fmt == "jsonl":
            opts = ", format='newline_delimited'"
        else:
            opts = ""
        rel = con.sql(f"select id, s from {reader}({json.dumps(list(paths)).replace(chr(34), chr(39))}{opts})")
        rows = rel.fetchall()
        # pandas as a second reader for the row count.
        import pandas as pd
        if fmt == "parquet":
            extra["pandasRows"] = sum(len(pd.read_parquet(p)) for p in paths)
        elif fmt == "csv":
            extra["pandasRows"] = sum(len(pd.read_csv(p)) for p in paths)
        else:
            extra["pandasRows"] = sum(len(pd.read_json(p, lines=True)) for p in paths)
        return summary([r[0] for r in rows], sum(1 for r in rows if r[1] is None), extra)
    if fmt == "avro":
        import fastavro
        ids, nulls = [], 0
        for p in paths:
            with open(p, "rb") as fh:
                for rec in fastavro.reader(fh):
                    ids.append(rec["id"])
                    nulls += rec["s"] is None
        return summary(ids, nulls)
    if fmt == "dta":
        import pandas as pd
        frame = pd.concat([pd.read_stata(p) for p in paths])
        nulls = int((frame["s"] == "").sum())
        out = subprocess.run(["readstat", paths[0]], capture_output=True, check=True).stdout.decode()
        count = [line for line in out.splitlines() if line.startswith("Rows:")]
        return summary(frame["id"].tolist(), nulls, {"readstatRows": int(count[0].split(":")[1]) if count else None})
    if fmt == "sav":
        ids, nulls = [], 0
        with tempfile.TemporaryDirectory() as tmp:
            for p in paths:
                target = os.path.join(tmp, "out.csv")
                subprocess.run(["pspp-convert", p, target], capture_output=True, check=True)
                import csv
                with open(target, newline="", encoding="utf-8") as fh:
                    r = csv.DictReader(fh)
                    for row in r:
                        ids.append(int(float(row["id"])))
                        nulls += row["s"].strip() == ""
        out = subprocess.run(["readstat", paths[0]], capture_output=True, check=True).stdout.decode()
        count = [line for line in out.splitlines() if line.startswith("Rows:")]
        return summary(ids, nulls, {"readstatRows": int(count[0].split(":")[1]) if count else None})
    raise SystemExit(f"unknown format {fmt}")


if __name__ == "__main__":
    if sys.argv[1] == "write":
        write(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), *(sys.argv[6:7]))
    elif sys.argv[1] == "write-ipc":
        write(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6], ipc=True)
    elif sys.argv[1] == "checkall":
        print(json.dumps([check(fmt, paths) for fmt, paths in json.loads(sys.argv[2])]))
    else:
        print(json.dumps(check(sys.argv[2], sys.argv[3:])))
