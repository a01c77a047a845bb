"""Reference writers timed on the same table in the same run, so that our figures can be
compared side by side on a shared machine rather than against a figure from another day.

Usage: .venv/bin/python bench/reference.py <table.arrows> <iterations> <out-dir>

Reads the Arrow IPC stream into memory (not timed), then times each writer writing the whole
table to a file in <out-dir>, single-threaded (DuckDB `SET threads=1`, pyarrow with one CPU and
one I/O thread). Prints one JSON object per writer: name, format, median/min/max seconds,
rows, output bytes.
"""
import json
import os
import statistics
import sys
import time

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.ipc as ipc
import pyarrow.parquet as pq


def main() -> None:
    path, iterations, out_dir = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    pa.set_cpu_count(1)
    pa.set_io_thread_count(1)
    with pa.memory_map(path) as source:
        table = ipc.open_stream(source).read_all()
    con = duckdb.connect()
    con.execute("SET threads = 1")
    con.register("t", table)

    def duckdb_copy(options: str):
        return lambda target: con.execute(f"COPY t TO '{target}' ({options})")

    writers = [
        ("DuckDB", "csv", duckdb_copy("FORMAT csv, HEADER true")),
        ("pyarrow", "csv", lambda target: pacsv.write_csv(table, target)),
        ("DuckDB", "parquet", duckdb_copy("FORMAT parquet, COMPRESSION snappy")),
        ("pyarrow", "parquet", lambda target: pq.write_table(table, target, compression="snappy")),
    ]
    for name, fmt, write in writers:
        target = os.path.join(out_dir, f"{name}.{fmt}")
        write(target)  # warm-up
        times = []
        for _ in range(iterations):
            os.remove(target)
            started = time.perf_counter()
            write(target)
            times.append(time.perf_counter() - started)
        size = os.path.getsize(target)
        os.remove(target)
        print(json.dumps({
            "writer": name, "format": fmt, "rows": table.num_rows, "size": size,
            "medianS": statistics.median(times), "minS": min(times), "maxS": max(times),
        }), flush=True)


if __name__ == "__main__":
    main()
