"""Stream JSON from the lake into a PostgreSQL staging table with COPY ... FROM STDIN.

Each record is mapped to the table's columns (by a JSONPaths file, in column order, as
Redshift's COPY does; or by column name, like Redshift's 'auto'), turned into CSV and streamed
to the server: the file is never held in memory and no row is inserted one by one.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

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
    nextsong: int = 0
    per_file: dict[str, int] = field(default_factory=dict)


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
        counts.per_file[name] = 1
        yield 1, record
        return
    seen = 0
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
        seen += 1
        counts.lines += 1
        yield number, record
    counts.per_file[name] = seen


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
            if record.get("page") == "NextSong":
                counts.nextsong += 1
            counts.rows += 1
            yield ",".join(_csv_field(extract(record, p)) for p in paths) + "\n"


class _CsvStream:
    """A read()-able file object over an iterator of CSV lines, for cursor.copy_expert."""

    def __init__(self, lines: Iterator[str]):
        self._lines = lines
        self._buffer = b""

    def read(self, size: int = -1) -> bytes:
        want = CHUNK_BYTES if size is None or size < 0 else size
        parts = [self._buffer]
        have = len(self._buffer)
        for line in self._lines:
            encoded = line.encode("utf-8")
            parts.append(encoded)
            have += len(encoded)
            if have >= want:
                break
        data = b"".join(parts)
        self._buffer = data[want:]
        return data[:want]

    readline = read


def table_columns(cursor, table: str) -> list[str]:
    cursor.execute(
        "select column_name from information_schema.columns "
        "where table_schema = current_schema() and table_name = %s order by ordinal_position",
        (table,),
    )
    columns = [row[0] for row in cursor.fetchall()]
    if not columns:
        raise StagingError(f"Table {table} does not exist in the warehouse; run the prepare_warehouse task first.")
    return columns


def copy_to_postgres(conn, *, table: str, lake, keys: Iterable[str], jsonpaths: list[tuple] | None, ndjson: bool) -> StageCounts:
    """Replace the rows of a staging table with the records of the files, in one transaction."""
    counts = StageCounts()
    with conn.cursor() as cur:
        columns = table_columns(cur, table)
        cur.execute(f"delete from {table}")
        column_list = ", ".join(columns)
        stream = _CsvStream(csv_rows(lake, keys, columns=columns, jsonpaths=jsonpaths, ndjson=ndjson, counts=counts))
        cur.copy_expert(f"copy {table} ({column_list}) from stdin with (format csv)", stream, size=CHUNK_BYTES)
        counts.loaded = cur.rowcount
    # No commit here: the caller's transaction commits the delete and the COPY together.
    log.info("Sent %s rows from %s file(s) to %s; the server stored %s", counts.rows, counts.files, table, counts.loaded)
    return counts
