"""quality.checks.drift: a day's lake fields against its baseline, in words, as suite parameters and as marked results."""

from __future__ import annotations

import json
from datetime import date, timedelta
from types import SimpleNamespace

import pytest

from sparkify.quality.checks import drift, history
from sparkify.quality.gx import marks
from tests.session import ROOT

START = date(2018, 11, 1)
USUAL = {"artist": 290, "page": 300, "sessionId": 300, "ts": 300}


def past(n: int, fields=None) -> list[tuple[date, dict[str, int]]]:
    return [(START + timedelta(days=i), dict(fields or USUAL)) for i in range(n)]


def test_a_new_field_is_named_with_its_count_and_the_baseline():
    check = drift.check("events", (8056, {**USUAL, "platform": 312}), past(10), history.Settings())
    assert check.enough and check.new == [("platform", 312)] and check.gone == []
    assert check.describe("new") == (
        "Fields of events in the lake: new field 'platform' in 312 of 8,056 lines "
        "(in none of the 10 published day(s), 2018-11-01 to 2018-11-10)"
    )
    assert "every field of each of the 10 published day(s)" in check.describe("gone")


def test_a_field_on_every_baseline_day_and_missing_today_is_gone_and_one_seen_once_is_not():
    baseline = past(9) + [(START + timedelta(days=9), {**USUAL, "platform": 4})]
    check = drift.check("events", (300, {"artist": 290, "page": 300, "ts": 300}), baseline, history.Settings())
    assert check.gone == ["sessionId"] and check.new == []
    assert check.describe("gone") == (
        "Fields of events in the lake: field 'sessionId' gone: in 0 of 300 lines, in each of the 10 published day(s), "
        "2018-11-01 to 2018-11-10"
    )
    # 'platform' was there on one day only: a field the app sends now and then is neither new nor gone.
    again = drift.check("events", (300, {**USUAL, "platform": 1}), baseline, history.Settings())
    assert again.new == [] and again.gone == []


def test_the_window_and_the_minimum_come_from_the_history_settings():
    short = drift.check("events", (300, {**USUAL, "platform": 3}), past(3), history.Settings())
    assert not short.enough and short.note == "not enough history (3 of 7 days)" and short.new == []
    assert short.describe("new") == "Fields of events in the lake: not enough history (3 of 7 days); not checked"
    # Only the last window_days count: a field of a day before them is new again.
    baseline = [(START, {**USUAL, "platform": 3})] + past(10)[1:]
    assert drift.check("events", (300, {**USUAL, "platform": 3}), baseline, history.Settings(window_days=9)).new == [("platform", 3)]
    # Song files: one earlier run that staged some is enough; a day that staged none has nothing to compare.
    songs = drift.check("songs", (5, {"song_id": 5, "title": 5, "bpm": 2}), [(START, {"song_id": 71, "title": 71})], history.Settings())
    assert songs.new == [("bpm", 2)] and "new field 'bpm' in 2 of 5 song records" in songs.describe("new")
    assert drift.check("songs", None, [], history.Settings()).note == "no song file new or changed: nothing staged to compare"


def test_parameters_are_the_baseline_sets_or_the_days_own_fields_when_not_checked():
    checks = {"events": drift.check("events", (300, {**USUAL, "platform": 3}), past(8), history.Settings()),
              "songs": drift.check("songs", (2, {"title": 2}), [], history.Settings())}  # fmt: skip
    assert drift.expectation_parameters(checks) == {
        "known_events_fields": sorted(USUAL), "usual_events_fields": sorted(USUAL),
        "known_songs_fields": ["title"], "usual_songs_fields": [],
    }  # fmt: skip


def result(source: str, kind: str, success: bool):
    config = SimpleNamespace(meta={"source": source, "drift": kind}, description="", kwargs={"column": "x", "value_set": ["a"]})
    return SimpleNamespace(expectation_config=config, success=success, result={}, exception_info=None)


def test_mark_describes_each_result_and_leaves_the_unchecked_out_of_the_statistics():
    checks = {"events": drift.check("events", (300, {**USUAL, "platform": 3}), past(8), history.Settings()),
              "songs": drift.check("songs", None, [], history.Settings())}  # fmt: skip
    results = [result("events", "new", False), result("events", "gone", True), result("songs", "new", True), result("songs", "gone", True)]
    validation = SimpleNamespace(
        results=results, statistics={"evaluated_expectations": 4, "successful_expectations": 3, "success_percent": 75.0}
    )
    statuses = marks.mark_lake_fields(validation, checks)
    assert statuses == {"events.new": "drift", "events.gone": "ok", "songs.new": "nothing to compare", "songs.gone": "nothing to compare"}
    assert (
        results[0].result["observed_value"] == ["platform"]
        and "new field 'platform' in 3 of 300 lines" in results[0].expectation_config.description
    )
    assert results[2].exception_info["exception_message"] == "no song file new or changed: nothing staged to compare"
    assert results[2].expectation_config.kwargs["value_set"] == {"$PARAMETER": "known_songs_fields"}
    assert validation.statistics == {"evaluated_expectations": 2, "successful_expectations": 1, "success_percent": 50.0}


def test_the_committed_suite_checks_both_sources_both_ways_as_warnings():
    suite = json.loads((ROOT / "gx" / "expectations" / "lake_fields.json").read_text())
    found = {marks.target(SimpleNamespace(meta=item["meta"])): item for item in suite["expectations"]}
    assert set(found) == {(source, kind) for source in drift.SOURCES for kind in drift.KINDS}
    for (source, kind), item in found.items():
        assert item["severity"] == "warning" and item["kwargs"]["column"] == drift.SOURCES[source]
        assert item["kwargs"]["value_set"] == {"$PARAMETER": drift.parameter_name(source, kind)}


@pytest.mark.parametrize("ndjson", [True, False])
def test_the_census_counts_each_records_top_level_fields_once(tmp_path, ndjson):
    from sparkify.lake import LocalLake
    from sparkify.staging.fields import census, rows

    if ndjson:
        (tmp_path / "day.json").write_text('{"a": 1, "b": null}\n\n{"a": 2, "c": {"d": 1}}\nnot json\n[1]\n')
        keys = ["day.json"]
    else:
        (tmp_path / "s1.json").write_text('{"a": 1, "b": 2}')
        (tmp_path / "s2.json").write_text('{"a": 1}\n{"a": 5, "c": 1}')
        (tmp_path / "s3.json").write_text('{"a":')
        keys = ["s1.json", "s2.json", "s3.json"]
    found = census(LocalLake(tmp_path), keys, ndjson=ndjson)
    total = 2 if ndjson else 3
    assert rows(found) == [("a", total, total), ("b", 1, total), ("c", 1, total)]
