"""The day's deadline: a run not published by its day's end plus the Variable
``sparkify_publish_deadline_hours`` (default 8) sends an alert through the same channels as a
critical failure (``sparkify.operators.alerts``: connections ``sparkify_smtp`` and
``sparkify_slack``), saying what the day waits on.

This is Airflow's own deadline machinery: the DAG carries a ``DeadlineAlert`` whose reference,
``DayEndDeadline``, the scheduler evaluates when it creates a run (the class is registered by
the project's Airflow plugin, as custom references must be). The scheduler watches the deadline;
a run that succeeds before it drops it; a missed one runs ``alert_unpublished_day`` in the
triggerer, which reads the run's task states through the execution API.

* A run whose deadline has already passed when it is created (a backfill of a lake's history, a
  rerun of an old day) has none: the day is not late now, it is history.
* A value of the Variable that is not a number >= 0 is logged by the scheduler, naming it, and
  the default is used: a bad setting must not stop runs from being created.
* The Variable is read from the environment or the metadata database (see ``_variable``).
* Under ``make run`` (``dag.test``) there is no scheduler: the runner drops the deadline
  (``sparkify.local.runner``).

A day held for review ends its own run (successfully, so that run's deadline is dropped) and waits
in a run of ``sparkify_review``. That DAG carries the same deadline, ``HeldDayDeadline``: the end
of the held day (the run's conf) plus the same Variable. Missed while ``decide`` still awaits
input, it sends "waiting for review of <day> ... since <held_at>" (``alert_unanswered_review``);
a decided review run has ended and dropped it.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from airflow.sdk.definitions.callback import AsyncCallback
from airflow.sdk.definitions.deadline import BaseDeadlineReference, DeadlineAlert

from sparkify.operators.arrival import day_end, wait_hours
from sparkify.settings import PUBLISH_DEADLINE_DEFAULT, PUBLISH_DEADLINE_VARIABLE

log = logging.getLogger(__name__)

ARRIVAL_TASK = "wait_for_events"
PUBLISH_TASK = "publish_day"
FINISHED = ("success", "skipped", "failed", "upstream_failed", "removed")


def deadline_hours(value: Any) -> float:
    """The Variable's hours; a bad value is logged (naming it) and the default is used."""
    try:
        return wait_hours(value, PUBLISH_DEADLINE_VARIABLE)
    except ValueError as err:
        log.error("%s Using the default, %s h.", err, PUBLISH_DEADLINE_DEFAULT)
        return float(PUBLISH_DEADLINE_DEFAULT)


def day_deadline(day: date, hours: float, *, now: datetime) -> datetime | None:
    """When the day must be published by; None when that has passed already (history)."""
    deadline = day_end(day) + timedelta(hours=hours)
    return deadline if deadline > now else None


class DayEndDeadline(BaseDeadlineReference):
    """The end of the run's day (00:00 UTC after ``ds``) plus the Variable's hours."""

    required_kwargs = {"dag_id", "run_id"}

    def _evaluate_with(self, *, session, dag_id: str, run_id: str, **kwargs: Any) -> datetime | None:
        # Runs in the scheduler (or `airflow backfill create`) while it creates the run: Airflow's
        # core models on the caller's session, not the task SDK.
        from airflow.models.dagrun import DagRun
        from sqlalchemy import select

        logical_date = session.scalar(select(DagRun.logical_date).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id))
        if logical_date is None:
            return None
        return _run_deadline(session, logical_date.astimezone(UTC).date(), f"Run {run_id} of {dag_id}")


def _run_deadline(session, day: date, run: str) -> datetime | None:
    """The day's deadline for a run being created; None (and a log line) when it has passed."""
    deadline = day_deadline(day, deadline_hours(_variable(session)), now=datetime.now(UTC))
    if deadline is None:
        log.info("%s: the deadline of its day %s has passed already; no deadline alert for it.", run, day)
    return deadline


class HeldDayDeadline(BaseDeadlineReference):
    """A review run's held day (``day`` of its conf): that day's end plus the Variable's hours, the
    deadline the day's own run had."""

    required_kwargs = {"dag_id", "run_id"}

    def _evaluate_with(self, *, session, dag_id: str, run_id: str, **kwargs: Any) -> datetime | None:
        from airflow.models.dagrun import DagRun
        from sqlalchemy import select

        conf = session.scalar(select(DagRun.conf).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id)) or {}
        try:
            day = date.fromisoformat(str(conf.get("day")))
        except ValueError:
            log.error("Run %s of %s: its conf names no day (%r); no deadline alert for it.", run_id, dag_id, conf.get("day"))
            return None
        return _run_deadline(session, day, f"Run {run_id} of {dag_id}")


def _variable(session) -> str:
    """The Variable as the scheduler sees it: the environment (AIRFLOW_VAR_...), else the metadata
    database, read on the caller's session. Variable.get would open and close the thread's own
    session, the one the scheduler or `airflow backfill create` is creating the run on. Other
    secrets backends are not asked."""
    import os

    from airflow.models.variable import Variable
    from sqlalchemy import select

    value = os.environ.get(f"AIRFLOW_VAR_{PUBLISH_DEADLINE_VARIABLE.upper()}")
    if value is not None:
        return value
    stored = session.scalar(select(Variable).where(Variable.key == PUBLISH_DEADLINE_VARIABLE))
    return stored.val if stored is not None else PUBLISH_DEADLINE_DEFAULT


def waits_on(states: dict[str, str | None]) -> tuple[str, str] | None:
    """What an unpublished day waits on, from its task states, in brief and in detail; None once
    the day is published."""
    if states.get(PUBLISH_TASK) == "success":
        return None
    arrival = states.get(ARRIVAL_TASK)
    if arrival == "failed":
        return "its file did not arrive", f"{ARRIVAL_TASK} failed when its own wait ended"
    if arrival != "success":
        return "its file has not arrived", f"{ARRIVAL_TASK} is {arrival or 'not started'}"
    failed = sorted(task for task, state in states.items() if state == "failed")
    checks = [task for task in failed if task.startswith("validate_")]
    if checks:
        return "a check failed", f"{', '.join(checks)}; the day stays unpublished until it is fixed and run again"
    if failed:
        return "a task failed", ", ".join(failed)
    unfinished = sorted(task for task, state in states.items() if state not in FINISHED)
    return "it is still running", ", ".join(unfinished) or PUBLISH_TASK


def compose(run: dict[str, Any], deadline: str, states: dict[str, str | None]) -> tuple[str, str] | None:
    """(subject, text) of the alert for a run past its deadline; None when it was published."""
    reason = waits_on(states)
    if reason is None:
        return None
    brief, detail = reason
    day = str(run.get("logical_date") or "")[:10]
    lines = [
        f"The day {day} (run {run.get('dag_run_id')} of {run.get('dag_id')}) was not published by {deadline}"
        f" ({PUBLISH_DEADLINE_VARIABLE} after the day's end).",
        f"It waits because {brief}: {detail}.",
        "Task states: " + ", ".join(f"{task} {state or 'none'}" for task, state in sorted(states.items())),
    ]
    return f"[sparkify] {day} is not published by its deadline: {brief}", "\n".join(lines)


def _alert(context: dict[str, Any], message_of) -> str:
    """Send the alert ``message_of(run, deadline, task states)`` composes for the run whose
    deadline passed, on every configured channel (None: nothing waits any more, no alert)."""
    from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance

    from sparkify.operators.alerts import deliver

    run = context["dag_run"]
    states = RuntimeTaskInstance.get_task_states(dag_id=run["dag_id"], run_ids=[run["dag_run_id"]]).get(run["dag_run_id"], {})
    message = message_of(run, str(context["deadline"]["deadline_time"]), states)
    if message is None:
        outcome = f"run {run['dag_run_id']} of {run['dag_id']} no longer waited when its deadline was handled; no alert"
    else:
        channels = ", ".join(deliver(*message)) or "no channel (none configured)"
        outcome = f"deadline alert for run {run['dag_run_id']} of {run['dag_id']} sent on: {channels}"
    log.info("%s", outcome)
    return outcome


async def alert_unpublished_day(context: dict[str, Any]) -> str:
    """The deadline's callback, in the triggerer: the blocking SMTP/HTTP calls run in a thread.
    It returns text: the triggerer stores the return value in a text column (``callback.output``),
    and a list there stops the triggerer (seen with Airflow 3.3.2 on SQLite)."""
    return await asyncio.to_thread(_alert, context, compose)


def compose_review(run: dict[str, Any], deadline: str, state: str | None) -> tuple[str, str] | None:
    """(subject, text) of the alert for a review run past its held day's deadline; None once the
    request was answered (decide no longer awaits input)."""
    if state not in ("awaiting_input", "deferred", "scheduled", "queued", "running", None):
        return None
    conf = run.get("conf") or {}
    day, held_run = conf.get("day"), conf.get("run_id")
    since = f"{str(conf['held_at'])[:19].replace('T', ' ')} UTC" if conf.get("held_at") else str(run.get("start_date") or "its request")
    lines = [
        f"The day {day} was not published by {deadline} ({PUBLISH_DEADLINE_VARIABLE} after the day's end):",
        f"waiting for review of {day} (run {held_run}) since {since}.",
        f"Decide it on Airflow's Required actions page ({run.get('dag_id')} run {run.get('dag_run_id')}), or: "
        f'make review DAY={day} DECISION=publish|hold REASON="..."',
    ]
    return f"[sparkify] {day} is not published by its deadline: waiting for review since {since}", "\n".join(lines)


async def alert_unanswered_review(context: dict[str, Any]) -> str:
    """The review DAG's deadline callback, in the triggerer (as ``alert_unpublished_day``)."""
    return await asyncio.to_thread(_alert, context, _compose_review_of_states)


def _compose_review_of_states(run: dict[str, Any], deadline: str, states: dict[str, str | None]) -> tuple[str, str] | None:
    return compose_review(run, deadline, states.get("decide"))


def review_deadline() -> DeadlineAlert | None:
    """The review DAG's DeadlineAlert: the held day's deadline (HeldDayDeadline)."""
    return _deadline(HeldDayDeadline(), alert_unanswered_review, "a held day decided by its end + sparkify_publish_deadline_hours")


def publish_deadline() -> DeadlineAlert | None:
    """The DAG's DeadlineAlert: DayEndDeadline carries the hours, so the interval adds nothing.

    None in a DAG parsed by ``airflow dags test``: Airflow 3.3.2 cannot end that command's run of
    a DAG with a deadline (apache/airflow#73428: its in-memory DAG holds the alerts' definitions
    where the database lookup wants their ids, and the successful run exits 1 with a traceback).
    No scheduler watches deadlines in that command anyway; make run leaves them out the same way."""
    return _deadline(DayEndDeadline(), alert_unpublished_day, "published by the day's end + sparkify_publish_deadline_hours")


def _deadline(reference: BaseDeadlineReference, callback, name: str) -> DeadlineAlert | None:
    """A DeadlineAlert whose reference carries the hours (the interval adds nothing); None under
    ``airflow dags test`` (see publish_deadline)."""
    if _dags_test_command():
        return None
    return DeadlineAlert(reference=reference, interval=timedelta(0), callback=AsyncCallback(callback), name=name)


def _dags_test_command() -> bool:
    """This process is ``airflow dags test`` (the DAG is parsed in it, as for no other command)."""
    import sys

    return Path(sys.argv[0]).name == "airflow" and sys.argv[1:3] == ["dags", "test"]
