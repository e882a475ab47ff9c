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
    lines: int = 0  # non-blank lines (NDJSON) or JSON objects (song files) read, quarantined ones included
    rows: int = 0  # rows sent to the table
    loaded: int = 0  # rows the server reports stored
    blank_lines: int = 0
    quarantined: int = 0  # lines or files sent to the quarantine table instead


class StagingError(ValueError):
    """Input that cannot be staged at all; the message names the file (and line)."""


class Rejected(ValueError):
    """One line or file that cannot be staged: it goes to the quarantine table with this reason."""


MAX_RAW_CHARS = 65535  # the quarantine keeps at most this much of a rejected line (Redshift's varchar limit)
_INT_RANGE = {"integer": 1 << 31, "bigint": 1 << 63}


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


def _coerce(value, data_type: str, field: str):
    """A JSON value as the column's type would store it; Rejected when it cannot be."""
    if value is None:
        return None
    if data_type in _INT_RANGE:
        if isinstance(value, bool):
            raise Rejected(f"{field}: {value!r} is not an integer")
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        elif isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value.strip())
        if not isinstance(value, int):
            raise Rejected(f"{field}: {_short(value)} is not an integer")
        if not -_INT_RANGE[data_type] <= value < _INT_RANGE[data_type]:
            raise Rejected(f"{field}: {value} is out of range for {data_type}")
        return value
    if data_type == "double precision":
        if isinstance(value, bool):
            raise Rejected(f"{field}: {value!r} is not a number")
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                raise Rejected(f"{field}: {_short(value)} is not a number") from None
        if not isinstance(value, (int, float)) or value != value or value in (float("inf"), float("-inf")):
            raise Rejected(f"{field}: {_short(value)} is not a finite number")
        return value
    if isinstance(value, str) and "\x00" in value:
        raise Rejected(f"{field}: contains a NUL character")
    return value


def _short(value) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class EventRules:
    """Rules of staging_events beyond types: every event needs ts, a NextSong needs userId, and an
    event line that repeats an earlier one (same ts, user, session, item) is a duplicate."""

    def __init__(self) -> None:
        self.seen: dict[tuple, int] = {}

    def check(self, row: dict, number: int) -> None:
        if row.get("ts") is None:
            raise Rejected("event without ts")
        if row.get("page") == "NextSong" and row.get("user_id") in (None, ""):
            raise Rejected("NextSong event without userId")
        identity = (row.get("ts"), row.get("user_id"), row.get("session_id"), row.get("item_in_session"))
        first = self.seen.setdefault(identity, number)
        if first != number:
            raise Rejected(f"duplicate of line {first} (same ts, userId, sessionId, itemInSession)")


RULES = {"staging_events": EventRules}

# What the fast path must not have let through (then the file goes line by line, where each
# such line is quarantined with its number and text).
FAST_PATH_CHECKS = {
    "staging_events": "select "
    "(select count(*) from staging_events where ts is null or (page = 'NextSong' and (user_id is null or user_id = ''))) "
    "+ (select count(*) from (select 1 from staging_events group by ts, user_id, session_id, item_in_session "
    "having count(*) > 1) as d)",
}


def _documents(data: bytes, name: str) -> Iterator[tuple[int, str, dict | None, str | None]]:
    """The JSON objects of a song file, one after another (as Redshift's COPY 'auto' reads them):
    (line number, raw text, object or None, reason it was rejected or None)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        yield 1, data.decode("utf-8", "backslashreplace"), None, f"invalid UTF-8 at byte {err.start}"
        return
    if not text.strip():
        yield 1, text, None, "empty file: no JSON object"
        return
    decoder = json.JSONDecoder()
    at = 0
    while True:
        while at < len(text) and text[at].isspace():
            at += 1
        if at >= len(text):
            return
        line = text.count("\n", 0, at) + 1
        try:
            record, end = decoder.raw_decode(text, at)
        except ValueError as err:
            yield line, text[at:], None, f"malformed JSON: {err}"
            return
        if not isinstance(record, dict):
            yield line, text[at:end], None, f"expected a JSON object, found {type(record).__name__}"
        else:
            yield line, text[at:end], record, None
        at = end


def _lines(lake, key: str, counts: StageCounts) -> Iterator[tuple[int, str, dict | None, str | None]]:
    """The non-blank lines of an NDJSON file: (line number, raw text, object or None, reason or None)."""
    for number, raw in enumerate(lake.iter_lines(key), start=1):
        if not raw.strip():
            counts.blank_lines += 1
            continue
        try:
            text = raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError as err:
            yield number, raw.decode("utf-8", "backslashreplace").rstrip("\r\n"), None, f"invalid UTF-8 at byte {err.start}"
            continue
        try:
            record = json.loads(text)
        except ValueError as err:
            yield number, text, None, f"malformed JSON: {err}"
            continue
        if not isinstance(record, dict):
            yield number, text, None, f"expected a JSON object, found {type(record).__name__}"
            continue
        yield number, text, record, None


def csv_rows(
    lake,
    keys: Iterable[str],
    *,
    columns: list[str],
    types: dict[str, str] | None = None,
    jsonpaths: list[tuple] | None,
    ndjson: bool,
    counts: StageCounts,
    rules=None,
    quarantine=None,
) -> Iterator[str]:
    """CSV lines for COPY, one per good record, columns in table order.

    A record that cannot be stored goes to ``quarantine(file, line, raw, reason)``; without a
    quarantine it raises StagingError naming the file and line.
    """
    if jsonpaths is not None and len(jsonpaths) != len(columns):
        raise StagingError(
            f"The JSONPaths file has {len(jsonpaths)} paths but the table has {len(columns)} columns; "
            "they are matched by position and must be as many."
        )
    types = types or {}
    paths = jsonpaths if jsonpaths is not None else [(c,) for c in columns]
    fields = [".".join(str(step) for step in p) for p in paths]
    for key in keys:
        name = lake.name(key)
        counts.files += 1
        items = _lines(lake, key, counts) if ndjson else _documents(lake.read_bytes(key), name)
        for number, raw, record, reason in items:
            counts.lines += 1
            if reason is None:
                try:
                    row = {c: _coerce(extract(record, p), types.get(c, "text"), f) for c, p, f in zip(columns, paths, fields, strict=True)}
                    if rules is not None:
                        rules.check(row, number)
                except Rejected as err:
                    reason = str(err)
            if reason is not None:
                if quarantine is None:
                    raise StagingError(f"{name}, line {number}: {reason}.")
                counts.quarantined += 1
                quarantine(name, number, raw, reason)
                continue
            counts.rows += 1
            yield ",".join(_csv_field(row[c]) for c in columns) + "\n"


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


class _QuarantineFile:
    """Rejected lines spooled as CSV for one COPY into the quarantine table (memory stays bounded)."""

    def __init__(self, day: str, source: str):
        import tempfile

        self.day, self.source = day, source
        self.file = tempfile.SpooledTemporaryFile(max_size=8 << 20, mode="w+b")
        self.count = 0

    def __call__(self, name: str, number: int, raw: str, reason: str) -> None:
        log.warning("Quarantined %s, line %s: %s", name, number, reason)
        fields = (self.day, self.source, name, number, raw.replace("\x00", "\\x00")[:MAX_RAW_CHARS], reason[:1024])
        self.file.write((",".join(_csv_field(v) for v in fields) + "\n").encode("utf-8"))
        self.count += 1

    def copy_into(self, cur) -> None:
        self.file.seek(0)
        cur.copy_expert("copy quarantine (day, source, file, line_number, raw, reason) from stdin with (format csv)", self.file)
        self.file.close()


def copy_to_postgres(
    conn,
    *,
    table: str,
    lake,
    keys: Iterable[str],
    jsonpaths: list[tuple] | None,
    ndjson: bool,
    day: str | None = None,
    source: str | None = None,
) -> StageCounts:
    """Replace the rows of a staging table with the records of the files, in one transaction.

    A local file whose paths are top-level fields goes the fast way (DuckDB -> CSV -> COPY,
    concurrently). A file DuckDB rejects, or whose rows break a rule of the table, goes line by
    line in Python: with ``source`` (events or songs) each bad line or file goes to the run's
    quarantine table with its file, line, text and reason; without, the first one raises
    StagingError naming the file and line.
    """
    keys = list(keys)
    counts = StageCounts()
    rules_for = RULES.get(table)
    with conn.cursor() as cur:
        types = _column_types(cur, table)
        if not types:
            raise StagingError(f"Table {table} does not exist in the warehouse; run the prepare_warehouse task first.")
        columns = list(types)
        cur.execute(f"delete from {table}")
        if source is not None:
            cur.execute("delete from quarantine where source = %s", (source,))
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
                if table in FAST_PATH_CHECKS:
                    cur.execute(FAST_PATH_CHECKS[table])
                    if cur.fetchone()[0]:
                        raise duckdb.InvalidInputException("rows that break the table's rules")
                cur.execute("release savepoint fast_copy")
            except duckdb.Error as err:
                log.warning("Fast path could not stage %s (%s); staging it line by line.", lake.name(keys[0]), err)
                cur.execute("rollback to savepoint fast_copy")
                counts = StageCounts()
                fast = False
        if not fast:
            quarantine = _QuarantineFile(day or "", source) if source is not None else None
            lines = csv_rows(
                lake, keys, columns=columns, types=types, jsonpaths=jsonpaths, ndjson=ndjson, counts=counts,
                rules=rules_for() if rules_for else None, quarantine=quarantine,
            )  # fmt: skip
            stream = _CsvStream(lines)
            try:
                cur.copy_expert(f"copy {table} ({', '.join(columns)}) from stdin with (format csv)", stream, size=CHUNK_BYTES)
            except Exception:
                if stream.error is not None:
                    raise stream.error from None  # the bad input itself, naming file and line
                raise
            counts.loaded = cur.rowcount
            if quarantine is not None and quarantine.count:
                quarantine.copy_into(cur)
        cur.execute(f"analyze {table}")  # statistics for the checks and loads that read it next
    # No commit here: the caller's transaction commits the delete, the COPY and the quarantine together.
    log.info(
        "Sent %s rows from %s file(s) to %s; the server stored %s; %s quarantined",
        counts.rows, counts.files, table, counts.loaded, counts.quarantined,
    )  # fmt: skip
    return counts
