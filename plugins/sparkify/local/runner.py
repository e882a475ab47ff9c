"""Run the DAG over a lake and a date range in one process (make run / make demo).

Each day is one real DAG run (``dag.test``): the same tasks, templates and task states as the
scheduler would produce, without starting a scheduler. Several days can run at once, one process
each (sparkify.local.parallel). The run summary, days in date order, is written to
build/run-summary.json.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sparkify.local.airflow_home import airflow_env, ensure_airflow_db, ensure_warehouse
from sparkify.local.report import print_summary, publish_records, say, summarise, table_counts, waiting_days
from sparkify.settings import DAG_ID, WAREHOUSE_CONN_ID, build_dir, gx_dir, project_root

HELD_EXIT = 3  # make run's exit status when no day failed but days are held for review
HELD_TASKS = ("publish_day", "end")  # skipped when a day is held
REQUEST_TASK = "request_review"  # skipped under make run: it prints make review's command instead of asking


def days(start: str, end: str) -> list[date]:
    first, last = date.fromisoformat(start), date.fromisoformat(end)
    if last < first:
        raise ValueError(f"END ({end}) is before START ({start}).")
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


@contextlib.contextmanager
def _output_to(path: Path):
    """Send this process's output (Airflow's task logs) to a file for the duration."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved_fds = os.dup(1), os.dup(2)
    saved_streams = sys.stdout, sys.stderr
    with open(path, "ab") as handle, open(path, "a", buffering=1, encoding="utf-8", errors="replace") as text:
        os.dup2(handle.fileno(), 1)
        os.dup2(handle.fileno(), 2)
        sys.stdout = sys.stderr = text  # also when sys.stdout is not fd 1 (pytest, notebooks)
        try:
            yield
        finally:
            sys.stdout, sys.stderr = saved_streams
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved_fds[0], 1)
            os.dup2(saved_fds[1], 2)
            os.close(saved_fds[0])
            os.close(saved_fds[1])


def fresh_start(conn_id: str) -> None:
    """Empty the warehouse and the stored GX results, for FRESH=1."""
    import shutil

    from sparkify.warehouse.connection import transaction
    from sparkify.warehouse.wap import drop_run_schemas

    with transaction(conn_id) as (conn, _):
        # Runs' schemas too: a day that did not publish keeps its own until it runs again.
        drop_run_schemas(conn)
        with conn.cursor() as cur:
            cur.execute("drop schema if exists public cascade")
            cur.execute("drop schema if exists dq cascade")  # the shared results store
            cur.execute("create schema public")
    for sub in ("validations", "data_docs"):
        shutil.rmtree(gx_dir() / "uncommitted" / sub, ignore_errors=True)


def run_days(
    day_list: list[date],
    *,
    log_file: Path,
    quiet: bool = False,
    conf: dict | None = None,
    on_day=None,
    dags_folder: Path | None = None,
    dag_id: str = DAG_ID,
) -> list[dict[str, Any]]:
    """Run the DAG once per day; returns, per day, the run state and each task's state and XCom
    (``on_day(result)`` is called as each day finishes). The DAG is the project's, unless
    ``dags_folder`` and ``dag_id`` name another (the bench's no-op copy of its graph)."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(str(dags_folder or project_root() / "dags"))
    if bag.import_errors:
        raise RuntimeError(f"DAG import errors: {bag.import_errors}")
    dag = bag.get_dag(dag_id)
    for task in dag.tasks:
        # Fail fast in one-shot runs: dag.test would sleep through each retry delay. The
        # scheduler (make airflow) keeps the DAG's retries for infrastructure errors.
        task.retries = 0
    # No scheduler watches a deadline here. And dag.test in Airflow 3.3.2 cannot finish a
    # successful run of a DAG with a DeadlineAlert: its in-memory copy keeps the alerts' definitions
    # where the scheduler's has their ids (DeadlineAlertModel.get_by_id fails on them).
    dag.deadline = None
    results = []
    for day in day_list:
        started = time.monotonic()
        with pinned_variables(), _output_to(log_file):
            run = dag.test(logical_date=_utc_midnight(day), run_conf=conf)
        started_when_created(run)
        results.append(collect_run(run, day, seconds=time.monotonic() - started))
        if on_day is not None:
            on_day(results[-1])
        if not quiet:
            say(day_line(results[-1]))
    return results


@contextlib.contextmanager
def pinned_variables():
    """Give each optional Variable of the DAG (settings.OPTIONAL_VARIABLES) to this process's tasks
    as an environment variable, as the lake already is, for the duration: the value already in the
    environment, else the one stored in the metadata database, else the DAG's default. Tasks then
    read them from the environment, the first place Airflow looks, instead of asking the
    execution API for every templated field of every task (about 25 ms each, ten a day)."""
    from airflow.models.variable import Variable
    from airflow.utils.session import create_session
    from sqlalchemy import select

    from sparkify.settings import OPTIONAL_VARIABLES

    pinned = {}
    with create_session() as session:
        for key, default in OPTIONAL_VARIABLES.items():
            name = f"AIRFLOW_VAR_{key.upper()}"
            if name not in os.environ:
                stored = session.scalar(select(Variable).where(Variable.key == key))
                pinned[name] = stored.val if stored is not None else default
    os.environ.update(pinned)
    try:
        yield pinned
    finally:
        for name in pinned:
            os.environ.pop(name, None)


def day_line(result: dict[str, Any]) -> str:
    """A finished day as make run prints it: date, state, seconds, then the tasks that failed
    themselves (the root causes) before those that did not run because of them."""
    states = result["tasks"]
    failed = sorted(t for t, s in states.items() if s == "failed")
    blocked = sorted(t for t, s in states.items() if s == "upstream_failed")
    held = "review" in result["xcom"].get("publish_day", {})  # publish_day held the day (and ended skipped, end with it)
    expected = {REQUEST_TASK: "skipped"} | (dict.fromkeys(HELD_TASKS, "skipped") if held else {})  # make run asks nobody
    other = sorted(f"{t} ({s})" for t, s in states.items() if s not in ("success", "failed", "upstream_failed") and expected.get(t) != s)
    line = f"  {result['date']}  {result['state']:<8} {result['seconds']:5.1f}s" + ("  HELD for review (nothing published)" if held else "")
    if failed:
        line += f"  failed: {', '.join(failed)}"
    if blocked:
        line += f"  not run because of them: {len(blocked)} task(s)"
    return line + (f"  not successful: {', '.join(other)}" if other else "")


def warm_execution_api() -> None:
    """Build the in-process execution API that dag.test runs tasks through (one per process) and
    send it a first request, which builds its versioned routes: seconds that would otherwise fall
    on the process's first day. No database is touched."""
    import httpx
    from airflow.sdk.execution_time.supervisor import in_process_api_server

    api = in_process_api_server()
    httpx.Client(transport=api.transport, base_url="http://in-process.invalid/").get("/health").raise_for_status()


def _utc_midnight(day: date):
    import pendulum

    return pendulum.datetime(day.year, day.month, day.day, tz="UTC")


def started_when_created(run) -> None:
    """dag.test starts its run at the logical date (2018 for the lake's days), so the grid's duration
    chart would draw a run of years: the run's start becomes the time it was created, as a
    scheduler's run has it."""
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from sqlalchemy import update

    with create_session() as session:
        session.execute(
            update(DagRun)
            .where(DagRun.dag_id == run.dag_id, DagRun.run_id == run.run_id, DagRun.start_date < DagRun.run_after)
            .values(start_date=DagRun.run_after)
        )


def collect_run(run, day: date, *, seconds: float) -> dict[str, Any]:
    """Task states, durations and XCom of a finished run, read from the Airflow metadata database."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        tis = session.scalars(select(TaskInstance).where(TaskInstance.dag_id == run.dag_id, TaskInstance.run_id == run.run_id)).all()
        states = {ti.task_id: str(getattr(ti.state, "value", ti.state)) for ti in tis}
        durations = {ti.task_id: round(ti.duration, 3) for ti in tis if ti.duration is not None}
        rows = session.execute(
            select(XComModel.task_id, XComModel.key, XComModel.value).where(XComModel.dag_id == run.dag_id, XComModel.run_id == run.run_id)
        ).all()
    xcom: dict[str, dict[str, Any]] = {}
    for task_id, key, value in rows:
        xcom.setdefault(task_id, {})[key] = _xcom_value(value)
    return {
        "date": day.isoformat(),
        "run_id": run.run_id,
        "state": str(getattr(run.state, "value", run.state)),
        "seconds": round(seconds, 2),
        "tasks": states,
        "durations": durations,  # seconds from the task's start to its end, as the metadata DB has them
        "xcom": xcom,
    }


def _xcom_value(value):
    if isinstance(value, (bytes, str)):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def refused_beside_make_airflow() -> bool:
    """One job runs its days on the Airflow home's own metadata DB. When make airflow runs on that
    home, its scheduler would run those days' tasks too (each twice): say so, and run nothing."""
    from sparkify.local.airflow_home import make_airflow_pid

    home = Path(os.environ["AIRFLOW_HOME"])
    pid = make_airflow_pid(home)
    if pid is None:
        return False
    say(
        f"make run: make airflow is running on this Airflow home ({home}, pid {pid}), and its scheduler would run "
        "this run's tasks as well: nothing was run. Trigger the days in its UI (or, after "
        'eval "$(make -s airflow-env)", with airflow backfill create), run two or more days with JOBS=2 or more '
        "(each job has a metadata DB of its own), or stop make airflow (Ctrl-C) first."
    )
    return True


def use_settings(lake_root: str) -> None:
    """This process's Airflow settings for make run: the lake and warehouse connection made here,
    the rest as already in the environment (the Makefile's, or a test session's) where set."""
    from sparkify.settings import REVIEW_REQUESTS_ENV

    os.environ[REVIEW_REQUESTS_ENV] = "off"  # make run never waits for a person: a held day prints make review's command
    conn = ensure_warehouse()
    for key, value in airflow_env(lake=lake_root, warehouse_conn=conn).items():
        if key.startswith(("AIRFLOW_CONN_", "AIRFLOW_VAR_")):
            os.environ[key] = value
        else:
            os.environ.setdefault(key, value)


def run(
    lake: str,
    start: str,
    end: str,
    *,
    fresh: bool = False,
    summary_path: Path | None = None,
    conf: dict | None = None,
    jobs: int = 1,
    backwards: bool = False,
) -> int:
    """make run: the DAG for every day START..END over LAKE; exit status 1 if any day failed, else
    3 if any day is held for review (it never waits for a person: make review decides it), else 0.

    ``jobs`` > 1 runs that many days at once, one process each (sparkify.local.parallel);
    ``backwards`` starts from END, as Airflow's ``backfill create --run-backwards``."""
    if jobs < 1:
        raise ValueError(f"jobs={jobs}: make run needs at least one job (JOBS=1 runs the days one after another).")
    day_list = days(start, end)[:: -1 if backwards else 1]
    lake_root = lake if "://" in lake else str(Path(lake).expanduser().resolve())
    use_settings(lake_root)
    build_dir().mkdir(parents=True, exist_ok=True)
    jobs = min(jobs, len(day_list))
    if jobs == 1 and refused_beside_make_airflow():
        return 2
    pool = None
    if jobs > 1:
        from sparkify.local.parallel import Jobs

        pool = Jobs(day_list, jobs=jobs, conf=conf)  # they warm up while this process prepares
    try:
        migrated = ensure_airflow_db(background=True)
        from airflow.dag_processing.dagbag import DagBag  # noqa: F401  (imports overlap the migration)

        if pool is None:
            warm_execution_api()  # this process runs the days: its one-off cost overlaps the migration too
        migrated()
        if fresh:
            fresh_start(WAREHOUSE_CONN_ID)
    except BaseException:
        if pool is not None:
            pool.stop()
        raise
    log_file = build_dir() / "run.log"
    log_file.write_text("")
    at_once = f", {jobs} at once" if jobs > 1 else ""
    say(f"Running DAG {DAG_ID!r} for {len(day_list)} day(s) {start}..{end}{at_once} over {lake_root} (task logs: {log_file})")
    started = time.monotonic()
    if pool is not None:
        results = pool.run(log_file=log_file, report=lambda result: say(day_line(result)))
    else:
        results = sorted(run_days(day_list, log_file=log_file, conf=conf), key=lambda result: result["date"])
    summary = summarise(results, table_counts(WAREHOUSE_CONN_ID), publish_records(WAREHOUSE_CONN_ID, [r["run_id"] for r in results]))
    summary["seconds"] = round(time.monotonic() - started, 1)
    path = summary_path or build_dir() / "run-summary.json"
    path.write_text(json.dumps(summary, indent=2) + "\n")
    print_summary(summary, path)
    return exit_status(summary, results)


def exit_status(summary: dict[str, Any], results: list[dict[str, Any]]) -> int:
    """make run's exit status: 1 when a run or a critical check failed, else 3 when days are held
    for review, else 0."""
    if any(v["success"] is False for v in summary["validations"]) or any(r["state"] != "success" for r in results):
        return 1
    return HELD_EXIT if waiting_days(summary) else 0
