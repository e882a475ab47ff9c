"""make bench: the pipeline at scale, measured in one run, ratios against baselines of the same run.

    python -m sparkify.local.bench                 # 100,000 songs, 10 days x 1,000,000 events (cached lake)
    python -m sparkify.local.bench --tiny          # seconds; make test runs it so the code path never rots

Writes build/bench.json and prints a table. Every figure is declared in bench_figures.FIGURES and is
the median of --repeats runs.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sparkify.local.bench_figures import STEPS, TARGETS, TINY_STEPS, check_recorded, declaration, missing, print_table
from sparkify.names import PAST_DAYS_SUITES, run_schema, suites
from sparkify.settings import project_root
from sparkify.warehouse.scripts import sql_file

LOADS = ("songs", "artists", "users", "songplays", "time")  # the DAG's order: dimensions, then the fact, then time
# anomaly_detection: five anomalies of different kinds on a 60-day lake (day: kind). "field" is a
# new top-level JSON field: validate_lake_fields names it (no metric of validate_history moves).
ANOMALY_DAYS = {"2018-11-20": "drop", "2018-11-27": "spike", "2018-12-04": "free", "2018-12-11": "shift", "2018-12-20": "field"}
# Copies of a stored run's rows (the bench fills the results store with them); the run id is the
# prefix, plus the copy's number when the suffix says so, and each copy sits n days earlier.
_COLUMNS = (
    "day, suite, table_name, success, gx_success, evaluated, failed_critical, failed_warning, unexpected_count, "
    "row_count, duration_seconds, run_time, batch_identifier, asset_name, data_docs_page, result_json"
)
_COPY_RUNS = (
    f"insert into dq.validation_results (run_id, {_COLUMNS}) "
    "select %(prefix)s || case when %(suffix)s = 'n' then lpad(cast(g.n as text), 5, '0') else '' end, "
    "r.day - g.n, r.suite, r.table_name, r.success, r.gx_success, r.evaluated, r.failed_critical, r.failed_warning, "
    "r.unexpected_count, r.row_count, r.duration_seconds, r.run_time, r.batch_identifier, r.asset_name, "
    "replace(r.data_docs_page, r.run_id, %(prefix)s || case when %(suffix)s = 'n' then lpad(cast(g.n as text), 5, '0') else '' end), "
    "r.result_json"
)


def table_suites() -> tuple[str, ...]:
    """The fixed-rule suites: every committed suite but those whose bounds come from the history."""
    return tuple(suite for suite in suites() if suite not in PAST_DAYS_SUITES)


def _median(values: list[float]) -> float:
    return round(statistics.median(values), 3)


def _timed(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return _median(times)


class Bench:
    def __init__(self, args):
        self.args = args
        self.start = date(2018, 11, 1)
        self.days = [self.start + timedelta(days=n) for n in range(args.days)]
        self.lake = Path(args.lakes) / f"bench-{args.songs}-{args.days}-{args.events}"
        self.work = Path(os.environ["SPARKIFY_BUILD_DIR"]) / "bench-work"
        self.results: dict = {}

    # set-up -----------------------------------------------------------------------------------
    def prepare(self) -> None:
        from sparkify.local import embedded
        from sparkify.local.generator import generate

        # The overhead and scheduler steps generate small lakes of their own.
        needs_lake = not self.args.only or bool(set(self.args.only) & {"staging", "validation", "dag", "docs"})
        if needs_lake and not (self.lake / "log_json_path.json").exists():
            print(f"Generating the bench lake {self.lake} (once; cached)", flush=True)
            partial = self.lake.with_name(self.lake.name + ".partial")
            shutil.rmtree(partial, ignore_errors=True)
            generate(
                partial,
                seed=2018,
                songs=self.args.songs,
                users=max(100, self.args.events // 50),
                days=self.args.days,
                events=self.args.events,
                start=self.start.isoformat(),
            )
            partial.rename(self.lake)
        shutil.rmtree(self.work, ignore_errors=True)
        self.work.mkdir(parents=True)
        self.server = embedded.start(Path(self.args.pgdata))
        os.environ["AIRFLOW_CONN_SPARKIFY_WAREHOUSE"] = self.server.connection_json()
        os.environ["AIRFLOW_VAR_SPARKIFY_LAKE"] = str(self.lake)
        self.reset()

    def connect(self):
        import psycopg2

        return psycopg2.connect(self.server.dsn())

    def reset(self) -> None:
        from sparkify.warehouse.scripts import run_script
        from sparkify.warehouse.wap import warehouse_ddl

        conn = self.connect()
        with conn.cursor() as cur:
            cur.execute("drop schema if exists public cascade; create schema public")
        run_script(conn, warehouse_ddl("postgres"), None)
        conn.commit()
        conn.close()

    def events_key(self, day: date) -> str:
        from sparkify.lake import events_key

        return events_key(day)

    # 1, 2: staging ---------------------------------------------------------------------------
    def stage_in_subprocess(self, day: date, lake_root: str | None = None, env: dict[str, str] | None = None) -> tuple[float, float]:
        """Stage one day in a fresh process: (seconds of the staging call, peak RSS in MB).

        The peak is the process's own high-water mark (VmHWM): ru_maxrss would carry over the
        bench process's figure across fork and exec.
        """
        code = (
            "import json, sys\n"
            "from sparkify.local.bench import stage_day, peak_rss_mb\n"
            "rows, seconds = stage_day(sys.argv[1], sys.argv[2], day=sys.argv[3], timed=True)\n"
            "print(json.dumps({'seconds': seconds, 'rows': rows, 'rss_mb': peak_rss_mb()}))\n"
        )
        self.prepare_run(day)
        out = subprocess.run(
            [sys.executable, "-c", code, lake_root or str(self.lake), self.events_key(day), day.isoformat()],
            capture_output=True,
            text=True,
            env=env or os.environ.copy(),
        )
        if out.returncode != 0:
            raise RuntimeError(f"staging {day} failed:\n{out.stderr[-2000:]}")
        found = json.loads(out.stdout.strip().splitlines()[-1])
        if found["rows"] != self.args.events:
            raise RuntimeError(f"staging {day} stored {found['rows']} rows, expected {self.args.events}")
        return found["seconds"], found["rss_mb"]

    def measure_staging(self) -> None:
        day = self.days[0]
        runs = [self.stage_in_subprocess(day) for _ in range(self.args.repeats)]
        stage_seconds = _median([r[0] for r in runs])
        csv_path = self.work / "day1.csv"
        conn = self.connect()
        with conn.cursor() as cur:
            cur.execute(f"set search_path to {run_schema(day)}, public")
        conn.commit()
        with conn.cursor() as cur, open(csv_path, "w") as handle:
            cur.copy_expert("copy staging_events to stdout with (format csv)", handle)
        conn.rollback()

        def plain_copy() -> None:
            with conn.cursor() as cur, open(csv_path, "rb") as handle:
                cur.execute("delete from staging_events")
                cur.copy_expert("copy staging_events from stdin with (format csv)", handle, size=1 << 20)
            conn.commit()

        copy_seconds = _timed(plain_copy, self.args.repeats)
        conn.close()
        csv_path.unlink()
        self.results.update(
            stage_seconds=stage_seconds,
            copy_csv_seconds=copy_seconds,
            stage_ratio=round(stage_seconds / copy_seconds, 2),
            stage_peak_rss_mb=round(max(r[1] for r in runs)),
        )
        self.measure_s3_staging(day, stage_seconds)

    def measure_s3_staging(self, day: date, local_seconds: float) -> None:
        """The same day staged from an S3 endpoint (moto's server on loopback) against the local folder."""
        import boto3
        from moto.server import ThreadedMotoServer

        from sparkify.local.celery_shape import free_port

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's server logs every request otherwise
        port = free_port()
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        try:
            endpoint = f"http://127.0.0.1:{port}"
            client = boto3.client(
                "s3", endpoint_url=endpoint, aws_access_key_id="bench", aws_secret_access_key="bench", region_name="us-east-1"
            )
            client.create_bucket(Bucket="bench-lake")
            for key in ("log_json_path.json", self.events_key(day)):
                client.upload_file(str(self.lake / key), "bench-lake", f"lake/{key}")
            connection = {
                "conn_type": "aws",
                "login": "bench",
                "password": "bench",
                "extra": {"endpoint_url": endpoint, "region_name": "us-east-1"},
            }
            env = dict(os.environ, AIRFLOW_CONN_AWS_DEFAULT=json.dumps(connection))
            runs = [self.stage_in_subprocess(day, "s3://bench-lake/lake", env) for _ in range(self.args.repeats)]
        finally:
            server.stop()
        s3_seconds = _median([r[0] for r in runs])
        self.results.update(
            s3_stage_seconds=s3_seconds,
            s3_stage_ratio=round(s3_seconds / local_seconds, 2),
            s3_stage_peak_rss_mb=round(max(r[1] for r in runs)),
        )

    def prepare_run(self, day: date) -> None:
        from sparkify.warehouse.wap import prepare_run

        conn = self.connect()
        prepare_run(conn, "postgres", day.isoformat())
        conn.commit()
        conn.close()

    def publish(self, day: date) -> None:
        from sparkify.warehouse.wap import publish_run

        conn = self.connect()
        publish_run(conn, day.isoformat())
        conn.commit()
        conn.close()

    # 3, 4, 5: loads and validation -------------------------------------------------------------
    def load_day(self, day: date) -> dict[str, float]:
        """Prepare the day's run schema, stage it (song files too), load its audit copies."""
        from sparkify.warehouse.connection import use_schema
        from sparkify.warehouse.scripts import run_script

        seconds = {}
        self.prepare_run(day)
        stage_day(str(self.lake), "song_data", day=day.isoformat(), songs=True)
        stage_day(str(self.lake), self.events_key(day), day=day.isoformat())
        conn = self.connect()
        use_schema(conn, run_schema(day))
        for table in LOADS:
            started = time.perf_counter()
            run_script(conn, sql_file(f"load/{table}.sql"), {"day": day.isoformat()})
            conn.commit()
            seconds[table] = round(time.perf_counter() - started, 3)
        with conn.cursor() as cur:
            cur.execute("analyze")  # as the load tasks do for each copy (and the staging tables)
        conn.commit()
        conn.close()
        return seconds

    def validate_day_gx(self, day: date) -> None:
        from sparkify.quality.gx.run import validate
        from sparkify.quality.outcome import Plan

        parameters = {"file_lines": self.args.events, "max_quarantine_rate": 0.01}
        # The fixed-rule suites, which handwritten_checks.sql mirrors; the history suites' bounds
        # come from their tasks (validate_history, validate_lake_fields), measured by the anomaly step.
        for suite in table_suites():
            summary = validate(
                suite,
                run_name=f"bench-{day}",
                conn_id="sparkify_warehouse",
                docs_location=str(self.work),
                schema=run_schema(day),
                plan=Plan(parameters=parameters),
            ).summary
            if not summary["success"]:
                raise RuntimeError(f"bench data failed a critical check: {summary['failures']}")

    def validate_day_sql(self, day: date) -> None:
        from sparkify.warehouse.connection import use_schema
        from sparkify.warehouse.scripts import split_statements

        conn = self.connect()
        use_schema(conn, run_schema(day))
        with conn.cursor() as cur:
            for statement in split_statements(sql_file("bench/handwritten_checks.sql")):
                cur.execute(statement)
                cur.fetchall()
        conn.rollback()
        conn.close()

    def measure_validation_and_history(self) -> None:
        """A day's validation (GX against hand-written SQL), on day 1 (nothing published yet) and on
        the last day (every earlier day published): what the published history costs a day."""
        first, last = self.days[0], self.days[-1]
        loads = self.load_day(first)
        self.validate_day_gx(first)  # warm-up: GX imports and its context, not part of a day's cost
        self.validate_day_sql(first)
        first_gx = _timed(lambda: self.validate_day_gx(first), self.args.repeats)
        first_sql = _timed(lambda: self.validate_day_sql(first), self.args.repeats)
        if last != first:  # with --days 1 the one day is both ends (history_ratio about 1)
            self.publish(first)
        for day in self.days[1:]:
            print(f"  loading {day}", flush=True)
            loads = self.load_day(day)
            if day != last:
                self.publish(day)
        last_gx = _timed(lambda: self.validate_day_gx(last), self.args.repeats)
        last_sql = _timed(lambda: self.validate_day_sql(last), self.args.repeats)
        profile = _timed(lambda: self.profile_day(last), self.args.repeats)
        self.publish(last)
        self.results.update(
            validation_gx_seconds=last_gx,
            validation_sql_seconds=last_sql,
            validation_ratio=round(last_gx / last_sql, 2),
            validation_suites=len(table_suites()),
            validation_day1_seconds=first_gx,
            history_ratio=round(last_gx / first_gx, 2),
            history_sql_ratio=round(last_sql / first_sql, 2),
            load_seconds=loads,
            profile_seconds=profile,
            profile_share=round(profile / last_gx, 3),
        )

    def profile_day(self, day: date) -> None:
        """The day's profile of every staged and loaded table, as its validation tasks take it."""
        from sparkify.quality.gx.redact import sensitive_columns
        from sparkify.quality.store import profiles
        from sparkify.settings import gx_dir

        declared = sensitive_columns(gx_dir())
        conn = self.connect()
        for table in profiles.PROFILED:
            profiles.compute(conn, "postgres", run_schema(day), table, declared, run_id="bench", day=day.isoformat())
        conn.rollback()
        conn.close()

    # 5: whole DAG runs -------------------------------------------------------------------------
    def dag_day(self, lake: Path, label: str) -> tuple[float, float]:
        """The last day through the whole DAG twice on an empty warehouse: (the first run, which
        stages every song file, the second, which finds the catalog published and unchanged)."""
        from sparkify.local import runner

        with lake_variable(lake):
            self.reset()
            times = []
            for _ in range(2):
                started = time.perf_counter()
                results = runner.run_days([self.days[-1]], log_file=self.work / "dag.log", quiet=True)
                times.append(round(time.perf_counter() - started, 2))
                if results[0]["state"] != "success":
                    raise RuntimeError(f"DAG run for {self.days[-1]} ({label}) ended {results[0]['state']}: {results[0]['tasks']}")
        return times[0], times[1]

    def small_catalog_lake(self, songs: int) -> Path:
        """The bench lake's last day with only its first ``songs`` song files (links, not copies)."""
        small = self.work / f"lake-{songs}-songs"
        shutil.rmtree(small, ignore_errors=True)
        keys = ["log_json_path.json", self.events_key(self.days[-1])]
        keys += sorted(p.relative_to(self.lake).as_posix() for p in (self.lake / "song_data").rglob("*.json"))[:songs]
        for key in keys:
            (small / key).parent.mkdir(parents=True, exist_ok=True)
            (small / key).symlink_to(self.lake / key)
        return small

    def measure_dag(self) -> None:
        from sparkify.local import runner
        from sparkify.local.airflow_home import ensure_airflow_db
        from sparkify.local.generator import generate

        ensure_airflow_db()
        first_large, large = self.dag_day(self.lake, f"{self.args.songs} songs")
        first_small, small = self.dag_day(self.small_catalog_lake(self.args.small_catalog), f"{self.args.small_catalog} songs")
        last = self.days[-1].isoformat()
        tiny = self.work / "tiny-lake"
        generate(tiny, seed=1, songs=10, users=5, days=1, events=10, start=last)
        with lake_variable(tiny):
            self.reset()
            times = []
            for _ in range(self.args.repeats):
                started = time.perf_counter()
                results = runner.run_days([self.days[-1]], log_file=self.work / "dag.log", quiet=True)
                times.append(time.perf_counter() - started)
                if results[0]["state"] != "success":
                    raise RuntimeError(f"small DAG run ended {results[0]['state']}: {results[0]['tasks']}")
        self.results.update(
            dag_day_seconds=large,
            dag_day_first_seconds=first_large,
            dag_day_small_catalog_seconds=small,
            dag_day_small_catalog_first_seconds=first_small,
            catalog_ratio=round(large / small, 2),
            catalog_songs={"large": self.args.songs, "small": self.args.small_catalog},
            dag_overhead_seconds=_median(times),
        )

    # 5a: a day's fixed cost against Airflow's own ---------------------------------------------
    def measure_day_overhead(self) -> None:
        """day_overhead_ratio: demo-sized days (300 events, 200 songs) through the project's DAG,
        against the same task graph with no-op tasks (bench_dags/sparkify_noop.py), both in the
        in-process runner of make run, in this process; medians of the days after the first."""
        from sparkify.local import runner
        from sparkify.local.airflow_home import ensure_airflow_db
        from sparkify.local.bench_dags import NOOP_DAG_ID
        from sparkify.local.generator import generate

        ensure_airflow_db()
        days = [date(2018, 11, 1) + timedelta(days=n) for n in range(self.args.overhead_days)]
        lake = self.work / "overhead-lake"
        generate(lake, seed=7, songs=200, users=60, days=len(days), events=300, start=days[0].isoformat())
        with lake_variable(lake):
            self.reset()
            # Both in this process, with make run's in-process runner: the project's DAG (warm when
            # the dag step ran before), then the no-op graph, whose folder is a second DAG bundle for
            # the time being (dag.test writes the DAGs of a DAG's bundle to the metadata DB). The
            # first day of each is left out either way.
            from sparkify.local.scheduler_day import bundles_with

            results = runner.run_days(days, log_file=self.work / "overhead-dag.log", quiet=True)
            _all_succeeded(results, runner.DAG_ID)
            timings = {"dag": [r["seconds"] for r in results]}
            durations = {"dag": [r["durations"] for r in results[1:]]}
            gx_work = [self.gx_seconds(r) for r in results[1:]]
            folder = Path(__file__).parent / "bench_dags"
            setting = "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST"
            saved = os.environ.get(setting)
            os.environ[setting] = bundles_with("bench", folder)
            try:
                results = runner.run_days(
                    days, log_file=self.work / "overhead-noop.log", quiet=True, dags_folder=folder, dag_id=NOOP_DAG_ID
                )
            finally:
                if saved is None:
                    os.environ.pop(setting)
                else:
                    os.environ[setting] = saved
            _all_succeeded(results, NOOP_DAG_ID)
            timings["noop"] = [r["seconds"] for r in results]
            durations["noop"] = [r["durations"] for r in results[1:]]
        dag_day, noop_day = _median(timings["dag"][1:]), _median(timings["noop"][1:])
        self.results.update(
            day_overhead_ratio=round(dag_day / noop_day, 2),
            overhead_day_seconds=dag_day,
            noop_day_seconds=noop_day,
            overhead_first_day_seconds=timings["dag"][0],
            noop_first_day_seconds=timings["noop"][0],
            overhead_by_task_kind=extra_by_task_kind(durations["dag"], durations["noop"]),
            overhead_gx_seconds=_median(gx_work),
            gx_only_ratio=round((noop_day + _median(gx_work)) / noop_day, 2),
        )

    def anomaly_lake(self, days: list[date]) -> Path:
        """The anomaly step's 60-day lake (generated once, under --lakes)."""
        from sparkify.local.generator import Anomaly, generate

        lake = Path(self.args.lakes) / "anomaly-60"
        if not (lake / "log_json_path.json").exists():
            partial = lake.with_name(lake.name + ".partial")
            shutil.rmtree(partial, ignore_errors=True)
            anomalies = [Anomaly.parse(f"{day}:{kind}") for day, kind in ANOMALY_DAYS.items()]
            generate(partial, seed=60, songs=60, users=80, days=len(days), events=1500, noise=0.05, start=days[0].isoformat(),
                     anomalies=anomalies)  # fmt: skip
            partial.rename(lake)
        return lake

    def measure_anomalies(self) -> None:
        """anomaly_detection: a 60-day lake (1,500 events a day, ±5% noise) with five anomalies
        of different kinds (ANOMALY_DAYS), day by day through the DAG with the committed
        gx/history.toml; how many injected days the history checks (validate_history's metrics,
        validate_lake_fields' fields) flag, and how many normal days they flag. A level shift's own
        detection window (its first min_days days) belongs to it. history_check_seconds and
        lake_fields_check_seconds: the two tasks' median task times per day."""
        from sparkify.local import runner
        from sparkify.quality.checks import history
        from sparkify.settings import gx_dir

        days = [date(2018, 11, 1) + timedelta(days=n) for n in range(60)]
        lake = self.anomaly_lake(days)
        self.reset()
        conn = self.connect()
        with conn.cursor() as cur:  # no history from the other steps: prepare_warehouse makes the store again
            cur.execute("drop schema if exists dq cascade")
        conn.commit()
        conn.close()
        with lake_variable(lake):
            results = runner.run_days(days, log_file=self.work / "anomaly.log", quiet=True)
        # Flagged: a metric out of its range, or a field new or gone (a failed warning of lake_fields).
        flagged = sorted(
            {
                str(day)
                for (day,) in self.store_rows(
                    "select day from dq.day_metrics where status = 'anomaly' "
                    "union select day from dq.validation_results where suite = 'lake_fields' and failed_warning > 0"
                )
            }
        )
        checked = {str(day) for (day,) in self.store_rows("select distinct day from dq.day_metrics where status in ('ok', 'anomaly')")}
        shift = date.fromisoformat(next(day for day, kind in ANOMALY_DAYS.items() if kind == "shift"))
        window = {str(shift + timedelta(days=n)) for n in range(history.load(gx_dir()).min_days)}
        detected = [day for day in ANOMALY_DAYS if day in flagged]
        false_alarms = [day for day in flagged if day not in ANOMALY_DAYS and day not in window]
        seconds = [r["durations"]["validate_history"] for r in results if r["durations"].get("validate_history")]
        drift_seconds = [r["durations"]["validate_lake_fields"] for r in results if r["durations"].get("validate_lake_fields")]
        self.results.update(
            anomaly_missed=len(ANOMALY_DAYS) - len(detected),
            anomaly_false_alarms=len(false_alarms),
            anomaly_detection={
                "injected": ANOMALY_DAYS,
                "detected": detected,
                "false_alarms": false_alarms,
                "normal_days_checked": len(checked - set(ANOMALY_DAYS) - window),
                "flagged_days": flagged,
            },
            history_check_seconds=_median(seconds),
            lake_fields_check_seconds=_median(drift_seconds),
        )

    # 8: a long backfill under the scheduler -----------------------------------------------------
    def measure_backfill(self) -> None:
        """backfill_days_per_minute: 60 generated demo-sized days through `airflow backfill create`
        on `make airflow`'s set-up, LocalExecutor and then CeleryExecutor (two workers), the DAG's
        own max_active_runs. Each must publish every day, leave the tables make run's runner
        leaves (checksums), list every result in the Data Docs index, and serve the Data quality
        page (30 days) in under a second."""
        import importlib.util

        from sparkify.local import runner
        from sparkify.local.airflow_home import ensure_airflow_db

        ensure_airflow_db()  # the in-process reference run's metadata DB (--only backfill runs no step before it)
        days = [date(2018, 11, 1) + timedelta(days=n) for n in range(self.args.backfill_days)]
        lake = self.backfill_lake(days)
        with lake_variable(lake):
            self.fresh_store()
            runner.run_days(days, log_file=self.work / "backfill-reference.log", quiet=True)
            reference = self.checksums()
            found: dict[str, Any] = {}
            executors = ["local"]
            if shutil.which("redis-server") and importlib.util.find_spec("airflow.providers.celery"):
                executors.append("celery")
            else:
                found["celery"] = {"skipped": "no redis-server or Celery provider (make test installs both)"}
            for executor in executors:
                found[executor] = self.backfill_on(executor, lake, days)
                found[executor]["equal_to_make_run"] = self.checksums() == reference
        measured = [f for f in found.values() if "days_per_minute" in f]
        shortfalls = sum(
            (f["days"] - f["published"])
            + (not f["equal_to_make_run"])
            + max(f["expected_results"] - f["index_results"], 0)
            + (f["quality_page_seconds"] >= TARGETS["quality_page_seconds"])
            for f in measured
        )
        self.results.update(
            backfill_days_per_minute=min(f["days_per_minute"] for f in measured), backfill=found, backfill_shortfalls=shortfalls
        )

    def backfill_lake(self, days: list[date]) -> Path:
        """The backfill's generated lake (made once, kept under --lakes)."""
        from sparkify.local.generator import generate

        lake = Path(self.args.lakes) / f"backfill-{len(days)}"
        if not (lake / "log_json_path.json").exists():
            partial = lake.with_name(lake.name + ".partial")
            shutil.rmtree(partial, ignore_errors=True)
            generate(partial, seed=61, songs=200, users=60, days=len(days), events=300, start=days[0].isoformat())
            partial.rename(lake)
        return lake

    def new_metadata_db(self, database: str) -> str:
        """A new PostgreSQL metadata database on the bench's server: on SQLite, `backfill create`'s
        inserts of 60 runs meet the running scheduler's writes ("database is locked")."""
        from sparkify.local import celery_shape

        conn = self.connect()
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f"drop database if exists {database} with (force)")
        conn.close()
        return celery_shape.metadata_url(self.server, database)

    def backfill_on(self, executor: str, lake: Path, days: list[date]) -> dict[str, Any]:
        """One backfill of ``days`` under a scheduler with ``executor``, on a fresh store."""
        import urllib.request

        from sparkify.local.scheduler_day import RunningAirflow

        self.fresh_store()
        docs = self.work / f"backfill-docs-{executor}"
        home = self.work / f"airflow-backfill-{executor}"
        env = dict(os.environ, AIRFLOW_CONN_SPARKIFY_WAREHOUSE=self.server.connection_json(), AIRFLOW_VAR_SPARKIFY_DOCS=str(docs))
        env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = self.new_metadata_db(f"airflow_backfill_{executor}")
        airflow = RunningAirflow(lake=str(lake), home=home, env=env, executor=executor)
        try:
            started = time.monotonic()
            command = ["airflow", "backfill", "create", "--dag-id", "sparkify", "--from-date", days[0].isoformat(), "--to-date",
                       days[-1].isoformat()]  # fmt: skip
            path = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
            created = subprocess.run(command, env=dict(env, AIRFLOW_HOME=str(home), PATH=path), capture_output=True, text=True, timeout=300)
            if created.returncode != 0:
                raise RuntimeError(f"airflow backfill create failed:\n{created.stdout[-2000:]}{created.stderr[-2000:]}")
            runs = self.wait_for_backfill(airflow, len(days))
            minutes = (time.monotonic() - started) / 60
            page_started = time.perf_counter()
            request = urllib.request.Request(f"{airflow.base}/sparkify-quality/", headers={"Authorization": f"Bearer {airflow.token}"})
            with urllib.request.urlopen(request, timeout=60) as response:
                page = response.read()
            page_seconds = time.perf_counter() - page_started
        finally:
            airflow.stop()
        listed = re.findall(r"'_table_row_link_path': '(validations/[^']+\.html)'", (docs / "index.html").read_text())
        return {
            "days": len(days),
            "minutes": round(minutes, 2),
            "days_per_minute": round(len(days) / minutes, 2),
            "published": sum(run["state"] == "success" for run in runs),
            "index_results": len(set(listed)),
            "expected_results": len(days) * len(suites()),
            "quality_page_seconds": round(page_seconds, 3),
            "quality_page_bytes": len(page),
        }

    def wait_for_backfill(self, airflow, count: int, timeout: float = 3600) -> list[dict]:
        """The backfill's runs once all ``count`` have ended (RuntimeError naming any that failed)."""
        deadline = time.monotonic() + timeout
        while True:
            runs = [run for run in airflow.api("/dags/sparkify/dagRuns?limit=1000")["dag_runs"] if run["run_type"] == "backfill"]
            ended = [run for run in runs if run["state"] in ("success", "failed")]
            if len(ended) == count:
                failed = sorted(run["logical_date"][:10] for run in ended if run["state"] != "success")
                if failed:
                    raise RuntimeError(f"the backfill's runs of {', '.join(failed)} failed; logs in {airflow.home / 'logs'}")
                return ended
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(ended)} of {count} backfill runs ended after {timeout:.0f} s")
            time.sleep(2)

    def fresh_store(self) -> None:
        """Empty published tables and no results store (prepare_warehouse makes it again)."""
        self.reset()
        conn = self.connect()
        with conn.cursor() as cur:
            cur.execute("drop schema if exists dq cascade")
        conn.commit()
        conn.close()

    def checksums(self) -> dict[str, tuple[int, str]]:
        """Row count and an order-independent md5 of every published table."""
        from sparkify.names import TABLES

        conn = self.connect()
        with conn.cursor() as cur:
            found = {}
            for table in TABLES:
                cur.execute(f"select count(*), md5(coalesce(string_agg(t::text, '|' order by t::text), '')) from {table} as t")
                found[table] = cur.fetchone()
        conn.close()
        return found

    def gx_seconds(self, result: dict) -> float:
        """GX's own work in one day of the DAG: its validations (the duration each store row keeps:
        the checkpoint's validation and any failed expectations detailed again) and Data Docs'
        rendering (publish_data_docs's render_seconds)."""
        validations = self.store_rows(
            "select sum(duration_seconds) from dq.validation_results where run_id = %(run)s", {"run": result["run_id"]}
        )
        rendering = (result["xcom"].get("publish_data_docs", {}).get("return_value") or {}).get("render_seconds", 0.0)
        return (validations[0][0] or 0.0) + rendering

    # 5b: a day through the real scheduler ------------------------------------------------------
    def measure_scheduler(self) -> None:
        """One demo-sized day through `make airflow`'s set-up: LocalExecutor, then CeleryExecutor
        (Redis broker, two workers) when redis-server and the Celery provider are installed."""
        import importlib.util

        from sparkify.local import celery_shape, scheduler_day
        from sparkify.local.bench_dags import NOOP_DAG_ID
        from sparkify.local.generator import generate

        lake = self.work / "scheduler-lake"
        generate(lake, seed=7, songs=200, users=60, days=2, events=300, start="2018-11-14")  # the demo lake's size
        days = ("2018-11-14", "2018-11-15")
        conn = self.server.connection_json()
        found = {}
        noop: dict[str, Any] = {"noop_dag_id": NOOP_DAG_ID, "noop_folder": Path(__file__).parent / "bench_dags"}
        found["local"] = scheduler_day.measure(
            lake=str(lake), days=days, home=self.work / "airflow-local", warehouse_conn=conn, executor="local", **noop
        )
        if shutil.which("redis-server") and importlib.util.find_spec("airflow.providers.celery"):
            self.reset()
            metadata = {"AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": celery_shape.metadata_url(self.server)}
            found["celery"] = scheduler_day.measure(
                lake=str(lake),
                days=days,
                home=self.work / "airflow-celery",
                warehouse_conn=conn,
                executor="celery",
                extra_env=metadata,
                **noop,
            )
        else:
            found["celery"] = {"skipped": "no redis-server or Celery provider (make test installs both)"}
        measured = [f for f in found.values() if "day_seconds" in f]
        self.results.update(
            scheduler_day_seconds=max(f["day_seconds"] for f in measured),
            gx_task_ratio=max(f["gx_task_ratio"] for f in measured),
            # Both executors must meet the target: the larger ratio is judged.
            scheduler_overhead_ratio=max(f["overhead_ratio"] for f in measured),
            scheduler=found,
        )

    # 6: Data Docs ----------------------------------------------------------------------------
    def measure_docs(self) -> None:
        """Publishing one new run's pages with 10, then docs_results, results in the shared store
        (copies of the DAG step's newest run); and the quality page with that many days stored."""
        from sparkify.quality.gx.docs import publish_docs

        sample = self.store_rows("select run_id from dq.validation_results order by stored_at desc limit 1")
        if not sample:
            raise RuntimeError("no stored validation results to copy for the Data Docs benchmark (the DAG step writes them)")
        sample = sample[0][0]
        per_run = self.store_rows("select count(*) from dq.validation_results where run_id = %(run)s", {"run": sample})[0][0]

        def publish_after_new_run(total: int) -> float:
            self.fill_store(sample, runs=max(1, total // per_run))
            docs = self.work / f"docs-{total}"
            publish_docs("sparkify_warehouse", str(docs), run_name=sample)  # warm: the site exists before the run
            times = []
            for rep in range(self.args.repeats):
                run_name = f"bench-new-{total}-{rep}"
                self.copy_run(sample, run_name, days_back=0)
                started = time.perf_counter()
                publish_docs("sparkify_warehouse", str(docs), run_name=run_name)
                times.append(time.perf_counter() - started)
            return _median(times)

        small, large = publish_after_new_run(10), publish_after_new_run(self.args.docs_results)
        self.results.update(
            docs_seconds_10=small, docs_seconds_large=large, docs_results_large=self.args.docs_results, docs_ratio=round(large / small, 2)
        )
        # The quality page: one run per day, docs_results // per_run days stored (1,000 days x 9 suites by default).
        from sparkify.quality import store
        from sparkify.quality.web import quality_page as page

        days = max(1, self.args.quality_days)
        self.fill_store(sample, runs=days)

        def build(days: int) -> str:
            return page.render_found(store.page_records("sparkify_warehouse", days), base="", days=days)

        default = _timed(lambda: build(30), self.args.repeats)
        every = _timed(lambda: build(days), self.args.repeats)
        self.results.update(quality_page_days_stored=days, quality_page_seconds=default, quality_page_all_days_seconds=every)

    # 7: authoring from evidence ------------------------------------------------------------------
    def measure_backtest(self) -> None:
        """backtest_seconds: a 20-expectation suite of staging_events (suggested from the
        profiles, then the committed ones) over 30 days of profiles: the DAG step's newest day,
        copied to the 29 days before it."""
        from sparkify.quality.gx import authoring
        from sparkify.quality.gx import backtest as bt

        (run_id, day), *_ = self.store_rows("select run_id, day from dq.day_profiles where table_name = 'staging_events' order by day desc")
        self.store_rows("delete from dq.day_profiles where table_name = 'staging_events' and run_id <> %(run)s", {"run": run_id})
        self.store_rows(
            "insert into dq.day_profiles (run_id, day, table_name, column_name, kind, row_count, null_count, distinct_count, "
            "min_value, max_value, value_counts, sensitive, failed_critical) select p.run_id || '-' || g.n, p.day - g.n, p.table_name, "
            "p.column_name, p.kind, p.row_count, p.null_count, p.distinct_count, p.min_value, p.max_value, p.value_counts, p.sensitive, "
            "p.failed_critical from dq.day_profiles as p, generate_series(1, 29) as g(n) "
            "where p.run_id = %(run)s and p.table_name = 'staging_events'",
            {"run": run_id},
        )
        suggested = authoring.suggest("staging_events", days=30)
        expectations = authoring.draft_json(suggested, name="bench")["expectations"] + authoring.committed_expectations("staging_events")
        path = self.work / "backtest-suite.json"
        path.write_text(json.dumps({"name": "bench", "meta": {"table": "staging_events"}, "expectations": expectations[:20]}))
        suite = bt.load(str(path))
        result: dict = {}
        seconds = _timed(lambda: result.update(bt.run(suite, days=30)), self.args.repeats)
        self.results.update(
            backtest_seconds=seconds,
            backtest_expectations=len(suite.expectations),
            backtest_days=len(result["days"]),
            backtest_not_decidable=sum(len(d["not_decidable"]) for d in result["days"]),
        )

    def store_rows(self, sql: str, params: dict | None = None) -> list[tuple]:
        from sparkify.warehouse.connection import transaction

        with transaction("sparkify_warehouse") as (conn, _), conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall() if cur.description else []

    def copy_run(self, sample: str, run_name: str, *, days_back: int) -> None:
        self.store_rows(
            f"{_COPY_RUNS} from dq.validation_results as r, (select %(days)s as n) as g where r.run_id = %(sample)s",
            {"sample": sample, "prefix": run_name, "days": days_back, "suffix": ""},
        )

    def fill_store(self, sample: str, *, runs: int) -> None:
        """The store holds the sample run and ``runs`` copies of it, each on its own earlier day."""
        self.store_rows("delete from dq.validation_results where run_id <> %(sample)s", {"sample": sample})
        self.store_rows(
            f"{_COPY_RUNS} from dq.validation_results as r, generate_series(1, %(runs)s) as g(n) where r.run_id = %(sample)s",
            {"sample": sample, "runs": runs, "prefix": "bench-run-", "suffix": "n"},
        )

    def run(self) -> dict:
        self.prepare()
        steps = [
            ("staging", self.measure_staging),
            ("validation", self.measure_validation_and_history),
            ("dag", self.measure_dag),
            ("docs", self.measure_docs),
            ("authoring", self.measure_backtest),
            ("overhead", self.measure_day_overhead),
            ("scheduler", self.measure_scheduler),
            ("anomaly", self.measure_anomalies),
            ("backfill", self.measure_backfill),
        ]
        assert tuple(name for name, _ in steps) == STEPS
        for name, step in steps:
            if self.args.only and name not in self.args.only:
                continue
            if name in ("docs", "authoring") and "dag" not in (self.args.only or ["dag"]):
                raise SystemExit(f"--only {name} needs dag too (it reads the DAG step's stored results)")
            print(f"Measuring {name}...", flush=True)
            before = set(self.results)
            step()
            check_recorded(name, {key: self.results[key] for key in set(self.results) - before})
            if missing(name, self.results):
                raise RuntimeError(f"bench step {name!r} ended without {', '.join(missing(name, self.results))}")
        self.results["figures"] = declaration()
        self.results["targets"] = TARGETS
        self.results["met"] = {k: self.results[k] <= v for k, v in TARGETS.items() if k in self.results}
        self.results["scale"] = {
            "songs": self.args.songs,
            "days": self.args.days,
            "events_per_day": self.args.events,
            "repeats": self.args.repeats,
        }
        self.results["machine"] = {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        }
        from sparkify.local import embedded

        embedded.stop(self.server.pgdata)
        return self.results


def _all_succeeded(results: list[dict], dag_id: str) -> None:
    failed = [r for r in results if r["state"] != "success"]
    if failed:
        raise RuntimeError(f"{dag_id} run for {failed[0]['date']} ended {failed[0]['state']}: {failed[0]['tasks']}")


def stage_day(lake_root: str, key: str, *, day: str, songs: bool = False, timed: bool = False):
    """Stage one lake key into the day's run schema the way the DAG's stage task does (S3 objects
    downloaded once, COPY, the field census and its rows for dq.lake_fields, rolled back after:
    the bench's store is the DAG's); returns the rows stored.

    With timed=True also the seconds of that work (connection, imports and the store's DDL excluded).
    """
    import duckdb  # noqa: F401  (imported before the clock starts, as in a warm worker)

    from sparkify.lake import open_lake, read_jsonpaths
    from sparkify.quality import store
    from sparkify.settings import AWS_CONN_ID
    from sparkify.staging import copy_to_postgres
    from sparkify.staging.fields import census
    from sparkify.warehouse.connection import transaction

    lake = open_lake(lake_root, aws_conn_id=AWS_CONN_ID)
    table, source = ("staging_songs", "songs") if songs else ("staging_events", "events")
    with transaction("sparkify_warehouse", schema=run_schema(day)) as (conn, dialect):
        store.ensure(conn, dialect)
        conn.commit()
        started = time.perf_counter()
        keys = lake.list_json(key) if songs else [key]
        jsonpaths = None if songs else read_jsonpaths(lake.read_bytes("log_json_path.json").decode(), source="log_json_path.json")
        with lake.readable(keys) as local:
            counts = copy_to_postgres(
                conn, table=table, lake=local, keys=keys, jsonpaths=jsonpaths, ndjson=not songs, day=day, source=source
            )
            conn.commit()
            seen = census(local, keys, ndjson=not songs)
        store.save_lake_fields(conn, f"bench-{day}", day, source, seen)
        seconds = time.perf_counter() - started
        conn.rollback()  # the census rows only (the staged rows were committed): the bench's store stays as the DAG left it
    return (counts.loaded, seconds) if timed else counts.loaded


def task_kind(task_id: str) -> str:
    """The DAG's tasks in kinds, for where a day's extra time goes: the nine validations, the
    Data Docs publish, staging, loads, the day's publish, the rest (begin, end, prepare)."""
    for prefix, kind in (("validate_", "validations"), ("stage_", "staging"), ("load_", "loads")):
        if task_id.startswith(prefix):
            return kind
    return task_id if task_id in ("publish_data_docs", "publish_day") else "other tasks"


def extra_by_task_kind(dag_days: list[dict[str, float]], noop_days: list[dict[str, float]]) -> dict[str, float]:
    """Per kind of task, the median over the measured days of the DAG's task durations minus the
    no-op graph's (the metadata DB's start to end of each task): what the project's own code adds."""
    kinds = sorted({task_kind(t) for day in dag_days for t in day})
    extra = {}
    for kind in kinds:
        sums = [[sum(d for t, d in day.items() if task_kind(t) == kind) for day in days] for days in (dag_days, noop_days)]
        extra[kind] = round(_median(sums[0]) - _median(sums[1]), 3)
    return extra


def peak_rss_mb() -> float:
    """This process's own peak resident memory (VmHWM of /proc/self/status), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextmanager
def lake_variable(lake: Path) -> Iterator[None]:
    """The DAG's lake Variable set to ``lake`` for the block, and put back as it was after it."""
    before = os.environ.get("AIRFLOW_VAR_SPARKIFY_LAKE")
    os.environ["AIRFLOW_VAR_SPARKIFY_LAKE"] = str(lake)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("AIRFLOW_VAR_SPARKIFY_LAKE", None)
        else:
            os.environ["AIRFLOW_VAR_SPARKIFY_LAKE"] = before


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sparkify.local.bench", description=__doc__)
    parser.add_argument("--songs", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=10)
    parser.add_argument("--events", type=int, default=1_000_000, help="events per day")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--docs-results", type=int, default=1000)
    parser.add_argument("--quality-days", type=int, default=1000, help="days x suites stored for the quality page figure")
    parser.add_argument("--overhead-days", type=int, default=4, help="demo-sized days for day_overhead_ratio (the first is left out)")
    parser.add_argument("--backfill-days", type=int, default=60, help="days of the backfill step's lake")
    parser.add_argument("--small-catalog", type=int, default=1000, help="songs of the small catalog (catalog_ratio)")
    parser.add_argument(
        "--only",
        nargs="+",
        choices=STEPS,
        help="these steps only",
    )
    parser.add_argument(
        "--tiny",
        action="store_true",
        help="a seconds-long run of every step but the scheduler's, the anomalies' and the backfill's (for make test)",
    )
    parser.add_argument("--out", default=None, help="JSON output (default build/bench.json)")
    parser.add_argument("--lakes", default=str(project_root() / ".lakes"), help="where generated lakes are cached")
    parser.add_argument("--pgdata", default=str(project_root() / ".warehouse" / "bench-pg"), help="the bench's own embedded server")
    args = parser.parse_args(argv)
    if args.tiny:
        args.songs, args.days, args.events, args.repeats, args.docs_results, args.quality_days = 30, 2, 200, 1, 40, 20
        args.small_catalog = 10
        # The scheduler step starts Airflow twice (minutes); make test runs both executors in its own tests.
        # The anomaly step runs 60 days (minutes); make test runs a 36-day history in test_history_checks.py.
        # The backfill step runs 60 days through the scheduler, twice (tens of minutes).
        args.only = args.only or list(TINY_STEPS)
        args.overhead_days = 2
    build = Path(os.environ.setdefault("SPARKIFY_BUILD_DIR", str(project_root() / "build")))
    # The bench's GX results and Data Docs stay apart from the project's own: a copy of gx/
    # (settings are read at call time, so setting the variable here is enough).
    gx_copy = build / "bench-gx"
    shutil.rmtree(gx_copy, ignore_errors=True)
    shutil.copytree(project_root() / "gx", gx_copy, ignore=shutil.ignore_patterns("uncommitted"))
    os.environ["SPARKIFY_GX_DIR"] = str(gx_copy)
    from sparkify.local.airflow_home import airflow_env

    for key, value in airflow_env().items():
        os.environ.setdefault(key, value)
    results = Bench(args).run()
    out = Path(args.out) if args.out else build / "bench.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print_table(results)
    print(f"\nWritten {out}  (peak RSS of this process {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
