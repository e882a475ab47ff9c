"""make run with several days at once: one process per job, each running its share of the days.

Days may run in any order and at the same time (each has its own run schema; publishes queue in
the warehouse), so the tables equal a sequential run's. What each process would otherwise share
with the others is made private: its Airflow metadata database (SQLite allows one writer; each job
gets a copy of the migrated one, under build/jobs/), its task log and its copy of gx/ (made by
quality.gx.context per process). A metadata database that is not SQLite is shared as configured.
The jobs start at once and pay their one-off costs while the parent prepares; each day is printed
as it finishes; the caller summarises the days in date order.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

from sparkify.settings import build_dir


def shares(day_list: list[date], jobs: int) -> list[list[date]]:
    """The first day goes to job 1, the others in turn to jobs 2, 3, ..., 1, 2, ...: each job works
    through the range in the order given. The other jobs start their days once job 1's first day
    is done (see main): that day stages the song catalog, and later days stage only what changed,
    as in a sequential run."""
    split: list[list[date]] = [[] for _ in range(jobs)]
    for n, day in enumerate(day_list):
        split[n % jobs].append(day)
    return [share for share in split if share]


def _sqlite_path() -> Path | None:
    """The metadata DB's file when it is SQLite (one writer at a time), else None."""
    from airflow.configuration import conf
    from sqlalchemy.engine import make_url

    url = make_url(conf.get("database", "sql_alchemy_conn"))
    return Path(url.database) if url.get_backend_name() == "sqlite" and url.database else None


class Jobs:
    """The job processes of one make run. Started before the parent has migrated the metadata DB
    and emptied the warehouse, so that each job's one-off costs (imports, the in-process execution
    API) overlap that work; ``run`` then gives each its metadata DB and lets them go."""

    def __init__(self, day_list: list[date], *, jobs: int, conf: dict | None):
        self.folder = build_dir() / "jobs"
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        self.go = self.folder / "go"
        self.database = _sqlite_path()
        self.running: list[tuple[int, subprocess.Popen, Path, int]] = []
        for number, share in enumerate(shares(day_list, jobs), start=1):
            env = dict(os.environ)
            if self.database is not None:
                env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{self.folder / f'job{number}.db'}"
            results = self.folder / f"job{number}.jsonl"
            results.touch()
            command = [
                sys.executable,
                "-m",
                "sparkify.local.parallel",
                "--days",
                ",".join(d.isoformat() for d in share),
                "--results",
                str(results),
                "--log",
                str(self.folder / f"job{number}.log"),
                "--go",
                str(self.go),
            ]
            if conf:
                command += ["--conf", json.dumps(conf)]
            if number > 1:
                command += ["--after", str(self.folder / "job1.jsonl")]
            with open(self.folder / f"job{number}.out", "w") as out:
                process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
            self.running.append((number, process, results, len(share)))

    def stop(self) -> None:
        """End every job (the parent failed before letting them go)."""
        for _, process, _, _ in self.running:
            if process.poll() is None:
                process.kill()
            process.wait()

    def run(self, *, log_file: Path, report) -> list[dict[str, Any]]:
        """Let the jobs run their days; ``report(result)`` is called as each day finishes.
        Returns every day's result (runner.collect_run's dict) in date order."""
        if self.database is not None:
            for number, *_ in self.running:  # the migrated DB, in place before any job opens it
                partial = self.folder / f"job{number}.db.partial"
                shutil.copyfile(self.database, partial)
                os.replace(partial, self.folder / f"job{number}.db")
        self.go.touch()
        try:
            return self._collect(log_file=log_file, report=report)
        except BaseException:  # Ctrl-C or a failed job: no job outlives make run
            self.stop()
            raise

    def _collect(self, *, log_file: Path, report) -> list[dict[str, Any]]:
        finished: list[dict[str, Any]] = []
        seen = {number: 0 for number, *_ in self.running}
        while True:
            alive = [process.poll() is None for _, process, _, _ in self.running]
            for number, _, results, _ in self.running:
                text = results.read_text(encoding="utf-8")
                lines = text[: text.rfind("\n") + 1].splitlines()  # whole lines only: a job may be mid-write
                for line in lines[seen[number] :]:
                    finished.append(json.loads(line))
                    report(finished[-1])
                seen[number] = len(lines)
            if not any(alive):
                break
            time.sleep(0.3)
        with open(log_file, "a", encoding="utf-8") as combined:
            for number, *_ in self.running:
                combined.write(f"===== job {number} =====\n{(self.folder / f'job{number}.log').read_text(errors='replace')}")
        for number, process, _, expected in self.running:
            if process.returncode != 0 or seen[number] != expected:
                out = self.folder / f"job{number}.out"
                raise RuntimeError(
                    f"make run's job {number} stopped (exit {process.returncode}) after {seen[number]} of {expected} "
                    f"days; its output ({out}):\n{out.read_text(errors='replace')[-3000:]}"
                )
        return sorted(finished, key=lambda result: result["date"])


def main(argv: list[str] | None = None) -> int:
    """One job: run its days in this process, one JSON line per finished day."""
    from sparkify.local.runner import run_days

    parser = argparse.ArgumentParser(prog="python -m sparkify.local.parallel")
    parser.add_argument("--days", required=True, help="comma-separated YYYY-MM-DD")
    parser.add_argument("--results", required=True, type=Path)
    parser.add_argument("--log", required=True, type=Path)
    parser.add_argument("--conf", type=json.loads, default=None)
    parser.add_argument("--go", required=True, type=Path, help="start once this file exists (the metadata DB is in place)")
    parser.add_argument("--after", type=Path, help="then wait until this results file holds a finished day")
    args = parser.parse_args(argv)
    # One-off costs first, while the parent migrates the metadata DB (and, for the later jobs,
    # while job 1 runs the first day): importing what tasks import, the in-process execution API.
    from sparkify.local.runner import warm_execution_api
    from sparkify.warm import preload

    preload()
    warm_execution_api()
    while not args.go.exists():
        time.sleep(0.2)
    while args.after is not None and "\n" not in args.after.read_text(encoding="utf-8"):
        time.sleep(0.3)

    def write(result: dict[str, Any]) -> None:
        with open(args.results, "a", encoding="utf-8") as out:
            out.write(json.dumps(result, default=str) + "\n")

    day_list = [date.fromisoformat(d) for d in args.days.split(",")]
    run_days(day_list, log_file=args.log, quiet=True, conf=args.conf, on_day=write)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
