"""Expectations suggested from a table's daily profiles (make suggest), each with its evidence.

What the days show, and what it proposes:
- a column never null on any day: not null;
- a column whose distinct values equalled its non-null rows every day: unique;
- a column with few values (quality.checks.profile.FEW_VALUES) whose set was complete by the
  middle of the window (no value first seen in its second half): in set;
- a number or time that is not in a set: between the days' lowest and highest values, widened by
  three standard deviations of the daily minimums and maximums;
- the row count: between the days' lowest and highest, widened the same way; a count that never
  went down and grew (a catalog) gets a minimum only.

No bounds and no set for a column whose range moves with the day (its daily minimum and maximum
never went down, and grew: timestamps, last-event times), nor for the calendar columns of a
day-partitioned table (CALENDAR): a value learnt from past days is wrong for the next. A
sensitive column gets not-null and unique only: no value, set or range that would reveal its
values. Days that failed a critical check are not evidence.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sparkify.quality.checks.profile import FEW_VALUES, ColumnProfile, TableProfile

# Columns whose value is the day's own: time.month is 11 on every day of November, and wrong on
# December 1st.
CALENDAR = {"time": frozenset({"day", "week", "month", "year"})}
SPREAD = 3  # standard deviations of the daily minimums and maximums added outside the observed range


@dataclass
class Suggestion:
    type: str
    kwargs: dict[str, Any]
    evidence: dict[str, Any]
    committed: bool = False  # the committed suite has it, with the same arguments
    differs: dict[str, Any] | None = None  # the committed suite's arguments for this type and column, when other

    @property
    def column(self) -> str | None:
        return self.kwargs.get("column")


@dataclass
class Suggested:
    table: str
    days: list[str]  # the days used as evidence
    left_out: list[str]  # days that failed a critical check
    suggestions: list[Suggestion] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # column -> why no bounds or set


def suggest(table: str, profiles: list[TableProfile], committed: list[dict[str, Any]]) -> Suggested:
    """The suggestions for ``table`` from its profiles (oldest first); ``committed``: the
    expectations of the table's committed suites (GX's JSON: type, kwargs)."""
    clean = [p for p in profiles if not p.failed_critical]
    found = Suggested(table, [p.day.isoformat() for p in clean], [p.day.isoformat() for p in profiles if p.failed_critical])
    if len(clean) < 2:
        return found
    found.suggestions.append(_row_count(clean))
    names = [name for name in clean[-1].columns if all(name in p.columns for p in clean)]
    for name in names:
        daily = [p.columns[name] for p in clean]
        found.suggestions += _column(table, name, daily, clean, found.skipped)
    for suggestion in found.suggestions:
        _compare(suggestion, committed)
    return found


def _base(clean: list[TableProfile]) -> dict[str, Any]:
    return {"days": len(clean), "first_day": clean[0].day.isoformat(), "last_day": clean[-1].day.isoformat()}


def _spread(values: list[float]) -> float:
    return SPREAD * statistics.pstdev(values) if len(values) > 1 else 0.0


def _grows(lows: list[float], highs: list[float]) -> bool:
    """Never went down at either end, and grew at one of them."""
    steady = all(b >= a for a, b in zip(lows, lows[1:], strict=False)) and all(b >= a for a, b in zip(highs, highs[1:], strict=False))
    return steady and (lows[-1] > lows[0] or highs[-1] > highs[0])


def _row_count(clean: list[TableProfile]) -> Suggestion:
    rows = [float(p.row_count) for p in clean]
    evidence = {**_base(clean), "observed_min": int(min(rows)), "observed_max": int(max(rows))}
    if _grows(rows, rows):
        return Suggestion("expect_table_row_count_to_be_between", {"min_value": int(min(rows))}, {**evidence, "grows": True})
    low, high = max(0, math.floor(min(rows) - _spread(rows))), math.ceil(max(rows) + _spread(rows))
    return Suggestion("expect_table_row_count_to_be_between", {"min_value": low, "max_value": high}, evidence)


def _column(table: str, name: str, daily: list[ColumnProfile], clean: list[TableProfile], skipped: dict[str, str]) -> list[Suggestion]:
    base = {**_base(clean), "column_kind": daily[-1].kind}
    rows = [p.row_count for p in clean]
    found = []
    if all(c.null_count == 0 for c in daily) and any(rows):
        found.append(Suggestion("expect_column_values_to_not_be_null", {"column": name}, {**base, "null_share": 0.0}))
    non_null = [r - c.null_count for c, r in zip(daily, rows, strict=True)]
    if all(c.distinct_count == n for c, n in zip(daily, non_null, strict=True)) and max(non_null) > 1:
        found.append(Suggestion("expect_column_values_to_be_unique", {"column": name}, {**base, "distinct_equalled_rows_on": len(daily)}))
    if daily[-1].sensitive or any(c.sensitive for c in daily):
        skipped[name] = "sensitive (gx/sensitive_columns.toml): counts only, no values or range"
        return found
    if name in CALENDAR.get(table, ()):
        skipped[name] = "a calendar column of the day: its values follow the date"
        return found
    in_set = _in_set(name, daily, base)
    if in_set:
        return [*found, in_set]
    between = _between(name, daily, base, skipped)
    return [*found, between] if between else found


def _in_set(name: str, daily: list[ColumnProfile], base: dict[str, Any]) -> Suggestion | None:
    if not all(c.values is not None or c.distinct_count == 0 for c in daily):
        return None
    seen: dict[str, int] = {}
    for c in daily:
        for value, rows in (c.values or {}).items():
            seen[value] = seen.get(value, 0) + rows
    half = {value for c in daily[: math.ceil(len(daily) / 2)] for value in (c.values or {})}
    if not seen or len(seen) > FEW_VALUES or half != set(seen):
        return None
    kind = daily[-1].kind
    values = sorted((_typed(value, kind) for value in seen), key=lambda v: (str(type(v)), v))
    evidence = {**base, "observed_values": {value: seen[value] for value in sorted(seen)}}
    return Suggestion("expect_column_values_to_be_in_set", {"column": name, "value_set": values}, evidence)


def _typed(value: str, kind: str) -> Any:
    if kind == "number":
        number = float(value)
        return int(number) if number.is_integer() else number
    if kind == "boolean":
        return value.lower() in ("true", "t", "1")
    return value


def _between(name: str, daily: list[ColumnProfile], base: dict[str, Any], skipped: dict[str, str]) -> Suggestion | None:
    measured = [c for c in daily if c.min_value is not None and c.max_value is not None]
    if daily[-1].kind not in ("number", "time") or not measured:
        return None
    lows_f = [float(c.min_value) for c in measured if c.min_value is not None]
    highs_f = [float(c.max_value) for c in measured if c.max_value is not None]
    if _grows(lows_f, highs_f):
        skipped[name] = "its range moves with the day (daily minimum and maximum never went down)"
        return None
    low, high = min(lows_f) - _spread(lows_f), max(highs_f) + _spread(highs_f)
    if min(lows_f) >= 0:
        low = max(low, 0.0)
    evidence = {**base, "observed_min": _shown(min(lows_f), daily[-1].kind), "observed_max": _shown(max(highs_f), daily[-1].kind)}
    if daily[-1].kind == "time" or all(float(v).is_integer() for v in lows_f + highs_f):
        low, high = math.floor(low), math.ceil(high)  # whole numbers, and times to the second, outwards
    else:
        low, high = round(low, 6), round(high, 6)
    kwargs = {"column": name, "min_value": _shown(low, daily[-1].kind), "max_value": _shown(high, daily[-1].kind)}
    return Suggestion("expect_column_values_to_be_between", kwargs, evidence)


def _shown(value: float, kind: str) -> Any:
    """A bound as GX takes it: a number, or an ISO timestamp for a time column."""
    if kind == "time":
        return datetime.fromtimestamp(value, UTC).replace(tzinfo=None).isoformat(timespec="seconds")
    return int(value) if float(value).is_integer() else value


def key(expectation: dict[str, Any]) -> tuple[str, str | None]:
    """What identifies an expectation across suites: its type and column."""
    return expectation["type"], (expectation.get("kwargs") or {}).get("column")


def _compare(suggestion: Suggestion, committed: list[dict[str, Any]]) -> None:
    mine = (suggestion.type, suggestion.column)
    for expectation in committed:
        if key(expectation) != mine:
            continue
        theirs = {k: v for k, v in (expectation.get("kwargs") or {}).items() if v is not None}
        if theirs == suggestion.kwargs:
            suggestion.committed = True
            return
        suggestion.differs = theirs
