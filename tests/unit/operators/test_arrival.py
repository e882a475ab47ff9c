"""wait_for_events without a scheduler: the operator's three outcomes and the trigger's two, on a
real folder (the triggerer's run is the same coroutine)."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime, timedelta

import pytest
from airflow.sdk.exceptions import AirflowSensorTimeout, TaskDeferred

from sparkify.operators.arrival import LakeFileTrigger, WaitForLakeFileOperator, wait_hours

KEY = "log_data/2018/11/2018-11-15-events.json"


def operator(lake, day="2018-11-15", hours="6") -> WaitForLakeFileOperator:
    return WaitForLakeFileOperator(task_id="wait_for_events", key=KEY, lake_root=str(lake), wait_hours=hours, day=day, poke_interval=0.05)


def test_a_file_already_there_ends_the_task_with_its_lateness(tmp_path):
    path = tmp_path / KEY
    path.parent.mkdir(parents=True)
    path.write_text("{}\n")
    written = datetime(2018, 11, 16, 1, 30, tzinfo=UTC)
    os.utime(path, (written.timestamp(), written.timestamp()))
    assert operator(tmp_path).execute({}) == {"key": str(path), "modified": written.isoformat(), "lateness_seconds": 5400.0}


def test_a_past_deadline_fails_at_once_naming_the_file_and_the_setting(tmp_path):
    with pytest.raises(AirflowSensorTimeout) as failed:
        operator(tmp_path).execute({})
    assert str(failed.value) == (
        f"The day's file {tmp_path / KEY} has not arrived: its deadline had passed when the task ran: 2018-11-16T06:00:00+00:00 "
        "(6 h after the day's end, 2018-11-16T00:00:00+00:00; Variable sparkify_arrival_wait_hours). Nothing was staged; "
        "the published tables are unchanged."
    )


def test_a_file_not_there_yet_defers_to_the_trigger_until_the_deadline(tmp_path):
    today = datetime.now(UTC).date().isoformat()
    with pytest.raises(TaskDeferred) as deferred:
        operator(tmp_path, day=today).execute({})
    trigger = deferred.value.trigger
    deadline = datetime.fromisoformat(today).replace(tzinfo=UTC) + timedelta(days=1, hours=6)
    assert isinstance(trigger, LakeFileTrigger) and trigger.deadline == deadline.isoformat() and trigger.key == KEY
    assert deferred.value.method_name == "execute_complete"
    classpath, kwargs = trigger.serialize()
    assert classpath == "sparkify.operators.arrival.LakeFileTrigger" and LakeFileTrigger(**kwargs).serialize() == (classpath, kwargs)


def first_event(trigger: LakeFileTrigger, after=None):
    async def main():
        if after:
            asyncio.get_running_loop().call_later(0.3, after)
        async for event in trigger.run():
            return event.payload

    return asyncio.run(asyncio.wait_for(main(), timeout=10))


def test_the_trigger_fires_when_the_file_appears_or_at_the_deadline(tmp_path):
    path = tmp_path / KEY
    soon = (datetime.now(UTC) + timedelta(seconds=30)).isoformat()
    trigger = LakeFileTrigger(lake_root=str(tmp_path), key=KEY, aws_conn_id=None, deadline=soon, poke_interval=0.05)

    def arrive():
        path.parent.mkdir(parents=True)
        path.write_text("{}\n")

    event = first_event(trigger, after=arrive)
    assert event["status"] == "arrived" and datetime.fromisoformat(event["modified"]) <= datetime.now(UTC)
    missing = LakeFileTrigger(lake_root=str(tmp_path), key="log_data/none.json", aws_conn_id=None,
                              deadline=(datetime.now(UTC) + timedelta(seconds=0.3)).isoformat(), poke_interval=0.05)  # fmt: skip
    assert first_event(missing)["status"] == "timeout"
    done = operator(tmp_path)
    with pytest.raises(AirflowSensorTimeout, match=r"has not arrived: waited 0 min 12 s, until 2018-11-16T06:00:00\+00:00"):
        done.execute_complete({}, {"status": "timeout", "checked": "2026-12-03T10:00:12+00:00"}, since="2026-12-03T10:00:00+00:00")


@pytest.mark.parametrize("value", ["", "six", "-1", "nan"])
def test_a_bad_wait_is_named(value):
    with pytest.raises(ValueError, match=rf"Variable sparkify_arrival_wait_hours={value!r}: give the hours"):
        wait_hours(value)
    assert wait_hours("0.5") == 0.5
