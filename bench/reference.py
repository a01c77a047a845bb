"""Reference writers timed on the same table in the same run, so that our figures can be
compared side by side on a shared machine rather than against a figure from another day.

Usage: .venv/bin/python bench/reference.py <table.arrow[s]> <iterations> <out-dir>
           [--threads 1|all] [--formats csv,jsonl,parquet[,avro]] [--serve]

Reads the Arrow IPC stream or file into memory (not timed; read, not memory-mapped), makes a
DuckDB table and a polars DataFrame of it (not timed), then times each writer writing the whole
table to a file in <out-dir>:

  csv      DuckDB COPY (FORMAT csv, HEADER true), pyarrow.csv.write_csv, polars write_csv
  jsonl    DuckDB COPY (FORMAT json), polars write_ndjson (pyarrow writes no JSON)
  parquet  DuckDB COPY (FORMAT parquet, COMPRESSION snappy), pq.write_table(compression=snappy),
           polars write_parquet(compression=snappy)
  avro     polars write_avro(compression=deflate) (our default codec; DuckDB and pyarrow write
           no Avro). Only when --formats names it: polars' deflate is very slow here (500,000
           rows: 4.7 s, against 0.2 s uncompressed and 0.24 s snappy; 5,000,000 rows: ~60 s and
           3.5 GB peak RSS), so it is left out of the default runs.

--threads 1 (the default): DuckDB `SET threads=1`, pyarrow with one CPU and one I/O thread,
polars with POLARS_MAX_THREADS=1 (set before polars is imported: that is why each thread setting
needs a process of its own). --threads all: every library's defaults (all cores).

DuckDB writes from its own in-memory table (CREATE TABLE t AS SELECT * FROM the Arrow table),
polars from a DataFrame made with pl.from_arrow, pyarrow from the Arrow table itself.

Without --serve: each writer once as a warm-up, then <iterations> timed runs; prints one JSON
object per writer (writer, format, threads, median/min/max seconds, rows, output bytes, peak RSS
of the process during that writer's runs, and the RSS before them).

With --serve: prints {"ready": ...} once the table is loaded, then reads one JSON request per
line on stdin ({"writer": "DuckDB", "format": "csv"}), writes once, and answers one JSON line
(seconds, size, peakRss); ends at EOF. bench/cli-compare.mjs uses it to alternate the peers'
runs with the CLI's.

Peak RSS per writer: writing 5 to /proc/self/clear_refs resets VmHWM (Linux), so each writer's
figure is its own (it includes the table, held in all three libraries' forms).
"""
import argparse
import json
import os
import statistics
import sys
import time

ARGS = argparse.ArgumentParser()
ARGS.add_argument("table")
ARGS.add_argument("iterations", type=int)
ARGS.add_argument("out_dir")
ARGS.add_argument("--threads", choices=["1", "all"], default="1")
ARGS.add_argument("--formats", default="csv,jsonl,parquet")
ARGS.add_argument("--serve", action="store_true")
OPTS = ARGS.parse_args()
if OPTS.threads == "1":
    # polars reads its thread count once, when it is imported.
    os.environ["POLARS_MAX_THREADS"] = "1"

import duckdb  # noqa: E402
import polars as pl  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.csv as pacsv  # noqa: E402
import pyarrow.ipc as ipc  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402


def status_kb(key: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    return 0


def reset_peak() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def read_table(path: str) -> pa.Table:
    with open(path, "rb") as f:
        is_file = f.read(6) == b"ARROW1"
    with pa.OSFile(path) as source:
        reader = ipc.open_file(source) if is_file else ipc.open_stream(source)
        return reader.read_all()


def main() -> None:
    if OPTS.threads == "1":
        pa.set_cpu_count(1)
        pa.set_io_thread_count(1)
    table = read_table(OPTS.table)
    con = duckdb.connect()
    if OPTS.threads == "1":
        con.execute("SET threads = 1")
    con.register("arrow_table", table)
    con.execute("CREATE TABLE t AS SELECT * FROM arrow_table")
    con.unregister("arrow_table")
    frame = pl.from_arrow(table)
    threads = {
        "DuckDB": con.execute("SELECT current_setting('threads')").fetchone()[0],
        "pyarrow": pa.cpu_count(),
        "polars": pl.thread_pool_size(),
    }

    def duckdb_copy(options: str):
        return lambda target: con.execute(f"COPY t TO '{target}' ({options})")

    writers = {
        ("DuckDB", "csv"): duckdb_copy("FORMAT csv, HEADER true"),
        ("pyarrow", "csv"): lambda target: pacsv.write_csv(table, target),
        ("polars", "csv"): lambda target: frame.write_csv(target),
        ("DuckDB", "jsonl"): duckdb_copy("FORMAT json"),
        ("polars", "jsonl"): lambda target: frame.write_ndjson(target),
        ("DuckDB", "parquet"): duckdb_copy("FORMAT parquet, COMPRESSION snappy"),
        ("pyarrow", "parquet"): lambda target: pq.write_table(table, target, compression="snappy"),
        ("polars", "parquet"): lambda target: frame.write_parquet(target, compression="snappy"),
        ("polars", "avro"): lambda target: frame.write_avro(target, compression="deflate"),
    }
    formats = OPTS.formats.split(",")

    def target_of(name: str, fmt: str) -> str:
        return os.path.join(OPTS.out_dir, f"{name}-{OPTS.threads}.{fmt}")

    def timed(write, target: str) -> float:
        if os.path.exists(target):
            os.remove(target)
        started = time.perf_counter()
        write(target)
        return time.perf_counter() - started

    if OPTS.serve:
        print(json.dumps({
            "ready": True, "rows": table.num_rows, "threads": OPTS.threads, "threadCounts": threads,
            "rss": status_kb("VmRSS"),
            "writers": [{"writer": n, "format": f} for (n, f) in writers if f in formats],
        }), flush=True)
        for line in sys.stdin:
            if not line.strip():
                continue
            req = json.loads(line)
            write = writers[(req["writer"], req["format"])]
            target = target_of(req["writer"], req["format"])
            reset_peak()
            seconds = timed(write, target)
            size = os.path.getsize(target)
            os.remove(target)
            print(json.dumps({
                "writer": req["writer"], "format": req["format"], "threads": OPTS.threads,
                "seconds": seconds, "size": size, "peakRss": status_kb("VmHWM"),
            }), flush=True)
        return

    for (name, fmt), write in writers.items():
        if fmt not in formats:
            continue
        target = target_of(name, fmt)
        reset_peak()
        base_rss = status_kb("VmRSS")
        timed(write, target)  # warm-up
        times = [timed(write, target) for _ in range(OPTS.iterations)]
        size = os.path.getsize(target)
        os.remove(target)
        print(json.dumps({
            "writer": name, "format": fmt, "threads": OPTS.threads, "threadCount": threads[name],
            "rows": table.num_rows, "size": size,
            "medianS": statistics.median(times), "minS": min(times), "maxS": max(times),
            "peakRss": status_kb("VmHWM"), "baseRss": base_rss,
        }), flush=True)


if __name__ == "__main__":
    main()
    sys.stdout.flush()
    # Leave without interpreter teardown: pyarrow's and polars' thread pools have aborted a
    # Python process at exit before (see test/readers/read_back.py).
    os._exit(0)
