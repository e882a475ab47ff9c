"""Published tables are Airflow Assets: publish_day emits one event per table with the day and its
validation summary; a day that fails a critical check emits none; the example downstream DAG
reads the songplays event."""

from __future__ import annotations

from sparkify.names import suites
from tests.integration.helpers import reset_warehouse, run_pipeline, sample_with_a_bad_level
from tests.session import SAMPLE_LAKE, SESSION_DIR

ALL = len(suites())  # every committed suite runs once a day (read from gx/)

GOOD, BAD = "2018-11-14", "2018-11-15"


def asset_events() -> list[tuple[str, dict]]:
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.execute(select(AssetModel.name, AssetEvent.extra).join(AssetModel, AssetEvent.asset_id == AssetModel.id)).all()
    return [(name, dict(extra or {})) for name, extra in rows]


def test_a_published_day_emits_one_event_per_table_and_a_failed_day_none(socket_warehouse):
    from sparkify.local.airflow_home import ensure_airflow_db
    from sparkify.operators.publish import describe_events

    ensure_airflow_db()  # the session's metadata DB exists before the first count
    reset_warehouse(socket_warehouse)
    before = len(asset_events())
    code, summary = run_pipeline(socket_warehouse, SAMPLE_LAKE, GOOD, GOOD, fresh=False, tag="assets-good")
    assert code == 0
    events = asset_events()[before:]
    assert sorted(name for name, _ in events) == sorted(f"sparkify.{t}" for t in ("songplays", "users", "songs", "artists", "time"))
    extras = dict(events)
    songplays = extras["sparkify.songplays"]
    assert songplays["day"] == GOOD and songplays["rows"] == summary["tables"]["songplays"]
    assert songplays["validation"]["suites"] == ALL and songplays["validation"]["passed"] == ALL
    assert songplays["validation"]["failed_critical"] == 0

    class Event:  # what the downstream DAG's context hands it: events with an extra
        extra = songplays

    # The sample's plays rarely match a song and its artists lack locations: two warning-level checks fail.
    assert songplays["validation"]["warnings"] == 2 and songplays["validation"]["suites_with_warnings"] == ["artists", "songplays"]
    assert describe_events([Event()]) == [{"day": GOOD, "rows": songplays["rows"], "all_passed": True, "warnings": 2}]

    lake = sample_with_a_bad_level(SESSION_DIR / "lake-assets", BAD)
    count = len(asset_events())
    code, _ = run_pipeline(socket_warehouse, lake, BAD, BAD, fresh=False, tag="assets-bad")
    assert code == 1
    assert len(asset_events()) == count  # the failed day published nothing and told no one it had
