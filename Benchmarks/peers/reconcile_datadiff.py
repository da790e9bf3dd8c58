"""data-diff (0.11.2) on the tables reconcile-load wrote: the legacy table against the store's resources.

    python reconcile_datadiff.py postgres postgresql://user@host:port LEGACY_DB STORE_DB
    python reconcile_datadiff.py duckdb FOLDER

data-diff has no SQLite driver and DuckDB cannot load its SQLite extension offline, so for the SQLite
run both tables are first copied into one DuckDB file (not timed); the diff is timed alone. Prints the
time and how many rows differ (an altered record is a row on each side).
"""
import sqlite3
import sys
import time

from data_diff import connect_to_table, diff_tables


def run(left, right):
    start = time.perf_counter()
    differences = list(diff_tables(left, right, bisection_factor=32, bisection_threshold=16384))
    seconds = time.perf_counter() - start
    minus = sum(1 for sign, _ in differences if sign == "-")
    plus = sum(1 for sign, _ in differences if sign == "+")
    print(f"data-diff: {seconds:.2f} s; {len(differences)} rows differ ({minus} only or changed in the legacy "
          f"table, {plus} only or changed in the store)", flush=True)


def postgres(server, legacy, store):
    left = connect_to_table(f"{server}/{legacy}", "records", "id", extra_columns=("hash",))
    right = connect_to_table(f"{server}/{store}", "resource", "id", extra_columns=("hash",),
                             where="type = 'Observation' AND deleted = 0")
    run(left, right)


def duckdb_copy(folder):
    import duckdb

    path = f"{folder}/diff.duckdb"
    connection = duckdb.connect(path)
    connection.execute("DROP TABLE IF EXISTS records; DROP TABLE IF EXISTS resource")
    connection.execute("CREATE TABLE records (id VARCHAR PRIMARY KEY, hash VARCHAR)")
    connection.execute("CREATE TABLE resource (id VARCHAR PRIMARY KEY, hash VARCHAR)")
    for file, sql, table in [
        ("legacy.db", "SELECT id, hash FROM records", "records"),
        ("store.sqlite", "SELECT id, hash FROM resource WHERE type = 'Observation' AND deleted = 0", "resource"),
    ]:
        rows = sqlite3.connect(f"{folder}/{file}").execute(sql).fetchall()
        connection.executemany(f"INSERT INTO {table} VALUES (?, ?)", rows) if len(rows) < 1000 else None
        if len(rows) >= 1000:
            import pandas as pd

            frame = pd.DataFrame(rows, columns=["id", "hash"])
            connection.register("frame", frame)
            connection.execute(f"INSERT INTO {table} SELECT * FROM frame")
            connection.unregister("frame")
    connection.close()
    left = connect_to_table(f"duckdb://{path}", "records", "id", extra_columns=("hash",))
    right = connect_to_table(f"duckdb://{path}", "resource", "id", extra_columns=("hash",))
    run(left, right)


if __name__ == "__main__":
    if sys.argv[1] == "postgres":
        postgres(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        duckdb_copy(sys.argv[2])
