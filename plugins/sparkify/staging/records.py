"""Pure record handling for staging: JSON lines and song documents to typed CSV rows.

No database here: parsing, type coercion to the column's type, the staging rules of events, and
the CSV lines COPY reads. A line that cannot be stored is Rejected with its reason (it goes to
the quarantine) or, without a quarantine, raises StagingError naming the file and line.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sparkify.lake import extract

if TYPE_CHECKING:
    from sparkify.lake import Lake

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


_INT_RANGE = {"integer": 1 << 31, "bigint": 1 << 63}


def csv_field(value) -> str:
    """One field of PostgreSQL's CSV: NULL unquoted and empty, every string quoted (so an empty
    string stays an empty string). Not csv.writer: on Python 3.11 it writes None and "" alike
    (QUOTE_NOTNULL, which would tell them apart, arrives in 3.12)."""
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


def coerce(value, data_type: str, field: str):
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


# The rules of each staging table beyond types (the same rules in SQL: sql/staging/event_rules.sql).
RULES = {"staging_events": EventRules}


# What the fast path must not have let through (then the file goes line by line, where each
# such line is quarantined with its number and text).
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


def _lines(lake: Lake, key: str, counts: StageCounts) -> Iterator[tuple[int, str, dict | None, str | None]]:
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
    lake: Lake,
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
                    row = {c: coerce(extract(record, p), types.get(c, "text"), f) for c, p, f in zip(columns, paths, fields, strict=True)}
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
            yield ",".join(csv_field(row[c]) for c in columns) + "\n"


class CsvStream:
    """A read()-able file object over an iterator of CSV lines, for COPY ... FROM STDIN."""

    def __init__(self, lines: Iterator[str]):
        self._lines = lines
        self._buffer = b""
        self.error: BaseException | None = None  # the driver may report a read() error as its own

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
