"""The day's publish deadline: when it falls, what the alert says the day waits on (pure: the
real deadline under the scheduler and triggerer is in tests/browser/test_airflow_ui.py)."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime

from sparkify.operators.deadline import compose, compose_review, day_deadline, deadline_hours, waits_on

RUN = {"dag_id": "sparkify", "dag_run_id": "scheduled__2026-12-02", "logical_date": "2026-12-02T00:00:00Z"}


def test_the_deadline_is_the_days_end_plus_the_hours_and_none_for_history():
    now = datetime(2026, 12, 3, 5, tzinfo=UTC)
    assert day_deadline(date(2026, 12, 2), 8, now=now) == datetime(2026, 12, 3, 8, tzinfo=UTC)
    assert day_deadline(date(2018, 11, 15), 8, now=now) is None  # a backfilled day is history, not late
    assert day_deadline(date(2026, 12, 2), 4.5, now=now) is None  # created after its deadline


def test_a_bad_setting_is_logged_by_name_and_the_default_used(caplog):
    with caplog.at_level(logging.ERROR):
        assert deadline_hours("eight") == 8.0
    assert "Variable sparkify_publish_deadline_hours='eight'" in caplog.text
    assert deadline_hours("0.25") == 0.25


def test_the_alert_says_what_the_day_waits_on():
    waiting = {"wait_for_events": "deferred", "prepare_warehouse": None, "publish_day": None}
    assert waits_on(waiting) == ("its file has not arrived", "wait_for_events is deferred")
    assert waits_on({"wait_for_events": "failed", "publish_day": "upstream_failed"})[0] == "its file did not arrive"
    failed = {"wait_for_events": "success", "validate_staging_events": "failed", "load_users": "upstream_failed",
              "publish_day": "upstream_failed"}  # fmt: skip
    brief, detail = waits_on(failed)
    assert brief == "a check failed" and detail.startswith("validate_staging_events;")
    assert waits_on({"wait_for_events": "success", "stage_events": "failed"}) == ("a task failed", "stage_events")
    running = {"wait_for_events": "success", "load_songplays": "running", "validate_users": "queued", "publish_day": None}
    assert waits_on(running) == ("it is still running", "load_songplays, publish_day, validate_users")
    subject, text = compose(RUN, "2026-12-03 08:00:00+00:00", running)
    assert subject == "[sparkify] 2026-12-02 is not published by its deadline: it is still running"
    assert "The day 2026-12-02 (run scheduled__2026-12-02 of sparkify) was not published by 2026-12-03 08:00:00+00:00" in text
    assert "It waits because it is still running: load_songplays, publish_day, validate_users." in text
    assert "load_songplays running" in text and "publish_day none" in text
    # Published before the deadline was handled (the rest of the run still going): no alert.
    assert compose(RUN, "2026-12-03 08:00:00+00:00", {**running, "publish_day": "success"}) is None


def test_a_review_left_unanswered_at_the_held_days_deadline_says_since_when():
    review = {"dag_id": "sparkify_review", "dag_run_id": "review__scheduled__2026-12-02",
              "conf": {"day": "2026-12-02", "run_id": "scheduled__2026-12-02", "held_at": "2026-12-03T00:41:07.123456"}}  # fmt: skip
    subject, text = compose_review(review, "2026-12-03 08:00:00+00:00", "awaiting_input")
    assert subject == "[sparkify] 2026-12-02 is not published by its deadline: waiting for review since 2026-12-03 00:41:07 UTC"
    assert "waiting for review of 2026-12-02 (run scheduled__2026-12-02) since 2026-12-03 00:41:07 UTC." in text
    assert 'make review DAY=2026-12-02 DECISION=publish|hold REASON="..."' in text
    # Answered (decide went on: success, or skipped for a Hold) before the deadline was handled: no alert.
    assert compose_review(review, "2026-12-03 08:00:00+00:00", "success") is None
    assert compose_review(review, "2026-12-03 08:00:00+00:00", "skipped") is None
