"""Staging: JSON from the lake into a run's staging table, behind one call (``stage``) for
both dialects.

PostgreSQL (``copy_to_postgres``): COPY ... FROM STDIN. Each record is mapped to the table's
columns (by a JSONPaths file, in column order, as Redshift's COPY does; or by column name, like
Redshift's 'auto'), turned into CSV and streamed to the server: no file is held in memory and no
row is inserted one by one.

- ``records``: pure parsing, coercion, the staging rules and CSV lines (no database);
- ``fast_path``: local files through DuckDB into the COPY stream;
- ``quarantine``: lines that cannot be staged, kept with file, line, text and reason;
- ``fields``: the census of the records' top-level JSON fields (for validate_lake_fields);
- ``catalog``: the song catalog's manifest (only new or changed song files are staged).

Redshift (``redshift``): its own COPY from S3; the lines it rejects go to the same quarantine.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sparkify.staging.records import CHUNK_BYTES, RULES, CsvStream, StageCounts, StagingError, csv_rows
from sparkify.warehouse.connection import copy_in

if TYPE_CHECKING:
    from sparkify.lake import Lake, LocalLake

log = logging.getLogger(__name__)

__all__ = ["StageCounts", "StageRequest", "StagingError", "copy_to_postgres", "stage"]


@dataclass(frozen=True)
class StageRequest:
    """What one staging task copies: which files of the lake, read how, into which table.

    ``key`` is the task's file or prefix and ``keys`` the files to stage (a prefix's files, or
    only the catalog's new or changed ones with ``only_keys``); ``jsonpaths`` is the parsed
    JSONPaths file named by ``jsonpaths_key`` (None: columns by name); ``source`` names the
    quarantine rows (events or songs).
    """

    table: str
    lake: Lake
    key: str
    keys: list[str]
    ndjson: bool
    day: str
    source: str
    jsonpaths_key: str | None = None
    jsonpaths: list[tuple] | None = None
    aws_conn_id: str | None = None
    only_keys: bool = False


def stage(conn, dialect: str, request: StageRequest) -> StageCounts:
    """Replace the staging table with the request's records, on the caller's transaction, with
    the dialect's stager: Redshift's COPY from S3, or PostgreSQL's COPY FROM STDIN."""
    if dialect == "redshift":
        from sparkify.staging.redshift import copy_to_redshift

        return copy_to_redshift(conn, request)
    return copy_to_postgres(
        conn,
        table=request.table,
        lake=request.lake,
        keys=request.keys,
        jsonpaths=request.jsonpaths,
        ndjson=request.ndjson,
        day=request.day,
        source=request.source,
    )


def column_types(cursor, table: str) -> dict[str, str]:
    """The table's columns (in order) and their types, in the session's current schema."""
    cursor.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = current_schema() and table_name = %s order by ordinal_position",
        (table,),
    )
    return dict(cursor.fetchall())


def copy_to_postgres(
    conn,
    *,
    table: str,
    lake: Lake,
    keys: Iterable[str],
    jsonpaths: list[tuple] | None,
    ndjson: bool,
    day: str | None = None,
    source: str | None = None,
) -> StageCounts:
    """Replace the rows of a staging table with the records of the files, on the caller's transaction.

    Files (local, or S3 objects downloaded first) whose paths are top-level fields go the fast way (``fast_path``); anything else,
    and anything the fast path gives up on, goes line by line. With ``source`` (events or songs)
    each bad line or file goes to the run's quarantine with its file, line, text and reason;
    without, the first one raises StagingError naming the file and line.
    """
    from sparkify.staging.fast_path import stage_fast

    keys = list(keys)
    with conn.cursor() as cur:
        types = column_types(cur, table)
        if not types:
            raise StagingError(f"Table {table} does not exist in the warehouse; run the prepare_warehouse task first.")
        columns = list(types)
        cur.execute(f"delete from {table}")
        if source is not None:
            cur.execute("delete from quarantine where source = %s", (source,))
        # S3 objects are downloaded to a temporary folder first (streamed to disk): both paths then
        # read local files, and errors and the quarantine still name the s3:// objects.
        with lake.readable(keys) as readable:
            counts = stage_fast(
                cur, table=table, columns=columns, types=types, lake=readable, keys=keys, jsonpaths=jsonpaths, ndjson=ndjson
            )
            if counts is None:
                counts = stage_line_by_line(
                    cur,
                    table=table,
                    columns=columns,
                    types=types,
                    lake=readable,
                    keys=keys,
                    jsonpaths=jsonpaths,
                    ndjson=ndjson,
                    day=day,
                    source=source,
                )
        cur.execute(f"analyze {table}")  # statistics for the checks and loads that read it next
    # No commit here: the caller's transaction commits the delete, the COPY and the quarantine together.
    log.info(
        "Sent %s rows from %s file(s) to %s; the server stored %s; %s quarantined",
        counts.rows,
        counts.files,
        table,
        counts.loaded,
        counts.quarantined,
    )
    return counts


def stage_line_by_line(
    cur,
    *,
    table: str,
    columns: list[str],
    types: dict[str, str],
    lake: LocalLake,
    keys: list[str],
    jsonpaths,
    ndjson: bool,
    day: str | None,
    source: str | None,
) -> StageCounts:
    """Every line parsed and checked in Python, streamed to COPY; rejected lines to the quarantine."""
    from sparkify.staging.quarantine import QuarantineFile

    counts = StageCounts()
    rules = RULES.get(table)
    quarantine = QuarantineFile(day or "", source) if source is not None else None
    lines = csv_rows(
        lake,
        keys,
        columns=columns,
        types=types,
        jsonpaths=jsonpaths,
        ndjson=ndjson,
        counts=counts,
        rules=rules() if rules else None,
        quarantine=quarantine,
    )
    stream = CsvStream(lines)
    try:
        try:
            counts.loaded = copy_in(cur, f"copy {table} ({', '.join(columns)}) from stdin with (format csv)", stream, size=CHUNK_BYTES)
        except Exception:
            if stream.error is not None:
                raise stream.error from None  # the bad input itself, naming file and line
            raise
        if quarantine is not None and quarantine.count:
            quarantine.copy_into(cur)
    finally:
        if quarantine is not None:
            quarantine.close()
    return counts
