"""Wait for a day's file in the lake (a folder or S3) without holding a worker slot.

``WaitForLakeFileOperator`` looks once. A file that is there ends the task at once, so a day
whose file has arrived costs one stat or one HEAD request. Otherwise the task defers to
``LakeFileTrigger`` in Airflow's triggerer, which looks every ``poke_interval`` seconds until the
file is there or the deadline passes. The deadline is the day's end (00:00 UTC after it) plus the Variable
``sparkify_arrival_wait_hours`` (default 6). A day whose deadline has already passed (a lake's
history, a backfill) fails at once, naming the key.

Why not the providers' sensors:
* ``S3KeySensor(deferrable=True)`` runs ``S3KeyTrigger``, which needs aiobotocore. No aiobotocore
  release supports the pinned botocore 1.44: pip backtracks to aiobotocore 2.3.2.
* ``FileSensor`` reads paths below a filesystem connection and reports no mtime.
This trigger reads through the project's lake (``sparkify.lake``), the same way for both kinds,
in a thread, and reports when the file was written: that is the day's arrival time.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowSensorTimeout
from airflow.triggers.base import BaseTrigger, TriggerEvent

from sparkify.settings import ARRIVAL_WAIT_VARIABLE, AWS_CONN_ID
from sparkify.templates import ARRIVAL_WAIT_HOURS, DAY, LAKE


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours} h {rest // 60} min" if hours else f"{rest // 60} min {rest % 60} s"


def wait_hours(value: Any, variable: str = ARRIVAL_WAIT_VARIABLE) -> float:
    """A Variable's value as hours after a day's end, or a clear error naming the Variable."""
    try:
        hours = float(value)
    except (TypeError, ValueError):
        hours = -1.0
    if not hours >= 0:
        raise ValueError(f"Variable {variable}={value!r}: give the hours after a day's interval ends, a number >= 0.")
    return hours


def day_end(day: str | date) -> datetime:
    """The end of a run's day (``ds``): 00:00 UTC of the day after. The day, not data_interval_end:
    a manual run's or dag.test's interval ends at the logical date."""
    start = date.fromisoformat(day) if isinstance(day, str) else day
    return datetime(start.year, start.month, start.day, tzinfo=UTC) + timedelta(days=1)


class LakeFileTrigger(BaseTrigger):
    """Fires once: when the lake key has a file (with its mtime or LastModified), or at the deadline."""

    def __init__(self, *, lake_root: str, key: str, aws_conn_id: str | None, deadline: str, poke_interval: float = 30.0):
        super().__init__()
        self.lake_root = lake_root
        self.key = key
        self.aws_conn_id = aws_conn_id
        self.deadline = deadline
        self.poke_interval = poke_interval

    def serialize(self) -> tuple[str, dict[str, Any]]:
        kwargs = {
            "lake_root": self.lake_root,
            "key": self.key,
            "aws_conn_id": self.aws_conn_id,
            "deadline": self.deadline,
            "poke_interval": self.poke_interval,
        }
        return f"{type(self).__module__}.{type(self).__qualname__}", kwargs

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from sparkify.lake import open_lake

        lake = await asyncio.to_thread(open_lake, self.lake_root, aws_conn_id=self.aws_conn_id)
        deadline = datetime.fromisoformat(self.deadline)
        while True:
            modified = await asyncio.to_thread(lake.modified, self.key)
            if modified is not None:
                yield TriggerEvent({"status": "arrived", "modified": modified.isoformat()})
                return
            now = datetime.now(UTC)
            if now >= deadline:
                yield TriggerEvent({"status": "timeout", "checked": now.isoformat()})
                return
            await asyncio.sleep(min(self.poke_interval, (deadline - now).total_seconds()))


class WaitForLakeFileOperator(BaseOperator):
    """Wait, deferred, for a key of the lake; return when it arrived and how late (see the module)."""

    template_fields: Sequence[str] = ("lake_root", "key", "wait_hours", "day")
    ui_color = "#fdf2d0"

    def __init__(
        self,
        *,
        key: str,
        lake_root: str = LAKE,
        aws_conn_id: str = AWS_CONN_ID,
        wait_hours: str = ARRIVAL_WAIT_HOURS,
        poke_interval: float = 30.0,
        day: str = DAY,
        **kwargs: Any,
    ) -> None:
        # A missing file is waited for here, not retried; an error of the lake itself still retries.
        super().__init__(**kwargs)
        self.key = key
        self.lake_root = lake_root
        self.aws_conn_id = aws_conn_id
        self.wait_hours = wait_hours
        self.poke_interval = poke_interval
        self.day = day

    def _deadline(self) -> tuple[datetime, datetime]:
        """The end of the run's day and the deadline after it."""
        end = day_end(self.day)
        return end, end + timedelta(hours=wait_hours(self.wait_hours))

    def execute(self, context) -> dict[str, Any]:
        from sparkify.lake import open_lake

        lake = open_lake(self.lake_root, aws_conn_id=self.aws_conn_id)
        end, deadline = self._deadline()
        modified = lake.modified(self.key)
        if modified is not None:
            return self._arrived(lake.name(self.key), modified, end)
        now = datetime.now(UTC)
        if now >= deadline:
            raise AirflowSensorTimeout(self._late(lake.name(self.key), end, deadline, waited=0))
        self.log.info("Waiting for %s until %s (deferred: no worker slot is held)", lake.name(self.key), deadline.isoformat())
        trigger = LakeFileTrigger(
            lake_root=self.lake_root,
            key=self.key,
            aws_conn_id=self.aws_conn_id,
            deadline=deadline.isoformat(),
            poke_interval=self.poke_interval,
        )
        # The trigger ends at the deadline itself; Airflow's own timeout is a margin behind it.
        self.defer(
            trigger=trigger,
            method_name="execute_complete",
            kwargs={"since": now.isoformat()},
            timeout=deadline - now + timedelta(minutes=10),
        )

    def execute_complete(self, context, event: dict[str, Any], since: str) -> dict[str, Any]:
        from sparkify.lake import open_lake

        name = open_lake(self.lake_root, aws_conn_id=self.aws_conn_id).name(self.key)
        end, deadline = self._deadline()
        if event["status"] != "arrived":
            waited = (datetime.fromisoformat(event["checked"]) - datetime.fromisoformat(since)).total_seconds()
            raise AirflowSensorTimeout(self._late(name, end, deadline, waited=waited))
        return self._arrived(name, datetime.fromisoformat(event["modified"]), end)

    def _arrived(self, name: str, modified: datetime, end: datetime) -> dict[str, Any]:
        lateness = (modified - end).total_seconds()
        self.log.info("%s arrived %s (%s after the day's end)", name, modified.isoformat(), _duration(lateness))
        return {"key": name, "modified": modified.isoformat(), "lateness_seconds": round(lateness, 3)}

    def _late(self, name: str, end: datetime, deadline: datetime, *, waited: float) -> str:
        limit = f"{deadline.isoformat()} ({self.wait_hours} h after the day's end, {end.isoformat()}; Variable {ARRIVAL_WAIT_VARIABLE})"
        how = f"waited {_duration(waited)}, until {limit}" if waited else f"its deadline had passed when the task ran: {limit}"
        return f"The day's file {name} has not arrived: {how}. Nothing was staged; the published tables are unchanged."
