"""What an expectation would have said on a past day, decided from that day's profile (make backtest).

The profile decides exactly: the row count (between, equal), not null, null, unique, in set and
not in set (the day's values are known when it had few), between (its min and max), the column's
min, max and distinct count, its distinct values, and whether the column exists. With ``mostly``
below 1, between and in-set are decided when the day's values are known, or when every value
passed. Anything else (a row condition, a run-time parameter, a query) is "not decidable" from
the profile: quality.gx.backtest runs it through GX on the day's data where that still exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sparkify.quality.checks.profile import ColumnProfile, TableProfile

PASSED, FAILED, UNDECIDED = "passed", "failed", "not decidable"
_UNCOUNTED = "the day's distinct values of this column were not counted (neither few nor near-unique)"
_COLUMNLESS = {"expect_table_row_count_to_be_between", "expect_table_row_count_to_equal"}


@dataclass
class Verdict:
    outcome: str  # PASSED, FAILED or UNDECIDED
    observed: Any = None
    expected: Any = None
    reason: str = ""  # why not decidable
    by: str = "profile"  # or "data": GX ran it on the day's data


def decide(expectation: dict[str, Any], profile: TableProfile) -> Verdict:
    """The expectation's verdict on the day of ``profile`` (GX's JSON: type and kwargs)."""
    kind, kwargs = expectation["type"], expectation.get("kwargs") or {}
    if "row_condition" in kwargs and kwargs["row_condition"] or any(isinstance(v, dict) and "$PARAMETER" in v for v in kwargs.values()):
        return Verdict(UNDECIDED, reason="a row condition or run-time parameter: the profile holds whole-table figures")
    if kind in _COLUMNLESS:
        return _row_count(kind, kwargs, profile.row_count)
    column = profile.columns.get(kwargs.get("column") or "")
    if kind == "expect_column_to_exist":
        return Verdict(PASSED if column else FAILED, observed=sorted(profile.columns), expected=kwargs.get("column"))
    if column is None:
        if kwargs.get("column"):
            return Verdict(FAILED, observed="no such column", expected=kwargs.get("column"))
        return Verdict(UNDECIDED, reason=f"{kind} is not decided from a profile")
    rule = _RULES.get(kind)
    if rule is None:
        return Verdict(UNDECIDED, reason=f"{kind} is not decided from a profile")
    return rule(kwargs, column, profile.row_count)


def _between_bounds(value: float, kwargs: dict[str, Any], kind: str) -> bool:
    low, high = _number(kwargs.get("min_value"), kind), _number(kwargs.get("max_value"), kind)
    if low is not None and (value <= low if kwargs.get("strict_min") else value < low):
        return False
    return not (high is not None and (value >= high if kwargs.get("strict_max") else value > high))


def _number(bound: Any, kind: str) -> float | None:
    """A bound as the profile keeps values: numbers, times as epoch seconds (naive means UTC)."""
    if bound is None:
        return None
    if kind == "time" and isinstance(bound, str):
        parsed = datetime.fromisoformat(bound)
        return (parsed.replace(tzinfo=None) - datetime(1970, 1, 1)).total_seconds() if parsed.tzinfo is None else parsed.timestamp()
    return float(bound)


def _row_count(kind: str, kwargs: dict[str, Any], rows: int) -> Verdict:
    if kind == "expect_table_row_count_to_equal":
        return Verdict(PASSED if rows == kwargs.get("value") else FAILED, observed=rows, expected=kwargs.get("value"))
    expected = {k: kwargs.get(k) for k in ("min_value", "max_value") if kwargs.get(k) is not None}
    return Verdict(PASSED if _between_bounds(rows, kwargs, "number") else FAILED, observed=rows, expected=expected)


def _mostly(unexpected: int, considered: int, kwargs: dict[str, Any]) -> bool:
    """GX's rule: success when the unexpected share of the considered rows is at most 1 - mostly."""
    if considered == 0:
        return True
    return (considered - unexpected) / considered >= float(kwargs.get("mostly", 1.0))


def _not_null(kwargs: dict[str, Any], column: ColumnProfile, rows: int) -> Verdict:
    ok = _mostly(column.null_count, rows, kwargs)
    return Verdict(PASSED if ok else FAILED, observed={"null_count": column.null_count, "rows": rows}, expected="no null")


def _null(kwargs: dict[str, Any], column: ColumnProfile, rows: int) -> Verdict:
    ok = _mostly(rows - column.null_count, rows, kwargs)
    return Verdict(PASSED if ok else FAILED, observed={"non_null": rows - column.null_count}, expected="all null")


def _unique(kwargs: dict[str, Any], column: ColumnProfile, rows: int) -> Verdict:
    non_null = rows - column.null_count
    if column.distinct_count is None:
        return Verdict(UNDECIDED, reason=_UNCOUNTED)
    if column.distinct_count == non_null:
        return Verdict(PASSED, observed={"distinct": column.distinct_count, "non_null": non_null})
    if float(kwargs.get("mostly", 1.0)) < 1:
        return Verdict(UNDECIDED, reason="unique with mostly: the profile does not count the repeated rows")
    return Verdict(FAILED, observed={"distinct": column.distinct_count, "non_null": non_null}, expected="every value once")


def _same(value: str, allowed: Any, kind: str) -> bool:
    if kind == "number":
        try:
            return float(value) == float(allowed)
        except (TypeError, ValueError):
            return False
    if kind == "boolean":
        return (value.lower() in ("true", "t", "1")) == bool(allowed)
    return value == str(allowed)


def _outside(column: ColumnProfile, value_set: list[Any]) -> dict[str, int]:
    assert column.values is not None
    return {v: n for v, n in column.values.items() if not any(_same(v, allowed, column.kind) for allowed in value_set)}


def _in_set(kwargs: dict[str, Any], column: ColumnProfile, rows: int) -> Verdict:
    value_set = list(kwargs.get("value_set") or [])
    expected = {"value_set": value_set}
    if column.values is None and column.distinct_count != 0:
        if column.distinct_count is not None and column.distinct_count > len(value_set) and float(kwargs.get("mostly", 1.0)) >= 1:
            return Verdict(FAILED, observed={"distinct": column.distinct_count}, expected=expected)
        return Verdict(UNDECIDED, reason="the day had too many distinct values to keep them (or the column is sensitive)")
    outside = _outside(column, value_set) if column.values else {}
    ok = _mostly(sum(outside.values()), rows - column.null_count, kwargs)
    observed = {"unexpected": outside} if not column.sensitive else {"unexpected_count": sum(outside.values())}
    return Verdict(PASSED if ok else FAILED, observed=observed, expected=expected)


def _not_in_set(kwargs: dict[str, Any], column: ColumnProfile, rows: int) -> Verdict:
    if column.values is None and column.distinct_count != 0:
        return Verdict(UNDECIDED, reason="the day had too many distinct values to keep them (or the column is sensitive)")
    value_set = list(kwargs.get("value_set") or [])
    inside = {v: n for v, n in (column.values or {}).items() if v not in _outside(column, value_set)}
    ok = _mostly(sum(inside.values()), rows - column.null_count, kwargs)
    return Verdict(PASSED if ok else FAILED, observed={"unexpected": inside}, expected={"not in": value_set})


def _between(kwargs: dict[str, Any], column: ColumnProfile, rows: int) -> Verdict:
    if column.min_value is None or column.max_value is None:
        if column.distinct_count == 0:
            return Verdict(PASSED, observed="no value")
        return Verdict(UNDECIDED, reason="no min and max kept for this column (text or sensitive)")
    expected = {k: kwargs.get(k) for k in ("min_value", "max_value") if kwargs.get(k) is not None}
    observed = {"min": column.min_value, "max": column.max_value}
    if _between_bounds(column.min_value, kwargs, column.kind) and _between_bounds(column.max_value, kwargs, column.kind):
        return Verdict(PASSED, observed=observed, expected=expected)
    if float(kwargs.get("mostly", 1.0)) >= 1:
        return Verdict(FAILED, observed=observed, expected=expected)
    if column.values is None:
        return Verdict(UNDECIDED, reason="between with mostly and many values: the profile does not count the rows outside")
    outside = sum(n for v, n in column.values.items() if not _between_bounds(float(v), kwargs, "number"))
    ok = _mostly(outside, rows - column.null_count, kwargs)
    return Verdict(PASSED if ok else FAILED, observed={**observed, "unexpected_count": outside}, expected=expected)


def _statistic(name: str) -> Any:
    def rule(kwargs: dict[str, Any], column: ColumnProfile, rows: int) -> Verdict:
        counted = float(column.distinct_count) if column.distinct_count is not None else None
        value = {"min": column.min_value, "max": column.max_value, "distinct": counted}[name]
        if value is None:
            return Verdict(UNDECIDED, reason=f"no {name} kept for this column (text, sensitive, or distinct values not counted)")
        kind = column.kind if name != "distinct" else "number"
        ok = _between_bounds(value, kwargs, kind)
        return Verdict(PASSED if ok else FAILED, observed=value, expected={k: kwargs.get(k) for k in ("min_value", "max_value")})

    return rule


def _distinct_values(kind: str) -> Any:
    def rule(kwargs: dict[str, Any], column: ColumnProfile, rows: int) -> Verdict:
        if column.values is None and column.distinct_count != 0:
            return Verdict(UNDECIDED, reason="the day had too many distinct values to keep them (or the column is sensitive)")
        value_set = list(kwargs.get("value_set") or [])
        seen = list(column.values or {})
        covered = [a for a in value_set if any(_same(v, a, column.kind) for v in seen)]
        outside = list(_outside(column, value_set)) if column.values else []
        ok = {"in": not outside, "contain": len(covered) == len(value_set), "equal": not outside and len(covered) == len(value_set)}[kind]
        return Verdict(PASSED if ok else FAILED, observed=sorted(seen), expected={"value_set": value_set})

    return rule


_RULES = {
    "expect_column_values_to_not_be_null": _not_null,
    "expect_column_values_to_be_null": _null,
    "expect_column_values_to_be_unique": _unique,
    "expect_column_values_to_be_in_set": _in_set,
    "expect_column_values_to_not_be_in_set": _not_in_set,
    "expect_column_values_to_be_between": _between,
    "expect_column_min_to_be_between": _statistic("min"),
    "expect_column_max_to_be_between": _statistic("max"),
    "expect_column_unique_value_count_to_be_between": _statistic("distinct"),
    "expect_column_distinct_values_to_be_in_set": _distinct_values("in"),
    "expect_column_distinct_values_to_contain_set": _distinct_values("contain"),
    "expect_column_distinct_values_to_equal_set": _distinct_values("equal"),
}
