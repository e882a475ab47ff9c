"""Suggestions and backtest verdicts from profiles: the rules the integration test does not reach."""

from __future__ import annotations

from datetime import date, timedelta

from sparkify.quality.checks import backtest as bt
from sparkify.quality.checks.profile import ColumnProfile, TableProfile
from sparkify.quality.checks.suggest import suggest


def day(n: int, rows: int, **columns: ColumnProfile) -> TableProfile:
    return TableProfile("t", date(2018, 11, 1) + timedelta(days=n), f"run{n}", rows, dict(columns))


def test_a_growing_count_gets_a_minimum_and_a_moving_range_no_bounds():
    days = [day(n, 100 + n, ts=ColumnProfile("ts", "number", 0, 100 + n, 1000.0 * n, 1000.0 * n + 900)) for n in range(6)]
    found = suggest("t", days, [])
    rows = found.suggestions[0]
    assert (rows.type, rows.kwargs) == ("expect_table_row_count_to_be_between", {"min_value": 100}) and rows.evidence["grows"]
    assert [s.type for s in found.suggestions[1:]] == ["expect_column_values_to_not_be_null", "expect_column_values_to_be_unique"]
    assert found.skipped == {"ts": "its range moves with the day (daily minimum and maximum never went down)"}


def test_a_set_still_growing_in_the_second_half_is_no_in_set_and_a_failed_day_is_no_evidence():
    def c(values):
        return ColumnProfile("v", "text", 0, len(values), values=dict.fromkeys(values, 1))

    days = [day(0, 2, v=c(["a", "b"])), day(1, 2, v=c(["a", "b"])), day(2, 3, v=c(["a", "b", "c"]))]
    assert not [s for s in suggest("t", days, []).suggestions if s.type == "expect_column_values_to_be_in_set"]
    days[2].failed_critical = True
    found = suggest("t", days, [{"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "v", "value_set": ["a", "b"]}}])
    (in_set,) = [s for s in found.suggestions if s.type == "expect_column_values_to_be_in_set"]
    assert in_set.kwargs["value_set"] == ["a", "b"] and in_set.committed and found.left_out == ["2018-11-03"]


def test_a_sensitive_column_gets_no_values_and_a_time_range_is_iso():
    name = ColumnProfile("name", "text", 0, 2, values=None, sensitive=True)
    at = [ColumnProfile("at", "time", 0, 5, 1541030400.0 + h, 1541034000.0 - h) for h in (0, 60, 0)]
    found = suggest("t", [day(n, 5, name=name, at=at[n]) for n in range(3)], [])
    between = next(s for s in found.suggestions if s.type == "expect_column_values_to_be_between")
    # the observed range widened by 3 standard deviations of the daily minimums (28.3 s) and maximums
    assert between.kwargs == {"column": "at", "min_value": "2018-10-31T23:58:35", "max_value": "2018-11-01T01:01:25"}
    assert between.evidence["observed_max"] == "2018-11-01T01:00:00"
    assert not [s for s in found.suggestions if s.column == "name" and s.type.endswith(("in_set", "between"))]
    assert found.skipped["name"].startswith("sensitive")


def test_verdicts_follow_gx_rules_for_mostly_strict_bounds_and_unknown_values():
    profile = day(0, 10, v=ColumnProfile("v", "number", 2, 3, 1.0, 5.0, values={"1": 4, "2": 3, "5": 1}))

    def verdict(kind, **kwargs):
        return bt.decide({"type": kind, "kwargs": {"column": "v", **kwargs}}, profile).outcome

    assert verdict("expect_column_values_to_not_be_null") == bt.FAILED
    assert verdict("expect_column_values_to_not_be_null", mostly=0.8) == bt.PASSED  # 8 of 10 not null
    assert verdict("expect_column_values_to_be_between", min_value=1, max_value=5) == bt.PASSED
    assert verdict("expect_column_values_to_be_between", min_value=1, max_value=5, strict_max=True) == bt.FAILED
    assert verdict("expect_column_values_to_be_between", max_value=2, mostly=0.85) == bt.PASSED  # 7 of 8 values
    assert verdict("expect_column_values_to_be_in_set", value_set=[1, 2]) == bt.FAILED
    assert verdict("expect_column_values_to_be_in_set", value_set=[1.0, 2, 5]) == bt.PASSED
    assert verdict("expect_column_values_to_be_unique") == bt.FAILED
    assert verdict("expect_column_values_to_be_unique", mostly=0.5) == bt.UNDECIDED
    assert verdict("expect_column_values_to_match_regex", regex="x") == bt.UNDECIDED
    assert verdict("expect_column_values_to_be_between", min_value={"$PARAMETER": "low"}) == bt.UNDECIDED
    many = day(0, 50, v=ColumnProfile("v", "text", 0, 30, values=None))
    assert (
        bt.decide({"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "v", "value_set": ["a"]}}, many).outcome == bt.FAILED
    )
    wide = {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "v", "value_set": list("abcdefghijklmnopqrstuvwxyz01234")}}
    assert bt.decide(wide, many).outcome == bt.UNDECIDED
