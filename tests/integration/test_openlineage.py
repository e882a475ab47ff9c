"""OpenLineage through real DAG runs (apache-airflow-providers-openlineage; make run LINEAGE=file):
a generated two-day lake whose first day passes and whose second fails staging_events' critical
level check, with a users warning that fails on both days. The events are read back and compared
with what Airflow's metadata DB and the results store hold."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import uuid

from tests.integration.helpers import execute, reset_warehouse, use_warehouse
from tests.session import ROOT, SESSION_DIR

HOME = SESSION_DIR / "openlineage"
DAYS = ("2018-11-01", "2018-11-02")


def write_lake(root):
    """Two generated days; one NextSong event of the second day has the unknown level "premium"."""
    from sparkify.local.generator import generate

    generate(root, seed=7, songs=20, users=8, days=2, events=60, start=DAYS[0])
    day_file = root / "log_data" / "2018" / "11" / f"{DAYS[1]}-events.json"
    events = [json.loads(line) for line in day_file.read_text().splitlines() if line.strip()]
    next(e for e in events if e["page"] == "NextSong")["level"] = "premium"
    day_file.write_text("".join(json.dumps(e) + "\n" for e in events))
    return day_file


def task_of(event) -> tuple[str, str] | None:
    """(run_id, task_id) of a task's event, from its airflow run facet (the DAG's own events have none)."""
    airflow = event["run"]["facets"].get("airflow") or {}
    task_id = (airflow.get("task") or {}).get("task_id")
    return (airflow["dagRun"]["run_id"], task_id) if task_id else None


def task_events(events, run_id):
    """{task_id: [eventType, ...]} of one DAG run's task events."""
    found: dict[str, list[str]] = {}
    for event in events:
        if (task := task_of(event)) and task[0] == run_id:
            found.setdefault(task[1], []).append(event["eventType"])
    return found


def reaches(events, start, goal) -> bool:
    """Whether a chain of jobs leads from dataset ``start`` to ``goal`` (each job: inputs -> outputs)."""
    edges: dict[tuple, set[tuple]] = {}
    for event in events:
        for source in event.get("inputs", []):
            for target in event.get("outputs", []):
                edges.setdefault((source["namespace"], source["name"]), set()).add((target["namespace"], target["name"]))
    seen, todo = {start}, [start]
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return goal in seen


def test_events_of_a_passing_and_a_failing_day(socket_warehouse):
    shutil.rmtree(HOME, ignore_errors=True)
    lake = HOME / "lake"
    day_file = write_lake(lake)
    gx_root = HOME / "gx"
    shutil.copytree(os.environ["SPARKIFY_GX_DIR"], gx_root)
    suite = gx_root / "expectations" / "users.json"
    config = json.loads(suite.read_text())
    warning_id = str(uuid.uuid4())
    config["expectations"].append({"id": warning_id, "type": "expect_table_row_count_to_be_between", "severity": "warning",
                                   "kwargs": {"min_value": 0, "max_value": 0}, "meta": {}})  # fmt: skip
    suite.write_text(json.dumps(config, indent=2))
    reset_warehouse(socket_warehouse)
    use_warehouse(socket_warehouse)
    env = dict(os.environ, SPARKIFY_GX_DIR=str(gx_root), AIRFLOW_HOME=str(HOME / "airflow"), SPARKIFY_BUILD_DIR=str(HOME / "build"),
               AIRFLOW_VAR_SPARKIFY_DOCS=str(HOME / "docs"))  # fmt: skip
    env.pop("AIRFLOW__OPENLINEAGE__TRANSPORT", None)
    done = subprocess.run(
        [sys.executable, "-m", "sparkify.local.cli", "run", "--lake", str(lake), "--start", DAYS[0], "--end", DAYS[1], "--jobs", "1",
         "--lineage", "file"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout[-3000:]  # the second day failed
    log = HOME / "build" / "openlineage" / "events.jsonl"  # make run LINEAGE=file's file
    events = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    assert {e["job"]["namespace"] for e in events} == {"sparkify"}

    # Every task that ran has its START and its COMPLETE or FAIL, as its state in the metadata DB says
    # (one that ran and skipped itself would complete); a task that never ran (upstream failed, or
    # skipped by the scheduler, as request_review on a day not held: no process id) has none.
    db = sqlite3.connect(HOME / "airflow" / "airflow.db")
    states = db.execute(
        "select run_id, task_id, case when state = 'skipped' and pid is not null then 'ran, skipped' else state end "
        "from task_instance where dag_id = 'sparkify'"
    ).fetchall()
    assert ("request_review", "skipped") in {(task, state) for _, task, state in states}
    runs = sorted({run_id for run_id, _, _ in states})
    assert len(runs) == 2
    final = {"success": "COMPLETE", "failed": "FAIL", "ran, skipped": "COMPLETE"}
    for run_id in runs:
        emitted = task_events(events, run_id)
        expected = {task: ["START", final[state]] for rid, task, state in states if rid == run_id and state in final}
        assert {task: sorted(kinds, key=["START", "COMPLETE", "FAIL"].index) for task, kinds in emitted.items()} == expected
    by_day = {run_id: day for run_id, day in zip(runs, DAYS, strict=True)}  # run ids sort by the day they name
    failed = {(by_day[rid], task) for rid, task, state in states if state == "failed"}
    assert failed == {(DAYS[1], "validate_staging_events")}

    # Each validation's facets are the stored GX result, expectation for expectation, pass or fail.
    stored = execute(socket_warehouse, "select run_id, suite, table_name, row_count, cast(result_json as text) from dq.validation_results")
    assert len(stored) > 10
    checked_warning = null_checked = profiles_checked = 0
    profiled = {(r, t, c): (n, d) for r, t, c, n, d in execute(
        socket_warehouse, "select run_id, table_name, column_name, null_count, distinct_count from dq.day_profiles")}  # fmt: skip
    for run_id, suite_name, table, row_count, result_json in stored:
        (event,) = [e for e in events if e["eventType"] in ("COMPLETE", "FAIL") and task_of(e) == (run_id, f"validate_{suite_name}")]
        (dataset,) = event["inputs"]
        assert dataset["name"].endswith(f".wap_{by_day[run_id].replace('-', '')}.{table}")
        facets = dataset["inputFacets"]
        result = json.loads(result_json)
        assertions = facets["dataQualityAssertions"]["assertions"]
        assert [(a["assertion"], a["success"], a.get("column"), a["name"]) for a in assertions] == [
            (r["expectation_config"]["type"], r["success"], r["expectation_config"]["kwargs"].get("column"), r["expectation_config"]["id"])
            for r in result["results"]
        ]
        assert facets["dataQualityMetrics"]["rowCount"] == row_count
        # Null counts: a failed not-null check's unexpected count; one that passed with no "mostly" counted none.
        nulls = {r["expectation_config"]["kwargs"]["column"]: r["result"]["unexpected_count"] if not r["success"] else 0
                 for r in result["results"] if r["expectation_config"]["type"] == "expect_column_values_to_not_be_null"
                 and (not r["success"] or "mostly" not in r["expectation_config"]["kwargs"])}  # fmt: skip
        assert {c: m["nullCount"] for c, m in facets["dataQualityMetrics"]["columnMetrics"].items() if c in nulls} == nulls
        null_checked += bool(nulls)
        if suite_name == table:  # a table's own suite carries the day's profile: every column's counts
            columns = {c: (m["nullCount"], m.get("distinctCount")) for c, m in facets["dataQualityMetrics"]["columnMetrics"].items()}
            assert columns == {c: counts for (rid, t, c), counts in profiled.items() if (rid, t) == (run_id, table)}, suite_name
            profiles_checked += 1
        if suite_name == "users":
            # The added warning failed on a task that succeeded (on the failed day, users never ran).
            (warning,) = [a for a in assertions if a["name"] == warning_id]
            assert warning["success"] is False and warning["severity"] == "warn" and event["eventType"] == "COMPLETE"
            assert json.loads(warning["actual"]) == row_count > 0 and json.loads(warning["expected"]) == {"max_value": 0, "min_value": 0}
            checked_warning += 1
    assert checked_warning == 1 and null_checked > 5 and profiles_checked > 5
    # The failing day's failed check: a critical assertion that failed, on the FAIL event.
    (fail,) = [e for e in events if e["eventType"] == "FAIL" and task_of(e)]
    (level,) = [a for a in fail["inputs"][0]["inputFacets"]["dataQualityAssertions"]["assertions"] if a.get("column") == "level"]
    assert level["success"] is False and level["severity"] == "error" and level["actual"] == "1 unexpected"

    # Lineage: the lake's day file leads to the published songplays through the run's tables.
    (passing,) = [rid for rid, day in by_day.items() if day == DAYS[0]]
    day_events = [e for e in events if (task_of(e) or ("",))[0] == passing]
    namespace = next(d["namespace"] for e in day_events for d in e.get("outputs", []) if ".wap_" in d["name"])
    first_file = ("file", str(day_file.with_name(f"{DAYS[0]}-events.json")))
    songplays = next(
        (d["namespace"], d["name"]) for e in day_events for d in e.get("outputs", []) if d["name"].endswith(".public.songplays")
    )
    assert namespace == songplays[0] and namespace.startswith("postgres://localhost:")
    assert reaches(day_events, first_file, songplays)
    # Hop by hop, each by the job that makes it: stage, load, publish.
    run_schema = songplays[1].replace(".public.songplays", f".wap_{DAYS[0].replace('-', '')}")
    hops = [(first_file, "stage_events", f"{run_schema}.staging_events"), ((namespace, f"{run_schema}.staging_events"), "load_songplays",
            f"{run_schema}.songplays"), ((namespace, f"{run_schema}.songplays"), "publish_day", songplays[1])]  # fmt: skip
    for source, task_id, target in hops:
        (job,) = [e for e in day_events if e["eventType"] == "COMPLETE" and task_of(e)[1] == task_id]
        assert source in {(d["namespace"], d["name"]) for d in job["inputs"]}, (task_id, job["inputs"])
        assert (namespace, target) in {(d["namespace"], d["name"]) for d in job["outputs"]}, (task_id, job["outputs"])
