"""The fast path for local files: DuckDB parses the JSON and writes CSV into a pipe that COPY
reads at the same time (both run at once, memory stays bounded).

``stage_fast`` returns None when the path does not apply or the input needs the line-by-line path
(a file DuckDB refuses, or rows that break a staging rule); the caller then stages line by line.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

from sparkify.staging.records import CHUNK_BYTES, StageCounts
from sparkify.warehouse.connection import copy_in
from sparkify.warehouse.scripts import sql_file

if TYPE_CHECKING:
    from sparkify.lake import LocalLake

log = logging.getLogger(__name__)

_DUCKDB_TYPES = {"bigint": "BIGINT", "integer": "INTEGER", "double precision": "DOUBLE", "text": "VARCHAR"}
MAX_LINE_BYTES = 16 << 20
FAST_BATCH_FILES = 2000


def fast_plan(columns: list[str], types: dict[str, str], jsonpaths: list[tuple] | None):
    """The JSON field read for each column, when every path is one top-level field; else None."""
    paths = jsonpaths if jsonpaths is not None else [(c,) for c in columns]
    if len(paths) != len(columns) or any(len(p) != 1 or not isinstance(p[0], str) for p in paths):
        return None
    if any(types.get(c) not in _DUCKDB_TYPES for c in columns):
        return None
    fields: dict[str, str] = {}
    for column, (name,) in zip(columns, paths, strict=True):
        wanted = _DUCKDB_TYPES[types[column]]
        if fields.setdefault(name, wanted) != wanted:
            return None
    return [p[0] for p in paths], fields


def line_counts(path: str) -> tuple[int, int]:
    """(non-blank lines, blank lines) of a file, as the line-by-line path counts them."""
    lines = blank = 0
    with open(path, "rb") as handle:
        for line in handle:
            lines += 1
            blank += not line.strip()
    return lines - blank, blank


def copy_json_fast(cur, *, table: str, columns: list[str], plan, paths: list[str]) -> int:
    """DuckDB parses the file and writes CSV into a pipe that COPY reads at the same time.

    Both run at once (DuckDB releases the GIL), memory stays bounded, and a file DuckDB cannot
    read raises DuckDBError so the caller can fall back to the line-by-line path.
    """
    import tempfile
    import threading

    import duckdb

    selected, fields = plan
    with tempfile.TemporaryDirectory(prefix="sparkify-stage-") as folder:
        fifo = os.path.join(folder, "rows.csv")
        os.mkfifo(fifo)
        errors: list[BaseException] = []

        def produce() -> None:
            db = None
            try:
                db = duckdb.connect()
                # Spills go to this call's temporary folder, not DuckDB's default (.tmp in the working directory).
                db.execute(f"set memory_limit='128MB'; set threads=2; set preserve_insertion_order=false; set temp_directory='{folder}'")
                spec = "{" + ", ".join(f"'{f}': '{t}'" for f, t in fields.items()) + "}"
                select = ", ".join('"' + f.replace('"', '""') + '"' for f in selected)
                db.execute(
                    f"copy (select {select} from read_json(?, format='newline_delimited', columns={spec}, "
                    f"maximum_object_size={MAX_LINE_BYTES})) to '{fifo}' (format csv, header false)",
                    [paths],
                )
            except BaseException as err:  # handed to the reading thread below
                errors.append(err)
                # If DuckDB failed before opening the pipe, the reader still waits in open():
                # open it here to give that reader its end of file. Non-blocking, because when
                # the reader has already seen end of file, a blocking open would wait forever.
                try:
                    os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
                except OSError:
                    pass
            finally:
                if db is not None:
                    db.close()

        producer = threading.Thread(target=produce, name="duckdb-csv", daemon=True)
        producer.start()
        with open(fifo, "rb") as stream:
            stored = copy_in(cur, f"copy {table} ({', '.join(columns)}) from stdin with (format csv)", stream, size=CHUNK_BYTES)
        producer.join()
        if errors:
            raise errors[0]
        return stored


def stage_fast(cur, *, table: str, columns: list[str], types: dict[str, str], lake: LocalLake, keys: list[str], jsonpaths, ndjson: bool):
    """Stage local files through DuckDB; the counts, or None when the line-by-line path must do it.

    Runs inside a savepoint: when it gives up, nothing it sent stays in the table.
    """
    import duckdb

    plan = fast_plan(columns, types, jsonpaths)
    local = [lake.local_path(key) for key in keys] if plan else []
    if not local:
        return None
    cur.execute("savepoint fast_copy")
    try:
        # Many small files (song_data) go in batches: DuckDB's memory grows with files per query.
        batches = [local[i : i + FAST_BATCH_FILES] for i in range(0, len(local), FAST_BATCH_FILES)]
        rows = sum(copy_json_fast(cur, table=table, columns=columns, plan=plan, paths=batch) for batch in batches)
    except duckdb.Error as err:
        return _give_up(cur, lake.name(keys[0]), f"DuckDB cannot read it: {err}")
    counts = StageCounts(files=len(local), rows=rows, loaded=rows)
    # One object per file in the document format; else the file's non-blank lines.
    if ndjson:
        for path in local:
            lines, blank = line_counts(path)
            counts.lines += lines
            counts.blank_lines += blank
    else:
        counts.lines = len(local)
    if not ndjson and rows != len(local):
        return _give_up(cur, lake.name(keys[0]), f"{rows} records in {len(local)} one-object files")
    if table == "staging_events":
        cur.execute(sql_file("staging/fast_path_check.sql"))
        broken = cur.fetchone()[0]
        if broken:
            return _give_up(cur, lake.name(keys[0]), f"{broken} row(s) break the staging rules")
    cur.execute("release savepoint fast_copy")
    return counts


def _give_up(cur, name: str, why: str) -> None:
    log.warning("Fast path could not stage %s (%s); staging it line by line.", name, why)
    cur.execute("rollback to savepoint fast_copy")
    return None
