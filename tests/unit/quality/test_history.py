"""quality.checks.history: the settings file, the baseline and its robust range, and how a result is marked."""

from __future__ import annotations

import json
import random
from datetime import date, timedelta

import pytest

from sparkify.quality.checks import history
from tests.session import ROOT

START = date(2018, 11, 1)


def days(n: int, value, start: date = START) -> list[tuple[date, float]]:
    return [(start + timedelta(days=i), value(start + timedelta(days=i)) if callable(value) else value) for i in range(n)]


def test_the_committed_settings_and_suite_agree():
    settings = history.load(ROOT / "gx")
    assert (settings.window_days, settings.min_days, settings.k, settings.seasonality) == (28, 7, 3.5, "none")
    assert set(settings.metrics.values()) == {"warning"}
    suite = json.loads((ROOT / "gx" / "expectations" / "history.json").read_text())
    history.check_suite(suite, settings, path="history.json")  # raises when they disagree
    columns = {item["kwargs"]["column"] for item in suite["expectations"]}
    assert columns == {metric.replace(".", "_") for metric in settings.metrics}


def test_a_bad_settings_file_names_the_file_and_the_key(tmp_path):
    cases = {
        "[baseline]\nwindow_days = 0\n": r"history.toml: \[baseline\] window_days = 0; it must be a whole number of at least 1",
        "[baseline]\nseasonality = 'monthly'\n": r"seasonality = 'monthly'; it must be one of none, weekday",
        "[baseline]\nwindow = 28\n": r"unknown setting\(s\) window",
        "[severity]\n'songplays.rows' = 'fatal'\n": r"\[severity\] 'songplays.rows' = 'fatal'; it must be one of warning, review, critical",
        "[baseline\n": r"history.toml: not valid TOML",
    }
    for text, message in cases.items():
        (tmp_path / "history.toml").write_text(text)
        with pytest.raises(ValueError, match=message):
            history.load(tmp_path)
    with pytest.raises(ValueError, match=r"history.toml: missing"):
        history.load(tmp_path / "nowhere")


def test_a_suite_that_disagrees_with_the_settings_is_refused():
    settings = history.Settings(metrics={"songplays.rows": "critical", "songplays.paid_share": "warning"})
    suite = {"expectations": [{"meta": {"metric": "songplays.rows"}}, {"meta": {"metric": "users.rows"}}]}
    with pytest.raises(ValueError, match=r"no expectation for songplays.paid_share; expectation\(s\) for users.rows not listed"):
        history.apply_severity(suite, settings, path="gx/expectations/history.json")
    good = {"expectations": [{"meta": {"metric": "songplays.rows"}, "severity": "warning"},
                             {"meta": {"metric": "songplays.paid_share"}, "severity": "warning"}]}  # fmt: skip
    assert [item["severity"] for item in history.apply_severity(good, settings, path="x")["expectations"]] == ["critical", "warning"]
    # review: GX runs it as a warning, its meta says review (and says nothing once it is a warning again).
    reviewed = history.apply_severity(
        good, history.Settings(metrics={"songplays.rows": "review", "songplays.paid_share": "warning"}), path="x"
    )
    assert [(e["severity"], e["meta"].get("severity")) for e in reviewed["expectations"]] == [("warning", "review"), ("warning", None)]
    again = history.apply_severity(reviewed, settings, path="x")
    assert [(e["severity"], e["meta"].get("severity")) for e in again["expectations"]] == [("critical", None), ("warning", None)]


def test_fewer_than_the_minimum_days_is_not_enough_history():
    settings = history.Settings()
    check = history.bounds("songplays.rows", START + timedelta(days=3), days(3, 300.0), settings)
    assert not check.enough and check.note == "not enough history (3 of 7 days)"
    assert check.describe(settings, 280.0) == "songplays.rows = 280: not enough history (3 of 7 days); not checked"


def test_the_range_is_median_and_mad_and_leaves_out_the_day_under_test_and_later_days():
    settings = history.Settings(k=3.0)
    values = [100, 104, 96, 102, 98, 101, 99, 500]  # one odd day in the baseline barely moves it
    past = [(START + timedelta(days=i), float(v)) for i, v in enumerate(values)]
    under_test = START + timedelta(days=len(values))
    later = [(under_test, 1e6), (under_test + timedelta(days=1), 1e6)]
    check = history.bounds("songplays.paid_share", under_test, past + later, settings)
    assert check.enough and check.centre == 100.5 and len(check.days) == 8 and check.days[-1] < under_test
    mad = sorted(abs(v - 100.5) for v in values)[3:5]
    spread = 1.4826 * sum(mad) / 2
    assert check.spread == pytest.approx(spread)
    assert (check.minimum, check.maximum) == (pytest.approx(100.5 - 3 * spread), pytest.approx(100.5 + 3 * spread))
    assert check.maximum < 120, "the 500 in the baseline did not widen the range much"


def test_the_window_keeps_the_last_days_and_a_count_gets_at_least_poisson_noise():
    settings = history.Settings(window_days=10)
    past = days(20, lambda d: 50.0 if d < START + timedelta(days=10) else 200.0)
    check = history.bounds("songplays.rows", START + timedelta(days=20), past, settings)
    assert check.days == tuple(d for d, _ in past[10:]) and check.centre == 200.0
    # A MAD of 0: a count's spread is √200, a share's the 2% floor.
    assert check.spread == pytest.approx(200**0.5)
    share = history.bounds("songplays.paid_share", START + timedelta(days=20), [(d, 0.5) for d, _ in past], settings)
    assert share.spread == pytest.approx(0.01)


def weekly_volume(seed: int, n: int) -> list[tuple[date, float]]:
    """Songplays of a service with quiet weekends (35% fewer), each day within ±5%."""
    rng = random.Random(seed)
    return days(n, lambda d: (650.0 if d.weekday() >= 5 else 1000.0) * (1 + rng.uniform(-0.05, 0.05)))


def flagged(series, settings) -> list[date]:
    out = []
    for n, (day, value) in enumerate(series):
        check = history.bounds("songplays.rows", day, series[:n], settings)
        if check.enough and not check.minimum <= value <= check.maximum:
            out.append(day)
    return out


def test_weekday_seasonality_raises_no_false_alarm_where_none_flags_the_quiet_weekends():
    series = weekly_volume(seed=11, n=35)
    assert flagged(series, history.Settings(seasonality="weekday")) == []
    plain = flagged(series, history.Settings(seasonality="none"))
    weekends = [d for d, _ in series[7:] if d.weekday() >= 5]
    assert plain == weekends, "without seasonality every checked weekend is outside the range"


def test_weekday_seasonality_needs_days_of_the_same_weekday():
    settings = history.Settings(seasonality="weekday")
    series = weekly_volume(seed=5, n=8)
    check = history.bounds("songplays.rows", START + timedelta(days=8), series, settings)
    assert not check.enough and check.note == "not enough history (1 of 2 days on a Friday)"


def test_parameters_give_an_unchecked_metric_its_own_value():
    checks = {
        "songplays.rows": history.Bounds("songplays.rows", True, minimum=80.0, maximum=120.0),
        "songplays.paid_share": history.Bounds("songplays.paid_share", False, note="not enough history (2 of 7 days)"),
    }
    parameters = history.expectation_parameters(checks, {"songplays.rows": 100.0, "songplays.paid_share": 0.25})
    assert parameters == {"songplays_rows_min": 80.0, "songplays_rows_max": 120.0, "songplays_paid_share_min": 0.25,
                          "songplays_paid_share_max": 0.25}  # fmt: skip


def test_a_share_gets_at_least_a_binomial_spread_and_no_weekday_centre():
    settings = history.Settings(seasonality="weekday")
    past = days(21, lambda d: 0.1 if d.weekday() >= 5 else 0.3)  # a share with a weekly shape still uses the whole baseline
    check = history.bounds("songplays.paid_share", START + timedelta(days=21), past, settings, rows=400)
    assert not check.seasonal and check.centre == 0.3
    assert check.spread == pytest.approx(max(1.4826 * 0.0, (0.3 * 0.7 / 400) ** 0.5, 0.02 * 0.3))
    assert "same-weekday" not in check.describe(settings, 0.3)
    rows = history.bounds("songplays.rows", START + timedelta(days=21), days(21, lambda d: 60.0 if d.weekday() >= 5 else 100.0), settings)
    assert rows.seasonal and rows.centre == 100.0 and "same-weekday median" in rows.describe(settings, 100.0)


def test_flagged_values_stay_out_of_the_baseline_until_they_are_the_new_level():
    settings = history.Settings(window_days=28, min_days=7)
    past = [(START + timedelta(days=i), 100.0, False) for i in range(10)]
    past += [(START + timedelta(days=10), 300.0, True)]  # one incident: left out
    check = history.bounds("songplays.rows", START + timedelta(days=11), past, settings)
    assert len(check.days) == 10 and START + timedelta(days=10) not in check.days
    # Four of the last seven flagged, all high: a level shift. The baseline starts again at it.
    past += [(START + timedelta(days=11 + i), 300.0, True) for i in range(3)]
    shifted = history.bounds("songplays.rows", START + timedelta(days=14), past, settings)
    assert not shifted.enough and shifted.note == "not enough history since the level shift of 2018-11-11 (4 of 7 days)"
    past += [(START + timedelta(days=14 + i), 300.0, False) for i in range(3)]
    settled = history.bounds("songplays.rows", START + timedelta(days=17), past, settings)
    assert settled.enough and settled.centre == 300.0 and settled.days[0] == START + timedelta(days=10)
    # Later, with the shift's days out of the last seven, the old level stays out of the baseline.
    past += [(START + timedelta(days=17 + i), 300.0, False) for i in range(10)]
    later = history.bounds("songplays.rows", START + timedelta(days=27), past, settings)
    assert later.centre == 300.0 and later.days[0] == START + timedelta(days=10)
