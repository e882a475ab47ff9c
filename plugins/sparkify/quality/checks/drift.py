"""Schema drift in the lake: a day's top-level JSON fields against the days published before it.

The staging tasks count the fields of the records they read (staging.fields, kept in
dq.lake_fields). validate_lake_fields then checks, per source (events, songs):

- a **new** field: one that no baseline day carried ("new field 'platform' in 312 of 8,056 lines");
- a **gone** field: one that every baseline day carried and no record of the day does.

The baseline of events is the last ``window_days`` published days before the day (gx/history.toml,
as for the metrics), and needs ``min_days`` of them; with fewer the check says "not enough history
(3 of 7 days)" and is not counted as passed. Song files are staged only when new or changed, so
the songs' baseline is the last ``window_days`` published runs that staged song files, and one is
enough; a day that staged none has nothing to compare.

A field the JSONPaths contract maps going missing is also caught, critically, by the not-null
checks of the tables it feeds; these checks are warnings: they tell what changed in the lake.

Pure: no database and no GX; quality.store reads the rows and the operator runs the suite.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sparkify.quality.checks.history import NOT_ENOUGH, Settings

SOURCES = {"events": "event_field", "songs": "song_field"}  # source -> the run table's column
UNITS = {"events": "lines", "songs": "song records"}
KINDS = ("new", "gone")


@dataclass(frozen=True)
class FieldCheck:
    """One source's fields of the day against its baseline, or why there is none."""

    source: str
    enough: bool
    total: int = 0  # records read today
    today: dict[str, int] = field(default_factory=dict)  # field -> records with it
    days: tuple[date, ...] = ()
    known: frozenset[str] = frozenset()  # on any baseline day
    usual: frozenset[str] = frozenset()  # on every baseline day
    note: str = ""

    @property
    def new(self) -> list[tuple[str, int]]:
        return [(name, count) for name, count in sorted(self.today.items()) if name not in self.known] if self.enough else []

    @property
    def gone(self) -> list[str]:
        return sorted(self.usual - set(self.today)) if self.enough else []

    def baseline(self) -> str:
        runs = "published day(s)" if self.source == "events" else "published run(s) that staged song files"
        return f"{len(self.days)} {runs}, {self.days[0]:%Y-%m-%d} to {self.days[-1]:%Y-%m-%d}"

    def describe(self, kind: str) -> str:
        """What the expectation found, in words (its text on the Data Docs page and in make run)."""
        where = f"{self.source} in the lake"
        unit = UNITS[self.source]
        if not self.enough:
            return f"Fields of {where}: {self.note}; not checked"
        if kind == "new":
            if not self.new:
                return f"Fields of {where}: no field that the {self.baseline()} did not have"
            listed = ", ".join(f"'{name}' in {count:,} of {self.total:,} {unit}" for name, count in self.new)
            return f"Fields of {where}: new field{'s' if len(self.new) > 1 else ''} {listed} (in none of the {self.baseline()})"
        if not self.gone:
            return f"Fields of {where}: every field of each of the {self.baseline()} is there"
        listed = ", ".join(f"'{name}'" for name in self.gone)
        return (
            f"Fields of {where}: field{'s' if len(self.gone) > 1 else ''} {listed} gone: in 0 of {self.total:,} {unit}, "
            f"in each of the {self.baseline()}"
        )


def check(
    source: str, today: tuple[int, dict[str, int]] | None, history: list[tuple[Any, dict[str, int]]], settings: Settings
) -> FieldCheck:
    """The day's fields of ``source`` (records read, {field: records}) against ``history``, the
    published days before it as store.lake_field_history gives them (oldest first)."""
    if today is None or not today[0]:
        nothing = "no song file new or changed: nothing staged to compare" if source == "songs" else "no records staged"
        return FieldCheck(source, False, note=nothing)
    total, fields = today
    baseline = history[-settings.window_days :]
    needed = settings.min_days if source == "events" else 1
    if len(baseline) < needed:
        unit = "days" if source == "events" else "runs that staged song files"
        return FieldCheck(source, False, total, dict(fields), note=f"{NOT_ENOUGH} ({len(baseline)} of {needed} {unit})")
    known = frozenset().union(*(set(day_fields) for _, day_fields in baseline))
    usual = frozenset.intersection(*(frozenset(day_fields) for _, day_fields in baseline))
    days = tuple(day for day, _ in baseline)
    return FieldCheck(source, True, total, dict(fields), days, known, usual)


def parameter_name(source: str, kind: str) -> str:
    return f"{'known' if kind == 'new' else 'usual'}_{source}_fields"


def expectation_parameters(checks: dict[str, FieldCheck]) -> dict[str, list[str]]:
    """The lake_fields suite's run-time value sets. A source without a baseline gets its own fields
    as known and none as usual (so GX evaluates it); its results are then marked not checked."""
    parameters: dict[str, list[str]] = {}
    for source, item in checks.items():
        parameters[parameter_name(source, "new")] = sorted(item.known) if item.enough else sorted(item.today)
        parameters[parameter_name(source, "gone")] = sorted(item.usual) if item.enough else []
    return parameters
