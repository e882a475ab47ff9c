"""make run's console and run summary lead with the root cause of a failed day: the task that
failed and its error (a missing lake file), or the failed expectation and its page."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from sparkify.names import TABLES
from tests.integration.helpers import reset_warehouse, sample_with_a_bad_level, use_warehouse
from tests.session import ROOT, SAMPLE_LAKE, SESSION_DIR


def make_run(server, lake, day: str, tag: str, *options: str) -> tuple[int, str, dict]:
    use_warehouse(server)
    home = SESSION_DIR / f"run-output-{tag}"
    env = dict(os.environ, AIRFLOW_HOME=str(home / "airflow"), SPARKIFY_BUILD_DIR=str(home / "build"))
    done = subprocess.run(
        [sys.executable, "-m", "sparkify.local.cli", "run", "--lake", str(lake), "--start", day, "--end", day, *options],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    return done.returncode, done.stdout, json.loads((home / "build" / "run-summary.json").read_text())


def test_a_missing_day_file_is_the_root_cause(socket_warehouse):
    """On a new warehouse (--fresh: no table exists until prepare_warehouse, which never runs)."""
    reset_warehouse(socket_warehouse)
    # --stop-warehouse as make demo passes it (the project's embedded server; not running here).
    code, out, summary = make_run(socket_warehouse, SAMPLE_LAKE, "2018-12-01", "missing", "--fresh", "--stop-warehouse")
    assert code == 1  # as for any failed day; and the summary was written (make_run read it)
    assert summary["tables"] == dict.fromkeys(TABLES, 0) and summary["tables_not_created"] == list(TABLES)
    assert [r["published"] for r in summary["runs"]] == [False]
    day = next(line for line in out.splitlines() if line.startswith("  2018-12-01  failed"))
    assert day.index("failed: wait_for_events") < day.index("not run because of them:"), day
    assert "  songplays           0  (not created yet: no day reached prepare_warehouse)" in out.splitlines()
    causes = summary["root_causes"]
    assert [c["task_id"] for c in causes] == ["wait_for_events"]
    key = SAMPLE_LAKE.resolve() / "log_data" / "2018" / "12" / "2018-12-01-events.json"
    # A day of the lake's history: its deadline (the day's end + 6 h) passed long ago, so no wait.
    assert causes[0]["error"].startswith(f"AirflowSensorTimeout: The day's file {key} has not arrived: its deadline had passed")
    assert "2018-12-02T06:00:00+00:00 (6 h after the day's end, 2018-12-02T00:00:00+00:00" in causes[0]["error"]
    assert {"prepare_warehouse", "stage_events", "validate_staging_events", "publish_day"} <= set(causes[0]["blocked"])
    lines = out.splitlines()
    first = lines.index("Root causes (the tasks that failed themselves, with their errors):")
    assert lines[first + 1] == "  2018-12-01 wait_for_events FAILED"
    assert f"The day's file {key} has not arrived" in lines[first + 2]
    assert first < next(i for i, line in enumerate(lines) if line.startswith("Validations:"))
    assert not any(line.startswith("  FAILED") for line in lines)  # upstream_failed checks are not listed as failures


def test_a_failed_expectation_is_the_root_cause_with_its_page(socket_warehouse):
    reset_warehouse(socket_warehouse)
    lake = sample_with_a_bad_level(SESSION_DIR / "lake-run-output", "2018-11-15")
    code, out, summary = make_run(socket_warehouse, lake, "2018-11-15", "expectation")
    assert code == 1
    (cause,) = summary["root_causes"]
    assert cause["task_id"] == "validate_staging_events"
    assert cause["error"].startswith("AirflowFailException: Critical validation failed for table staging_events")
    assert "expect_column_values_to_be_in_set(column='level'" in cause["message"] and "'premium'" in cause["message"]
    assert cause["data_docs"].endswith("sparkify_warehouse-staging_events.html")
    lines = out.splitlines()
    first = lines.index("Root causes (the tasks that failed themselves, with their errors):")
    assert lines[first + 1] == "  2018-11-15 validate_staging_events FAILED"
    assert "expect_column_values_to_be_in_set(column='level'" in lines[first + 3] and "premium" in lines[first + 3]
    assert lines[first + 4] == f"      Data Docs: {cause['data_docs']}"


def test_make_run_gives_its_tasks_the_stored_variables_without_asking_the_api(monkeypatch):
    """make run's tasks read the DAG's optional Variables from the environment (no execution API
    request per templated field): the environment's value wins, then the metadata database's,
    then the DAG's default; and the process's environment is as before once the day is done."""
    from airflow.models.variable import Variable

    from sparkify.local.airflow_home import ensure_airflow_db
    from sparkify.local.runner import pinned_variables
    from sparkify.settings import ARRIVAL_WAIT_VARIABLE, DOCS_VARIABLE, MAX_QUARANTINE_VARIABLE, WARNINGS_VARIABLE

    ensure_airflow_db()
    names = {
        key: f"AIRFLOW_VAR_{key.upper()}" for key in (DOCS_VARIABLE, MAX_QUARANTINE_VARIABLE, WARNINGS_VARIABLE, ARRIVAL_WAIT_VARIABLE)
    }
    monkeypatch.setenv(names[DOCS_VARIABLE], "/from/the/environment")
    monkeypatch.delenv(names[MAX_QUARANTINE_VARIABLE], raising=False)
    monkeypatch.delenv(names[WARNINGS_VARIABLE], raising=False)
    monkeypatch.delenv(names[ARRIVAL_WAIT_VARIABLE], raising=False)
    Variable.set(MAX_QUARANTINE_VARIABLE, "0.05")
    Variable.set(DOCS_VARIABLE, "/stored/but/shadowed")
    try:
        with pinned_variables() as pinned:
            assert os.environ[names[DOCS_VARIABLE]] == "/from/the/environment"
            assert os.environ[names[MAX_QUARANTINE_VARIABLE]] == "0.05"
            assert os.environ[names[WARNINGS_VARIABLE]] == "false"
        assert pinned == {names[MAX_QUARANTINE_VARIABLE]: "0.05", names[WARNINGS_VARIABLE]: "false", names[ARRIVAL_WAIT_VARIABLE]: "6"}
        assert names[MAX_QUARANTINE_VARIABLE] not in os.environ and names[WARNINGS_VARIABLE] not in os.environ
    finally:
        Variable.delete(MAX_QUARANTINE_VARIABLE)
        Variable.delete(DOCS_VARIABLE)
