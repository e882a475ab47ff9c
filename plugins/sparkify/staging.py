"""Stream JSON from the lake into a PostgreSQL staging table with COPY ... FROM STDIN.

Each record is mapped to the table's columns (by a JSONPaths file, in column order, as
Redshift's COPY does; or by column name, like Redshift's 'auto'), turned into CSV and streamed
to the server: the file is never held in memory and no row is inserted one by one.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from sparkify.lake import extract

log = logging.getLogger(__name__)

CHUNK_BYTES = 1 << 20


@dataclass
class StageCounts:
    files: int = 0
    lines: int = 0  # non-blank lines (NDJSON) or documents (one-object files) read
    rows: int = 0  # rows sent to the table
    loaded: int = 0  # rows the server reports stored (the GX staged-count check compares)
    blank_lines: int = 0


class StagingError(ValueError):
    """Input that cannot be staged; the message names the file and line."""


def _csv_field(value) -> str:
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (dict, list)):
        value = json.dumps(value, ensure_ascii=False)
    return '"' + value.replace('"', '""') + '"'


def _records(lake, key: str, *, ndjson: bool, counts: StageCounts) -> Iterator[tuple[int, dict]]:
    """(line number, record) pairs of one lake file."""
    name = lake.name(key)
    counts.files += 1
    if not ndjson:
        try:
            record = json.loads(lake.read_bytes(key))
        except ValueError as err:
            raise StagingError(f"{name}: not one JSON document ({err}).") from err
        if not isinstance(record, dict):
            raise StagingError(f"{name}: expected one JSON object, found {type(record).__name__}.")
        counts.lines += 1
        yield 1, record
        return
    for number, raw in enumerate(lake.iter_lines(key), start=1):
        if not raw.strip():
            counts.blank_lines += 1
            continue
        try:
            record = json.loads(raw)
        except ValueError as err:
            raise StagingError(f"{name}, line {number}: not valid JSON ({err}).") from err
        if not isinstance(record, dict):
            raise StagingError(f"{name}, line {number}: expected a JSON object.")
        counts.lines += 1
        yield number, record


def csv_rows(
    lake, keys: Iterable[str], *, columns: list[str], jsonpaths: list[tuple] | None, ndjson: bool, counts: StageCounts
) -> Iterator[str]:
    """CSV lines for COPY, one per record, columns in table order."""
    if jsonpaths is not None and len(jsonpaths) != len(columns):
        raise StagingError(
            f"The JSONPaths file has {len(jsonpaths)} paths but the table has {len(columns)} columns; "
            "they are matched by position and must be as many."
        )
    paths = jsonpaths if jsonpaths is not None else [(c,) for c in columns]
    for key in keys:
        for _, record in _records(lake, key, ndjson=ndjson, counts=counts):
            counts.rows += 1
            yield ",".join(_csv_field(extract(record, p)) for p in paths) + "\n"


class _CsvStream:
    """A read()-able file object over an iterator of CSV lines, for cursor.copy_expert."""

    def __init__(self, lines: Iterator[str]):
        self._lines = lines
        self._buffer = b""
        self.error: BaseException | None = None  # psycopg2 reports a read() error as its own

    def read(self, size: int = -1) -> bytes:
        want = CHUNK_BYTES if size is None or size < 0 else size
        parts = [self._buffer]
        have = len(self._buffer)
        try:
            for line in self._lines:
                encoded = line.encode("utf-8")
                parts.append(encoded)
                have += len(encoded)
                if have >= want:
                    break
        except BaseException as err:
            self.error = err
            raise
        data = b"".join(parts)
        self._buffer = data[want:]
        return data[:want]

    readline = read


_DUCKDB_TYPES = {"bigint": "BIGINT", "integer": "INTEGER", "double precision": "DOUBLE", "text": "VARCHAR"}
MAX_LINE_BYTES = 16 << 20
FAST_BATCH_FILES = 2000


def _column_types(cursor, table: str) -> dict[str, str]:
    cursor.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = current_schema() and table_name = %s order by ordinal_position",
        (table,),
    )
    return dict(cursor.fetchall())


def _fast_plan(columns: list[str], types: dict[str, str], jsonpaths: list[tuple] | None):
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


def _nonblank_lines(path: str) -> int:
    with open(path, "rb") as handle:
        return sum(1 for line in handle if not line.isspace())


def _copy_json_fast(cur, *, table: str, columns: list[str], plan, paths: list[str]) -> int:
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
                db.execute("set memory_limit='160MB'; set threads=2; set preserve_insertion_order=false")
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
            cur.copy_expert(f"copy {table} ({', '.join(columns)}) from stdin with (format csv)", stream, size=CHUNK_BYTES)
        producer.join()
        if errors:
            raise errors[0]
        return cur.rowcount


def copy_to_postgres(conn, *, table: str, lake, keys: Iterable[str], jsonpaths: list[tuple] | None, ndjson: bool) -> StageCounts:
    """Replace the rows of a staging table with the records of the files, in one transaction.

    A local NDJSON file whose paths are top-level fields goes the fast way (DuckDB -> CSV ->
    COPY, concurrently); anything else, or a file DuckDB rejects, goes line by line in Python,
    whose errors name the file and line.
    """
    keys = list(keys)
    counts = StageCounts()
    with conn.cursor() as cur:
        types = _column_types(cur, table)
        if not types:
            raise StagingError(f"Table {table} does not exist in the warehouse; run the prepare_warehouse task first.")
        columns = list(types)
        cur.execute(f"delete from {table}")
        plan = _fast_plan(columns, types, jsonpaths)
        local = [lake.local_path(key) for key in keys] if plan else []
        fast = bool(local) and all(local)
        if fast:
            import duckdb

            cur.execute("savepoint fast_copy")
            try:
                # Many small files (song_data) go in batches: DuckDB's memory grows with files per query.
                batches = [local[i : i + FAST_BATCH_FILES] for i in range(0, len(local), FAST_BATCH_FILES)]
                counts.loaded = counts.rows = sum(
                    _copy_json_fast(cur, table=table, columns=columns, plan=plan, paths=batch) for batch in batches
                )
                counts.files = len(local)
                # One object per file in the document format; else the file's non-blank lines.
                counts.lines = sum(_nonblank_lines(p) for p in local) if ndjson else len(local)
                if not ndjson and counts.rows != len(local):
                    raise duckdb.InvalidInputException(f"{counts.rows} records in {len(local)} one-object files")
                cur.execute("release savepoint fast_copy")
            except duckdb.Error as err:
                log.warning("Fast path could not read %s (%s); staging it line by line.", lake.name(keys[0]), err)
                cur.execute("rollback to savepoint fast_copy")
                counts = StageCounts()
                fast = False
        if not fast:
            stream = _CsvStream(csv_rows(lake, keys, columns=columns, jsonpaths=jsonpaths, ndjson=ndjson, counts=counts))
            try:
                cur.copy_expert(f"copy {table} ({', '.join(columns)}) from stdin with (format csv)", stream, size=CHUNK_BYTES)
            except Exception:
                if stream.error is not None:
                    raise stream.error from None  # the bad input itself, naming file and line
                raise
            counts.loaded = cur.rowcount
    # No commit here: the caller's transaction commits the delete and the COPY together.
    log.info("Sent %s rows from %s file(s) to %s; the server stored %s", counts.rows, counts.files, table, counts.loaded)
    return counts
