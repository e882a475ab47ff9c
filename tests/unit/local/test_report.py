"""make run's console: control characters from data never reach the terminal raw."""

from __future__ import annotations

from sparkify.local.report import printable, say


def test_escape_sequences_are_shown_not_interpreted(capsys):
    say("user \x1b]0;pwned\x07 \x1b[2J\rlevel\x9b1m\tok")
    out = capsys.readouterr().out
    assert out == "user \\x1b]0;pwned\\x07 \\x1b[2J\\x0dlevel\\x9b1m\tok\n"
    assert "\x1b" not in out and "\r" not in out
    assert printable("Café 2018-11-05\n") == "Café 2018-11-05\n"


def test_a_validation_that_never_started_is_not_run_with_no_outcome():
    from sparkify.local.report import summarise

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
