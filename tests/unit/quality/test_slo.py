"""Quality SLOs per table (gx/slo.toml): the file's checks, each day's outcome, the error budget,
the alert's words and the quality page's table."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest

from sparkify.names import TABLES
from sparkify.quality.checks import slo
from sparkify.quality.web.quality_page import render
from sparkify.settings import gx_dir

START = date(2018, 11, 1)


def test_the_committed_file_declares_every_published_table():
    objectives = slo.load(gx_dir(), TABLES)
    assert [o.table for o in objectives] == list(TABLES)
    assert {(o.target, o.window_days) for o in objectives} == {(0.95, 28)}


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[defaults]\ntarget = 95\n", "[defaults]: target = 95; it must be a share above 0 and at most 1"),
        ("[tables]\nsongplays = { window_days = 0 }\n", "[tables] songplays: window_days = 0; it must be a whole number"),
        ("[tables]\nplays = {}\n", "[tables] plays: not a published table"),
        ("[tables]\nusers = { targets = 0.9 }\n", "[tables] users: unknown key(s) targets"),
        ("[budget]\n", "unknown section(s) [budget]"),
        ("[tables\n", "not valid TOML"),
    ],
)
def test_a_wrong_file_names_itself_the_table_and_the_key(tmp_path, text, words):
    (tmp_path / "slo.toml").write_text(text)
    with pytest.raises(ValueError) as error:
        slo.load(tmp_path, TABLES)
    assert str(error.value).startswith(f"{tmp_path / 'slo.toml'}: ") and words in str(error.value)


def outcome(table="songplays", *, run="r1", critical=(), publish=("r1", 2), hold=None, first_seen=1, deadline=8):
    """One day's outcome; times in hours after the day's start (2018-11-01)."""
    day = datetime(2018, 11, 1)
    return slo.day_outcome(
        table,
        newest_run=run,
        critical_tables=set(critical),
        publish={"run_id": publish[0], "published_at": day + timedelta(hours=publish[1])} if publish else None,
        hold={"run_id": run, "state": hold} if hold else None,
        first_seen=day + timedelta(hours=first_seen),
        deadline=day + timedelta(days=1, hours=deadline),
    )


def test_what_meets_a_day_and_what_counts_against_it():
    assert outcome() == (True, "published on time")
    assert outcome(run=None) == (False, "no run")
    assert outcome(hold="published") == (False, "held for review (published)")  # a person published it: still a miss
    assert outcome(hold="waived") == (False, "published as waived")
    assert outcome(critical=["songplays"], publish=None) == (False, "a critical check of the table failed")
    assert outcome(publish=("r0", 2)) == (False, "not published by its newest run")  # an earlier run's rows are published
    late = outcome(publish=("r1", 40))
    assert not late[0] and late[1].startswith("published late (2018-11-02 16:00 UTC, deadline 2018-11-02 08:00 UTC)")
    # A day first run after its deadline is history: its time is not judged.
    assert outcome(publish=("r1", 400), first_seen=390)[0] is True


def test_the_budget_is_spent_once_misses_reach_it_and_only_over_a_whole_window():
    objective = slo.Objective("songplays", target=0.9, window_days=10)  # 1 day of budget
    clean = {START + timedelta(days=n): (True, "published on time") for n in range(12)}
    result = slo.evaluate(objective, clean)
    assert (result["days"], result["met"], result["allowed"], result["left"], result["spent"]) == (10, 10, 1, 1, False)
    missed = {**clean, date(2018, 11, 9): (False, "held for review (waiting)")}
    result = slo.evaluate(objective, missed)
    assert (result["met"], result["left"], result["spent"], result["broken"]) == (9, 0, True, False)
    assert result["misses"] == {date(2018, 11, 9): "held for review (waiting)"}
    # A day of the window never run counts against it: two misses break a 90% objective of 10 days.
    gap = {day: found for day, found in missed.items() if day != date(2018, 11, 10)}
    result = slo.evaluate(objective, gap)
    assert (result["met"], result["left"], result["spent"], result["broken"]) == (8, -1, True, True)
    assert result["misses"][date(2018, 11, 10)] == "no run"
    # Three days of results in a ten-day window: the share over what there is, no budget judged.
    short = slo.evaluate(objective, {START + timedelta(days=n): (n != 1, "x") for n in range(3)})
    assert (short["enough"], short["days"], short["met"], short["spent"]) == (False, 3, 2, False)


def test_one_alert_names_each_table_whose_budget_the_day_spent():
    objective = slo.Objective("users", target=0.9, window_days=10)
    outcomes = {START + timedelta(days=n): (n != 9, "published on time" if n != 9 else "held for review (held)") for n in range(10)}
    result = slo.evaluate(objective, outcomes)
    subject, text = slo.alert_text([result], date(2018, 11, 10))
    assert subject == "[sparkify] Quality SLO: error budget spent for users (2018-11-10 missed)"
    assert "users: error budget spent. Objective: 90% of the last 10 days published on time with no critical failure." in text
    assert "Met on 9 of 10 days (90.0%); 1 missed, 1 allowed by the budget." in text and "- 2018-11-10: held for review (held)" in text


def test_the_page_shows_each_tables_slo_and_what_is_left_of_its_budget():
    objective = slo.Objective("songplays", target=0.9, window_days=10)
    outcomes = {START + timedelta(days=n): (n != 4, "published on time" if n != 4 else "published as waived") for n in range(10)}
    html = render([], {}, base="", days=30, slos=[slo.evaluate(objective, outcomes)])
    (row,) = re.findall(r'<table id="slos">.*?<tbody>(.*?)</tbody>', html, re.S)
    assert "<th>songplays</th>" in row and "90% of the last 10 days" in row and "9 of 10 days (90.0%)" in row
    assert 'class="budget spent" title="2018-11-05: published as waived">0 of 1 day(s): spent</td>' in row
    broken = render([], {}, base="", days=30, slo_error="gx/slo.toml: [tables] plays: not a published table")
    assert '<p class="error">gx/slo.toml: [tables] plays: not a published table</p>' in broken
