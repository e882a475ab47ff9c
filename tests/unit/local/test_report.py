"""make run's console: control characters from data never reach the terminal raw."""

from __future__ import annotations

from pathlib import Path

from sparkify.local.report import printable, say, summarise


def test_escape_sequences_are_shown_not_interpreted(capsys):
    say("user \x1b]0;pwned\x07 \x1b[2J\rlevel\x9b1m\tok")
    out = capsys.readouterr().out
    assert out == "user \\x1b]0;pwned\\x07 \\x1b[2J\\x0dlevel\\x9b1m\tok\n"
    assert "\x1b" not in out and "\r" not in out
    assert printable("Café 2018-11-05\n") == "Café 2018-11-05\n"


def test_a_validation_that_never_started_is_not_run_with_no_outcome():
    day = {
        "date": "2018-11-05", "run_id": "manual__2026-12-07", "state": "failed", "seconds": 1.0,
        "tasks": {"validate_users": "failed", "validate_time": "upstream_failed", "validate_songs": "success"},
        "xcom": {"validate_users": {"summary": {"suite": "users", "success": False, "message": "Critical validation failed"}},
                 "validate_songs": {"summary": {"suite": "songs", "success": True}}},
    }  # fmt: skip
    counts = dict.fromkeys(("songplays", "users", "songs", "artists", "time", "songplays_with_song"), 0)
    by_task = {v["task_id"]: v for v in summarise([day], counts)["validations"]}
    assert (by_task["validate_time"]["state"], by_task["validate_time"]["success"]) == ("not run", None)
    assert (by_task["validate_users"]["state"], by_task["validate_users"]["success"]) == ("failed", False)
    assert (by_task["validate_songs"]["state"], by_task["validate_songs"]["success"]) == ("success", True)
    assert "ran" not in by_task["validate_time"]


def test_a_held_day_is_not_published_and_says_how_to_decide_it(capsys):
    from datetime import datetime

    from sparkify.local.report import print_summary, waiting_days
    from sparkify.local.runner import day_line

    day = {
        "date": "2018-11-28", "run_id": "held_run", "state": "success", "seconds": 9.0,
        "tasks": {"validate_history": "success", "publish_day": "skipped", "end": "skipped", "request_review": "skipped"},
        "xcom": {"publish_day": {"review": {"state": "waiting"}}},
    }  # fmt: skip
    check = {"suite": "history", "table": "day_metrics", "expectation": "e", "column": "songplays_rows", "observed": 610,
             "expected": {"min_value": 900}, "description": "songplays.rows = 610", "data_docs": None}  # fmt: skip
    record = {"run_id": "held_run", "state": "waiting", "held_at": datetime(2018, 11, 29, 6), "decided_by": None, "decided_at": None,
              "reason": None, "checks": [check]}  # fmt: skip
    counts = dict.fromkeys(("songplays", "users", "songs", "artists", "time", "songplays_with_song"), 0)
    summary = summarise([day], counts, {"held_run": record})
    (run,) = summary["runs"]
    assert run["published"] is False and run["review"] == {
        "state": "waiting", "by": None, "at": None, "reason": None, "checks": [check], "held_at": "2018-11-29T06:00:00Z"
    }  # fmt: skip
    assert waiting_days(summary) == ["2018-11-28"]
    assert day_line(day) == "  2018-11-28  success    9.0s  HELD for review (nothing published)"
    # A day published: request_review skipped itself (make run asks nobody), and that is no news.
    clean = dict(day, tasks={"publish_day": "success", "end": "success", "request_review": "skipped"}, xcom={})
    assert day_line(clean) == "  2018-11-28  success    9.0s"
    assert day_line(dict(clean, tasks={"publish_day": "skipped", "end": "skipped"})).endswith(
        "not successful: end (skipped), publish_day (skipped)"
    )
    print_summary(dict(summary, seconds=9.0), Path("run-summary.json"))
    out = capsys.readouterr().out
    assert "Published days: 0 of 1; NOT published: 2018-11-28" in out
    assert "  Day 2018-11-28 is held for review: 1 review-severity check(s) failed; nothing of it is published." in out
    assert '  Decide it: make review DAY=2018-11-28 DECISION=publish|hold REASON="..."' in out
