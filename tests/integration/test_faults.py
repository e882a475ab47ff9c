"""Faults, concurrency and injection, through the real DAG (make run's runner, in a subprocess
where the test kills it): published tables never change unless a whole day publishes, and a
re-run gives the same tables as a clean run (checksums of every table)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sparkify.local.generator import generate
from tests.integration.helpers import checksums, execute, on_run_table, reset_warehouse, run_pipeline, use_warehouse
from tests.session import ROOT, SESSION_DIR

FIRST, DAY = "2018-11-01", "2018-11-02"


@pytest.fixture(scope="module")
def lake():
    path = SESSION_DIR / "lake-faults"
    generate(path, seed=31, songs=40, users=15, days=2, events=200)
    return path


@pytest.fixture(scope="module")
def clean(socket_warehouse, lake):
    """Checksums after a clean, sequential run of both days."""
    reset_warehouse(socket_warehouse)
    code, _ = run_pipeline(socket_warehouse, lake, FIRST, DAY, fresh=False, tag="faults-clean")
    assert code == 0
    return checksums(socket_warehouse)


def start_run(server, lake: Path, day: str, tag: str, **env) -> subprocess.Popen:
    """`make run` for one day in its own process (its own Airflow home and build folder)."""
    use_warehouse(server)
    home = SESSION_DIR / f"proc-{tag}"
    environment = dict(os.environ, AIRFLOW_HOME=str(home / "airflow"), SPARKIFY_BUILD_DIR=str(home / "build"), **env)
    return subprocess.Popen(
        [sys.executable, "-m", "sparkify.local.cli", "run", "--lake", str(lake), "--start", day, "--end", day],
        env=environment, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def wait_for_backend(server, query_start: str, timeout: float = 300) -> int:
    """The pid of the pipeline's session that is running a statement starting with query_start."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = execute(
            server,
            "select pid from pg_stat_activity where application_name = 'sparkify' and state = 'active' and query ilike %s",
            (query_start + "%",),
        )
        if rows:
            return rows[0][0]
        time.sleep(0.3)
    raise TimeoutError(f"no pipeline session ran {query_start!r} within {timeout}s")


def end_sessions(server) -> None:
    execute(server, "select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'sparkify'")
    deadline = time.monotonic() + 30
    while execute(server, "select count(*) from pg_stat_activity where application_name = 'sparkify'")[0][0]:
        assert time.monotonic() < deadline
        time.sleep(0.2)


@pytest.mark.parametrize(
    "task, how",
    [("load_users", "sigkill"), ("publish_day", "sigkill"), ("publish_day", "pg_terminate_backend")],
)
def test_a_killed_load_or_publish_changes_nothing_and_the_rerun_equals_a_clean_run(socket_warehouse, lake, clean, task, how):
    reset_warehouse(socket_warehouse)
    assert run_pipeline(socket_warehouse, lake, FIRST, FIRST, fresh=False, tag=f"kill-{task}-{how}-1")[0] == 0
    before = checksums(socket_warehouse)
    # Hold the task mid-way: a row trigger that sleeps. For publish_day it sits on public.time, which
    # publish.sql writes after songplays, songs, artists and users (already changed, uncommitted).
    sleep = "begin perform pg_sleep(120); return new; end"
    if task == "load_users":
        on_run_table(socket_warehouse, "users", "slow_users", sleep)
        statement = "insert into users"
    else:
        execute(socket_warehouse, f"""
            create function public.slow_time() returns trigger language plpgsql as $$ {sleep} $$;
            create trigger slow_time before insert on public.time for each row execute function public.slow_time();
            select 1""")  # fmt: skip
        statement = "insert into public.time"
    process = start_run(socket_warehouse, lake, DAY, f"kill-{task}-{how}")
    try:
        pid = wait_for_backend(socket_warehouse, statement)
        if how == "sigkill":
            process.send_signal(signal.SIGKILL)  # the whole task process, mid-transaction
            process.wait(timeout=30)
        else:
            execute(socket_warehouse, "select pg_terminate_backend(%s)", (pid,))
            output = process.communicate(timeout=120)[0]
            assert process.returncode == 1, output[-3000:]
    finally:
        if process.poll() is None:
            process.kill()
        end_sessions(socket_warehouse)  # the orphaned session is still asleep in the trigger
    assert checksums(socket_warehouse) == before  # nothing of the day was published
    execute(socket_warehouse, "drop function if exists public.slow_time() cascade; drop function if exists public.slow_users() cascade; "
            "drop function if exists public.attach_slow_users() cascade; select 1")  # fmt: skip
    if task == "publish_day":
        # Airflow's retry of publish_day: the task again, on the audit copies the run left.
        from collections import defaultdict
        from types import SimpleNamespace

        from sparkify.operators import PublishDayOperator
        from sparkify.operators.publish import published_assets

        events = defaultdict(lambda: SimpleNamespace(extra=None))  # what the task runner gives: an event per outlet
        published = PublishDayOperator(task_id="publish_day", day=DAY).execute({"outlet_events": events})
        assert published["published"]["songplays"] > 0
        assert {asset.name: event.extra["rows"] for asset, event in events.items()} == {
            asset.name: published["published"][table] for table, asset in published_assets().items()
        }
    else:
        # The load died before its commit; the day again from the start (clearing the run).
        code, summary = run_pipeline(socket_warehouse, lake, DAY, DAY, fresh=False, tag=f"kill-{task}-{how}-retry")
        assert code == 0 and summary["runs"][0]["published"]
    assert checksums(socket_warehouse) == clean


def test_warehouse_unreachable_names_the_connection_and_is_retryable(socket_warehouse, lake, monkeypatch):
    from airflow.dag_processing.dagbag import DagBag

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens here once the probe is closed
    dead = f'{{"conn_type": "postgres", "host": "127.0.0.1", "port": {port}, "login": "sparkify", "schema": "sparkify"}}'
    process = subprocess.run(
        [sys.executable, "-m", "sparkify.local.cli", "run", "--lake", str(lake), "--start", DAY, "--end", DAY],
        env=dict(os.environ, AIRFLOW_CONN_SPARKIFY_WAREHOUSE=dead, AIRFLOW_HOME=str(SESSION_DIR / "proc-dead" / "airflow"),
                 SPARKIFY_BUILD_DIR=str(SESSION_DIR / "proc-dead" / "build")),
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert process.returncode != 0
    log = (SESSION_DIR / "proc-dead" / "build" / "run.log").read_text(errors="replace")
    assert f"Cannot connect to the warehouse connection 'sparkify_warehouse' at 127.0.0.1:{port}" in log
    assert "ConnectionError" in log and "AirflowFailException" not in log  # an infrastructure error: retried
    dag = DagBag(str(ROOT / "dags")).dags["sparkify"]
    task = dag.get_task("prepare_warehouse")
    assert task.retries >= 2 and task.retry_delay.total_seconds() >= 60 and task.retry_exponential_backoff


def test_two_days_at_once_equal_a_sequential_run(socket_warehouse, lake, clean):
    reset_warehouse(socket_warehouse)
    # Both days start together, each in its own process, on the same warehouse.
    runs = [start_run(socket_warehouse, lake, day, f"concurrent-{day}") for day in (DAY, FIRST)]
    outputs = [run.communicate(timeout=600)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], [o[-3000:] for o in outputs]
    assert checksums(socket_warehouse) == clean
    assert execute(socket_warehouse, "select count(*) from information_schema.schemata where schema_name like 'wap%%'")[0][0] == 0


def test_injection_through_conf_and_variables_is_rejected_or_harmless(socket_warehouse, lake, clean, monkeypatch):
    reset_warehouse(socket_warehouse)
    hostile = "2018-11-02'; drop table users; --"
    # dag_run.conf (and params, which the DAG does not declare): never read for any identifier.
    conf = {"table": "users; drop table songs", "day": hostile, "schema": "public; drop schema public"}
    code, summary = run_pipeline(socket_warehouse, lake, FIRST, DAY, fresh=False, tag="inject-conf", conf=conf)
    assert code == 0 and checksums(socket_warehouse) == clean
    # Variables: the lake is a path (not found: nothing staged), the docs location a folder name,
    # and the quarantine threshold must be a number.
    monkeypatch.setenv("AIRFLOW_VAR_SPARKIFY_DOCS", str(SESSION_DIR / "docs'; drop table users; --"))
    monkeypatch.setenv("AIRFLOW_VAR_SPARKIFY_MAX_QUARANTINE_RATE", "0.01; drop table users")
    code, summary = run_pipeline(socket_warehouse, lake, DAY, DAY, fresh=False, tag="inject-vars")
    assert code == 1 and not summary["runs"][0]["published"]
    failed = next(v for v in summary["validations"] if v["task_id"] == "validate_quarantine")
    assert failed["state"] == "failed"
    log = (SESSION_DIR / "build" / "run.log").read_text(errors="replace")
    assert "Expectation parameter 'max_quarantine_rate' must be a number, got '0.01; drop table users'" in log
    assert checksums(socket_warehouse) == clean
    assert (SESSION_DIR / "docs'; drop table users; --" / "index.html").is_file()  # just a folder's name
    monkeypatch.setenv("AIRFLOW_VAR_SPARKIFY_MAX_QUARANTINE_RATE", "0.01")
    code, _ = run_pipeline(socket_warehouse, "/nonexistent'; drop table users; --", DAY, DAY, fresh=False, tag="inject-lake")
    assert code == 1
    assert "The lake root /nonexistent'; drop table users; -- is not a folder." in (SESSION_DIR / "build" / "run.log").read_text(
        errors="replace"
    )
    assert checksums(socket_warehouse) == clean
