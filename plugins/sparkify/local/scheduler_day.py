"""One day through a real scheduler, set up the way `make airflow` sets it up (for make bench).

Starts `python -m sparkify.local.cli airflow` (api-server, scheduler, dag-processor, triggerer; with
``executor="celery"`` also Redis and Celery workers) in its own Airflow home, triggers one day
through the REST API, waits for the run and reads the run's and its task instances' times back
from the API: what a user of the UI waits for, GX start-up in every task process included.
"""

from __future__ import annotations

import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path

from sparkify.local.celery_shape import free_port
from sparkify.settings import DAG_ID, LAKE_VARIABLE, project_root


def api(base: str, token: str, path: str, body: dict | None = None, *, timeout: float = 30, attempts: int = 3, method: str | None = None):
    """One REST call (a POST with a body, unless ``method`` says otherwise). A read (no body) that
    times out is asked again, up to ``attempts`` times: the API server also serves every task's
    execution API, and on a busy machine one answer can take longer than ``timeout``. A write is
    sent once (a second trigger would be refused as a duplicate)."""
    request = urllib.request.Request(
        f"{base}/api/v2{path}",
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method=method,
    )
    tries = attempts if body is None else 1
    attempt = 0
    while True:
        attempt += 1
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return json.loads(response.read())
        except (TimeoutError, urllib.error.URLError) as error:
            timed_out = isinstance(error, TimeoutError) or isinstance(getattr(error, "reason", None), TimeoutError)
            if isinstance(error, urllib.error.HTTPError) or not timed_out:
                raise
            if attempt == tries:
                raise TimeoutError(f"{base}/api/v2{path} gave no answer in {timeout:.0f} s, {tries} time(s)") from error


class RunningAirflow:
    """`make airflow` in the background: its URL and an API token once it says it is ready."""

    def __init__(
        self,
        *,
        lake: str,
        home: Path,
        env: dict[str, str],
        executor: str = "local",
        workers: int = 2,
        timeout: float = 300,
        options: tuple[str, ...] = (),
    ):
        home.mkdir(parents=True, exist_ok=True)
        self.log_path = home / "make-airflow.log"
        self.home = home
        log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sparkify.local.cli",
                "airflow",
                "--lake",
                lake,
                "--port",
                str(free_port()),
                "--executor",
                executor,
                "--workers",
                str(workers),
                *options,
            ],
            # The lake given here is the runs' lake: an exported Variable (an in-process make run
            # leaves one in os.environ) would win over it.
            env={**{k: v for k, v in env.items() if k != f"AIRFLOW_VAR_{LAKE_VARIABLE.upper()}"}, "AIRFLOW_HOME": str(home)},
            cwd=project_root(),
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while "Airflow is ready" not in (text := self.log_path.read_text()):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"make airflow did not become ready; its output:\n{text[-3000:]}")
            time.sleep(1)
        ready, login = re.search(r"Airflow is ready:\s+(\S+)", text), re.search(r"login:\s+(\S+) / (\S+)", text)
        if ready is None or login is None:
            raise RuntimeError(f"make airflow's output names no URL or login:\n{text[-3000:]}")
        self.base = ready.group(1)
        user, password = login.groups()
        request = urllib.request.Request(
            f"{self.base}/auth/token",
            data=json.dumps({"username": user, "password": password}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            self.token = json.loads(response.read())["access_token"]

    def api(self, path: str, body: dict | None = None, method: str | None = None):
        return api(self.base, self.token, path, body, method=method)

    def trigger(self, day: str, run_id: str, dag_id: str = DAG_ID) -> None:
        self.api(f"/dags/{dag_id}/dagRuns", {"dag_run_id": run_id, "logical_date": f"{day}T00:00:00Z"})

    def wait(self, run_id: str, timeout: float = 900, dag_id: str = DAG_ID) -> tuple[dict, list[dict]]:
        """Wait for a run to end: (the run, its task instances)."""
        deadline = time.monotonic() + timeout
        while (run := self.api(f"/dags/{dag_id}/dagRuns/{run_id}"))["state"] not in ("success", "failed"):
            if time.monotonic() > deadline:
                raise TimeoutError(f"run {run_id} still {run['state']} after {timeout:.0f}s; logs in {self.home / 'logs'}")
            time.sleep(0.5)
        return run, self.api(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances")["task_instances"]

    def run_day(self, day: str, run_id: str, timeout: float = 900, dag_id: str = DAG_ID) -> tuple[dict, list[dict]]:
        """Trigger ``day`` and wait for the run to end."""
        self.trigger(day, run_id, dag_id)
        return self.wait(run_id, timeout, dag_id)

    def wait_for_dag(self, dag_id: str, timeout: float = 180) -> None:
        """Wait until the DAG processor has written ``dag_id`` to the database."""
        import urllib.error

        deadline = time.monotonic() + timeout
        while True:
            try:
                self.api(f"/dags/{dag_id}")
                return
            except urllib.error.HTTPError as error:
                if error.code != 404 or time.monotonic() > deadline:
                    where = f"{self.base} after {timeout:.0f}s (HTTP {error.code}); logs in {self.home / 'logs'}"
                    raise RuntimeError(f"DAG {dag_id} is not in {where}") from error
            time.sleep(1)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=120)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _seconds(start: str, end: str) -> float:
    return (datetime.fromisoformat(end.replace("Z", "+00:00")) - datetime.fromisoformat(start.replace("Z", "+00:00"))).total_seconds()


def day_figures(run: dict, tasks: list[dict]) -> dict:
    """The run's seconds from queued to ended; median validation and load task durations and their ratio."""
    if run["state"] != "success":
        failed = sorted(t["task_id"] for t in tasks if t["state"] != "success")
        raise RuntimeError(f"the scheduler's run {run['dag_run_id']} ended {run['state']}; not successful: {failed}")
    validations = [t["duration"] for t in tasks if t["task_id"].startswith("validate_")]
    loads = [t["duration"] for t in tasks if t["task_id"].startswith("load_")]
    gx, load = statistics.median(validations), statistics.median(loads)
    return {
        "day_seconds": round(_seconds(run["queued_at"], run["end_date"]), 2),
        "validation_task_median_seconds": round(gx, 3),
        "load_task_median_seconds": round(load, 3),
        "gx_task_ratio": round(gx / load, 2),
        "tasks": len(tasks),
        # Where a task waits before it runs, medians over the run's tasks: for a free executor slot
        # (scheduled -> queued), then for a worker to take it and start it (queued -> started).
        "scheduled_to_queued_median_seconds": _median_gap(tasks, "scheduled_when", "queued_when"),
        "queued_to_start_median_seconds": _median_gap(tasks, "queued_when", "start_date"),
    }


def _median_gap(tasks: list[dict], first: str, then: str) -> float | None:
    gaps = [_seconds(t[first], t[then]) for t in tasks if t.get(first) and t.get(then)]
    return round(statistics.median(gaps), 3) if gaps else None


def bundles_with(name: str, folder: Path) -> str:
    """[dag_processor] dag_bundle_config_list: the project's dags folder, and ``folder`` as a second
    local bundle (so a scheduler also runs the DAGs there, e.g. the bench's no-op graph)."""
    local = "airflow.dag_processing.bundles.local.LocalDagBundle"
    return json.dumps(
        [
            {"name": "dags-folder", "classpath": local, "kwargs": {}},
            {"name": name, "classpath": local, "kwargs": {"path": str(folder), "refresh_interval": 0}},
        ]
    )


def measure(
    *,
    lake: str,
    days: tuple[str, str],
    home: Path,
    warehouse_conn: str,
    executor: str,
    extra_env: dict[str, str] | None = None,
    noop_dag_id: str | None = None,
    noop_folder: Path | None = None,
) -> dict:
    """Start Airflow, run the first day to warm it up (DAG parsed, workers up), then the second,
    measured. With ``noop_dag_id`` (a DAG in ``noop_folder``, a second bundle), the same two days
    of that DAG follow on the same running Airflow: ``noop_day_seconds`` is the second's, and
    ``overhead_ratio`` the project's day over it."""
    env = dict(os.environ, AIRFLOW_CONN_SPARKIFY_WAREHOUSE=warehouse_conn, **(extra_env or {}))
    if noop_dag_id and noop_folder:
        env["AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST"] = bundles_with("bench", noop_folder)
    airflow = RunningAirflow(lake=lake, home=home, env=env, executor=executor)
    try:
        first = day_figures(*airflow.run_day(days[0], f"bench_{executor}_{days[0]}"))
        figures = day_figures(*airflow.run_day(days[1], f"bench_{executor}_{days[1]}"))
        figures["first_run_day_seconds"] = first["day_seconds"]
        if noop_dag_id:
            airflow.wait_for_dag(noop_dag_id)
            noop = [day_figures(*airflow.run_day(day, f"noop_{executor}_{day}", dag_id=noop_dag_id)) for day in days]
            figures.update(
                noop_first_run_day_seconds=noop[0]["day_seconds"],
                noop_day_seconds=noop[1]["day_seconds"],
                noop_scheduled_to_queued_median_seconds=noop[1]["scheduled_to_queued_median_seconds"],
                noop_queued_to_start_median_seconds=noop[1]["queued_to_start_median_seconds"],
                overhead_ratio=round(figures["day_seconds"] / noop[1]["day_seconds"], 2),
            )
        return figures
    finally:
        airflow.stop()
