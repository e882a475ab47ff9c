"""Run the DAG over a lake and a date range in one process (make run / make demo).

Each day is one real DAG run (``dag.test``): the same tasks, templates and task states as the
scheduler would produce, without starting a scheduler. The run summary is written to
build/run-summary.json.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sparkify import BUILD_DIR, GX_DIR, LAKE_VARIABLE, PROJECT_ROOT, WAREHOUSE_CONN_ID

WAREHOUSE_DIR = PROJECT_ROOT / ".warehouse"
AIRFLOW_HOME = PROJECT_ROOT / ".airflow"
DAG_ID = "sparkify"
TABLES = ("songplays", "users", "songs", "artists", "time")

log = logging.getLogger("sparkify.runner")


def airflow_env(lake: str | None = None, warehouse_conn: str | None = None) -> dict[str, str]:
    """Environment for Airflow in this project: its home, dags, plugins, connection, lake."""
    env = {
        "AIRFLOW_HOME": str(AIRFLOW_HOME),
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "PYTHONPATH": os.pathsep.join(p for p in (str(PROJECT_ROOT / "plugins"), os.environ.get("PYTHONPATH", "")) if p),
        "NO_PROXY": "*",
    }
    if warehouse_conn:
        env[f"AIRFLOW_CONN_{WAREHOUSE_CONN_ID.upper()}"] = warehouse_conn
    if lake:
        env[f"AIRFLOW_VAR_{LAKE_VARIABLE.upper()}"] = lake
    return env


def ensure_warehouse() -> str:
    """The warehouse connection (JSON or URI): the configured one, else the embedded server."""
    configured = os.environ.get(f"AIRFLOW_CONN_{WAREHOUSE_CONN_ID.upper()}")
    if configured:
        return configured
    from sparkify import embedded

    return embedded.start(WAREHOUSE_DIR / "pgdata").connection_json()


_migrated: set[str] = set()


def ensure_airflow_db(*, background: bool = False):
    """Create or upgrade the Airflow metadata database (once per process and AIRFLOW_HOME).

    With background=True it returns a callable that waits for the migration to finish, so that
    other start-up work (imports, DAG parsing) overlaps with it.
    """
    import subprocess

    home = os.environ.get("AIRFLOW_HOME", str(AIRFLOW_HOME))
    if home in _migrated:
        return lambda: None
    Path(home).mkdir(parents=True, exist_ok=True)
    airflow = Path(sys.executable).with_name("airflow")
    process = subprocess.Popen(
        [str(airflow), "db", "migrate"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy()
    )

    def wait() -> None:
        _, stderr = process.communicate()
        if process.returncode != 0:
            raise RuntimeError(f"airflow db migrate failed:\n{stderr[-3000:]}")
        _migrated.add(home)

    if background:
        return wait
    wait()
    return lambda: None


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


def _say(message: str) -> None:
    print(message, flush=True)


def fresh_start(conn_id: str) -> None:
    """Empty the warehouse and the stored GX results, for FRESH=1."""
    import shutil

    from sparkify.db import RUN_SCHEMA, transaction

    with transaction(conn_id) as (conn, _):
        with conn.cursor() as cur:
            # Runs' schemas too: a day that did not publish keeps its own until it runs again.
            cur.execute("select schema_name from information_schema.schemata where schema_name like 'wap\\_%'")
            for (schema,) in cur.fetchall():
                if RUN_SCHEMA.fullmatch(schema):
                    cur.execute(f"drop schema {schema} cascade")
            cur.execute("drop schema if exists public cascade")
            cur.execute("create schema public")
    for sub in ("validations", "data_docs"):
        shutil.rmtree(GX_DIR / "uncommitted" / sub, ignore_errors=True)


def run_days(day_list: list[date], *, log_file: Path, quiet: bool = False, conf: dict | None = None) -> list[dict[str, Any]]:
    """Run the DAG once per day; returns, per day, the run state and each task's state and XCom."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(str(PROJECT_ROOT / "dags"))
    if bag.import_errors:
        raise RuntimeError(f"DAG import errors: {bag.import_errors}")
    dag = bag.get_dag(DAG_ID)
    for task in dag.tasks:
        # Fail fast in one-shot runs: dag.test would sleep through each retry delay. The
        # scheduler (make airflow) keeps the DAG's retries for infrastructure errors.
        task.retries = 0
    results = []
    for day in day_list:
        started = time.monotonic()
        with _output_to(log_file):
            run = dag.test(logical_date=_utc_midnight(day), run_conf=conf)
        results.append(collect_run(run, day, seconds=time.monotonic() - started))
        failed = [t for t, s in results[-1]["tasks"].items() if s not in ("success",)]
        if quiet:
            continue
        _say(
            f"  {day}  {results[-1]['state']:<8} {results[-1]['seconds']:5.1f}s"
            + (f"  not successful: {', '.join(sorted(failed))}" if failed else "")
        )
    return results


def _utc_midnight(day: date):
    import pendulum

    return pendulum.datetime(day.year, day.month, day.day, tz="UTC")


def collect_run(run, day: date, *, seconds: float) -> dict[str, Any]:
    """Task states and XCom of a finished run, read from the Airflow metadata database."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        tis = session.scalars(select(TaskInstance).where(TaskInstance.dag_id == run.dag_id, TaskInstance.run_id == run.run_id)).all()
        states = {ti.task_id: str(getattr(ti.state, "value", ti.state)) for ti in tis}
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
        "xcom": xcom,
    }


def _xcom_value(value):
    if isinstance(value, (bytes, str)):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def table_counts(conn_id: str) -> dict[str, Any]:
    from sparkify.db import transaction

    counts: dict[str, Any] = {}
    with transaction(conn_id) as (conn, _), conn.cursor() as cur:
        for table in TABLES:
            cur.execute(f"select count(*) from {table}")
            counts[table] = cur.fetchone()[0]
        cur.execute("select count(*) from songplays where song_id is not null")
        counts["songplays_with_song"] = cur.fetchone()[0]
    return counts


def summarise(results: list[dict[str, Any]], counts: dict[str, Any]) -> dict[str, Any]:
    """The run summary of DESIGN.md: staged rows, final table counts, every validation."""
    staged_events = 0
    staged_songs = 0
    validations = []
    for day in results:
        xcom = day["xcom"]
        staged_events += (xcom.get("stage_events", {}).get("return_value") or {}).get("loaded", 0)
        songs = (xcom.get("stage_songs", {}).get("return_value") or {}).get("loaded")
        staged_songs = songs if songs is not None else staged_songs
        for task_id, state in sorted(day["tasks"].items()):
            if not task_id.startswith("validate_"):
                continue
            summary = xcom.get(task_id, {}).get("summary") or {}
            validations.append(
                {
                    "date": day["date"],
                    "suite": summary.get("suite", task_id.removeprefix("validate_")),
                    "task_id": task_id,
                    "state": state,
                    "success": bool(summary.get("success")) and state == "success",
                    "ran": bool(summary),
                    "failed_critical": summary.get("failed_critical"),
                    "failed_warning": summary.get("failed_warning"),
                    "data_docs": summary.get("data_docs"),
                    # The task's extra link, as Airflow stored it when the task ended.
                    "link": xcom.get(task_id, {}).get("_link_DataDocsLink"),
                    "message": summary.get("message") or "",
                }
            )
    tables = {t: counts[t] for t in TABLES}
    return {
        "staged": {"events": staged_events, "songs": staged_songs},
        "tables": tables,
        "songplays_with_song": counts["songplays_with_song"],
        "runs": [
            {
                "date": d["date"],
                "state": d["state"],
                "seconds": d["seconds"],
                # Published only when publish_day succeeded: otherwise the tables kept their rows.
                "published": d["tasks"].get("publish_day") == "success",
                "quarantined": sum(
                    (d["xcom"].get(t, {}).get("return_value") or {}).get("quarantined", 0) for t in ("stage_events", "stage_songs")
                ),
            }
            for d in results
        ],
        "validations": validations,
    }


def run(lake: str, start: str, end: str, *, fresh: bool = False, summary_path: Path | None = None, conf: dict | None = None) -> int:
    """make run: the DAG for every day START..END over LAKE; exit status 1 if any day failed."""
    day_list = days(start, end)
    lake_root = lake if "://" in lake else str(Path(lake).expanduser().resolve())
    conn = ensure_warehouse()
    for key, value in airflow_env(lake=lake_root, warehouse_conn=conn).items():
        # Settings already in the environment win (the Makefile's, or a test session's).
        if key.startswith(("AIRFLOW_CONN_", "AIRFLOW_VAR_")):
            os.environ[key] = value
        else:
            os.environ.setdefault(key, value)
    if str(PROJECT_ROOT / "plugins") not in sys.path:
        sys.path.insert(0, str(PROJECT_ROOT / "plugins"))
    BUILD_DIR.mkdir(parents=True, exist_ok=True)
    migrated = ensure_airflow_db(background=True)
    from airflow.dag_processing.dagbag import DagBag  # noqa: F401  (imports overlap the migration)

    migrated()
    if fresh:
        fresh_start(WAREHOUSE_CONN_ID)
    log_file = BUILD_DIR / "run.log"
    log_file.write_text("")
    _say(f"Running DAG {DAG_ID!r} for {len(day_list)} day(s) {start}..{end} over {lake_root} (task logs: {log_file})")
    started = time.monotonic()
    results = run_days(day_list, log_file=log_file, conf=conf)
    summary = summarise(results, table_counts(WAREHOUSE_CONN_ID))
    summary["seconds"] = round(time.monotonic() - started, 1)
    path = summary_path or BUILD_DIR / "run-summary.json"
    path.write_text(json.dumps(summary, indent=2) + "\n")
    print_summary(summary, path)
    failed = [v for v in summary["validations"] if not v["success"] and v["ran"]]
    return 1 if failed or any(r["state"] != "success" for r in results) else 0


def print_summary(summary: dict[str, Any], path: Path) -> None:
    from sparkify.operators.validate import docs_location

    _say("")
    _say(f"Staged rows: events {summary['staged']['events']:,}, songs {summary['staged']['songs']:,}")
    _say("Tables:")
    for table, count in summary["tables"].items():
        _say(f"  {table:<10} {count:>10,}")
    _say(f"  songplays with a matched song: {summary['songplays_with_song']:,}")
    published = [r["date"] for r in summary["runs"] if r["published"]]
    held = [r["date"] for r in summary["runs"] if not r["published"]]
    _say(f"Published days: {len(published)} of {len(summary['runs'])}" + (f"; NOT published: {', '.join(held)}" if held else ""))
    quarantined = {r["date"]: r["quarantined"] for r in summary["runs"] if r["quarantined"]}
    if quarantined:
        _say("Quarantined lines/files: " + ", ".join(f"{d}: {n}" for d, n in quarantined.items()) + " (table quarantine)")
    passed = sum(v["success"] for v in summary["validations"])
    _say(f"Validations: {passed} passed of {len(summary['validations'])}")
    for v in summary["validations"]:
        if not v["success"]:
            _say(f"  FAILED {v['date']} {v['suite']} ({v['state']}) {v['data_docs'] or ''}")
    _say(f"Data Docs: {docs_location(os.environ.get('AIRFLOW_VAR_SPARKIFY_DOCS'))}/index.html")
    _say(f"Summary: {path}  ({summary['seconds']}s)")
