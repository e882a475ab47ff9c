"""make run with several days at once: one process per job, each running its share of the days.

Days may run in any order and at the same time (each has its own run schema; publishes queue in
the warehouse), so the tables equal a sequential run's. What each process would otherwise share
with the others is made private: its Airflow metadata database (SQLite allows one writer; each job
gets a copy of the migrated one, under build/jobs/), its task log and its copy of gx/ (made by
quality.checkpoint per process). A metadata database that is not SQLite is shared as configured.
Each day is printed as it finishes; the caller summarises the days in date order.
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
    from airflow.configuration import conf

    url = conf.get("database", "sql_alchemy_conn")
    return Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else None


def run_in_processes(day_list: list[date], *, jobs: int, log_file: Path, conf: dict | None, report) -> list[dict[str, Any]]:
    """Run the days on ``jobs`` processes; ``report(result)`` is called as each day finishes.
    Returns every day's result (runner.collect_run's dict) in date order."""
    folder = build_dir() / "jobs"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    database = _sqlite_path()
    running = []
    for number, share in enumerate(shares(day_list, jobs), start=1):
        env = dict(os.environ)
        if database is not None:
            copy = folder / f"job{number}.db"
            shutil.copyfile(database, copy)
            env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{copy}"
        results = folder / f"job{number}.jsonl"
        results.touch()
        command = [sys.executable, "-m", "sparkify.local.parallel", "--days", ",".join(d.isoformat() for d in share),
                   "--results", str(results), "--log", str(folder / f"job{number}.log")]  # fmt: skip
        if conf:
            command += ["--conf", json.dumps(conf)]
        if number > 1:
            command += ["--after", str(folder / "job1.jsonl")]
        with open(folder / f"job{number}.out", "w") as out:
            process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        running.append((number, process, results, len(share)))
    finished: list[dict[str, Any]] = []
    seen = {number: 0 for number, *_ in running}
    while True:
        alive = [process.poll() is None for _, process, _, _ in running]
        for number, _, results, _ in running:
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
        for number, *_ in running:
            combined.write(f"===== job {number} =====\n{(folder / f'job{number}.log').read_text(errors='replace')}")
    for number, process, _, expected in running:
        if process.returncode != 0 or seen[number] != expected:
            tail = (folder / f"job{number}.out").read_text(errors="replace")[-3000:]
            raise RuntimeError(f"make run's job {number} stopped (exit {process.returncode}) after {seen[number]} of {expected} days; "
                               f"its output ({folder / f'job{number}.out'}):\n{tail}")  # fmt: skip
    return sorted(finished, key=lambda result: result["date"])


def main(argv: list[str] | None = None) -> int:
    """One job: run its days in this process, one JSON line per finished day."""
    from sparkify.local.runner import run_days

    parser = argparse.ArgumentParser(prog="python -m sparkify.local.parallel")
    parser.add_argument("--days", required=True, help="comma-separated YYYY-MM-DD")
    parser.add_argument("--results", required=True, type=Path)
    parser.add_argument("--log", required=True, type=Path)
    parser.add_argument("--conf", type=json.loads, default=None)
    parser.add_argument("--after", type=Path, help="start the days once this results file holds a finished day")
    args = parser.parse_args(argv)
    if args.after is not None:
        # This process's one-off costs overlap job 1's first day.
        from sparkify.local.runner import warm_execution_api
        from sparkify.warm import preload

        preload()
        warm_execution_api()
        while "\n" not in args.after.read_text(encoding="utf-8"):
            time.sleep(0.3)

    def write(result: dict[str, Any]) -> None:
        with open(args.results, "a", encoding="utf-8") as out:
            out.write(json.dumps(result, default=str) + "\n")

    day_list = [date.fromisoformat(d) for d in args.days.split(",")]
    run_days(day_list, log_file=args.log, quiet=True, conf=args.conf, on_day=write)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
