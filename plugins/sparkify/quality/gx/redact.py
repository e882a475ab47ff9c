"""Sensitive columns: their values are checked, never reported.

The committed file ``gx/sensitive_columns.toml`` names the columns (a bare name applies to that
column in every table, ``table.column`` to one table). After a validation ran on the real
values, every value of such a column in its results (unexpected values and their counts, the
rows of unexpected-index lists and of unexpected-rows queries, observed values) is replaced by a
marker such as ``<redacted first_name #a1b2c3>``: an HMAC of the day, the column and the value,
keyed by a secret kept in the warehouse (``dq.redaction_key``), so a value repeated within a day
keeps its marker and nobody without warehouse access can test a guess against it. Everything
built from the results afterwards (the summary and failure message, XCom, the task log, alerts,
run-summary.json, the results store, Data Docs) carries only markers. Other columns (keys such
as user_id and song_id) stay as they are, so an analyst with warehouse access finds the rows.

Only text values are replaced: the sensitive columns of this schema are text, and counts and
percentages around them are not data.
"""

from __future__ import annotations

import hashlib
import hmac
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FILE = "sensitive_columns.toml"
# Result fields that describe the check, not the data: never replaced.
_DESCRIPTIVE = {
    "unexpected_index_query",
    "unexpected_index_column_names",
    "element_count",
    "missing_count",
    "missing_percent",
    "unexpected_count",
    "unexpected_percent",
    "unexpected_percent_total",
    "unexpected_percent_nonmissing",
    "count",
}
_INDEX_LISTS = ("partial_unexpected_index_list", "unexpected_index_list")


def sensitive_columns(gx_root: Path) -> frozenset[str]:
    """The declared columns (lower case; bare names and table.column), from the GX project's file."""
    path = gx_root / FILE
    try:
        declared = tomllib.loads(path.read_text())
    except FileNotFoundError:
        return frozenset()
    except tomllib.TOMLDecodeError as err:
        raise ValueError(f"{path}: not valid TOML ({err}).") from None
    columns = declared.get("columns", [])
    if not isinstance(columns, list) or not all(isinstance(c, str) and c.strip() for c in columns):
        raise ValueError(f"{path}: 'columns' must be a list of column names, got {columns!r}.")
    return frozenset(c.strip().lower() for c in columns)


@dataclass(frozen=True)
class Redactor:
    """Markers of one day's values, for the columns declared sensitive in one table."""

    secret: bytes
    day: str
    table: str
    declared: frozenset[str]

    def sensitive(self, column: str | None) -> bool:
        if not column:
            return False
        name = column.lower()
        return name in self.declared or f"{self.table.lower()}.{name}" in self.declared

    def marker(self, column: str, value: str) -> str:
        digest = hmac.new(self.secret, f"{self.day}|{column.lower()}|{value}".encode(), hashlib.sha256).hexdigest()
        return f"<redacted {column} #{digest[:6]}>"

    def mask(self, column: str, value: Any) -> Any:
        """Every text value in ``value`` (lists and dicts walked) replaced by its marker."""
        if isinstance(value, str):
            return self.marker(column, value)
        if isinstance(value, list | tuple):
            return [self.mask(column, v) for v in value]
        if isinstance(value, dict):
            return {k: v if k in _DESCRIPTIVE else self.mask(column, v) for k, v in value.items()}
        return value

    def mask_row(self, row: Any) -> Any:
        """A row (column -> value) with the sensitive columns' values replaced."""
        if not isinstance(row, dict):
            return row
        return {k: self.mask(k, v) if self.sensitive(k) else v for k, v in row.items()}


def columns_of(config) -> list[str]:
    """The columns an expectation reads (column, column_A/column_B, column_list)."""
    kwargs = config.kwargs
    found = [kwargs.get(k) for k in ("column", "column_A", "column_B")]
    found += list(kwargs.get("column_list") or [])
    return [c for c in found if isinstance(c, str)]


def redact_result(result: dict, columns: Iterable[str], redactor: Redactor) -> dict:
    """One expectation's result with the sensitive values of ``columns`` (and of any row) replaced."""
    sensitive = [c for c in columns if redactor.sensitive(c)]
    out = dict(result)
    for key, value in result.items():
        if key in _DESCRIPTIVE:
            continue
        if key in _INDEX_LISTS and isinstance(value, list):
            out[key] = [redactor.mask_row(row) for row in value]
        elif key == "details" and isinstance(value, dict):
            details = dict(value)
            if isinstance(details.get("unexpected_rows"), list):
                details["unexpected_rows"] = [redactor.mask_row(row) for row in details["unexpected_rows"]]
            for column in sensitive:
                details = {k: v if k == "unexpected_rows" else redactor.mask(column, v) for k, v in details.items()}
            out[key] = details
        elif sensitive:
            out[key] = redactor.mask(sensitive[0], value)
    return out


def redact_validation(validation, redactor: Redactor) -> int:
    """Replace, in place, the sensitive values of every expectation's result; returns how many
    results were changed."""
    changed = 0
    for item in validation.results:
        if not item.result:
            continue
        redacted = redact_result(item.result, columns_of(item.expectation_config), redactor)
        if redacted != item.result:
            item.result = redacted
            changed += 1
    return changed
