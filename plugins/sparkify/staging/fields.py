"""The top-level JSON fields of the records a staging task read, with how many records carry each.

The JSONPaths file is the staging contract: a field it does not name never reaches a table, so a
new field the app started sending is invisible to every table check, and a field the contract
needs going missing shows up only as nulls. This census is what the schema-drift check
(validate_lake_fields, quality.checks.drift) compares with the days published before.

Pure: the lake's files are read here (on Redshift too, where COPY reads S3 itself), nothing is
written; quality.store keeps the counts in dq.lake_fields.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sparkify.lake import LocalLake

MAX_FIELD_CHARS = 256  # dq.lake_fields.field


@dataclass
class Census:
    """How many JSON objects were read (``total``) and how many of them carry each field."""

    total: int = 0
    fields: Counter = field(default_factory=Counter)

    def add(self, record: dict) -> None:
        self.total += 1
        self.fields.update({_name(key) for key in record})


def _name(key: str) -> str:
    return key if len(key) <= MAX_FIELD_CHARS else key[: MAX_FIELD_CHARS - 3] + "..."


def census(lake: LocalLake, keys: Iterable[str], *, ndjson: bool) -> Census:
    """The fields of every JSON object in the files: one per non-blank line of an NDJSON file, or
    each object of a song document. Lines and files that are not JSON objects are not counted
    (staging quarantines them, naming file and line)."""
    from sparkify.staging.records import StageCounts, _documents, _lines

    result = Census()
    for key in keys:
        items = _lines(lake, key, StageCounts()) if ndjson else _documents(lake.read_bytes(key), lake.name(key))
        for _, _, record, _ in items:
            if record is not None:
                result.add(record)
    return result


def rows(census: Census) -> list[tuple[str, int, int]]:
    """(field, records, total) per field, in name order: what dq.lake_fields stores."""
    return [(name, count, census.total) for name, count in sorted(census.fields.items())]
