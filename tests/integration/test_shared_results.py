"""Results and Data Docs shared across machines: the results store in the warehouse, and workers that
share only the warehouse and the docs folder publishing days at the same time."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from urllib.parse import unquote

import pytest

from sparkify.local.generator import generate
from sparkify.names import suites
from tests.integration.helpers import execute, reset_warehouse, run_pipeline, use_warehouse
from tests.session import ROOT, SESSION_DIR

ALL = len(suites())  # every committed suite runs once a day (read from gx/)

DAYS = ("2018-11-01", "2018-11-02", "2018-11-03")


@pytest.fixture(scope="module")
def lake():
    path = SESSION_DIR / "lake-shared"
    generate(path, seed=17, songs=30, users=10, days=3, events=120)
    bad = path / "log_data" / "2018" / "11" / f"{DAYS[1]}-events.json"
    events = [json.loads(line) for line in bad.read_text().splitlines()]
    next(e for e in events if e["page"] == "NextSong")["level"] = "premium"
    bad.write_text("".join(json.dumps(e) + "\n" for e in events))
    return path


def index_links(docs: Path) -> list[str]:
    index = (docs / "index.html").read_text()
    return [unquote(link) for link in re.findall(r"'_table_row_link_path': '(validations/[^']+\.html)'", index)]


def worker(name: str, server, lake: Path, day: str, docs: Path) -> subprocess.Popen:
    """`make run` for one day as a separate machine would run it: its own copy of the project's
    gx/ (own gx/uncommitted), own build folder, own Airflow home and working directory; shared
    with the others: only the warehouse and the published docs folder."""
    home = SESSION_DIR / f"worker-{name}"
    (home / "cwd").mkdir(parents=True, exist_ok=True)
    if not (home / "gx").exists():
        shutil.copytree(ROOT / "gx", home / "gx", ignore=shutil.ignore_patterns("uncommitted"))
    use_warehouse(server)
    env = dict(os.environ, AIRFLOW_HOME=str(home / "airflow"), SPARKIFY_BUILD_DIR=str(home / "build"), SPARKIFY_GX_DIR=str(home / "gx"),
               AIRFLOW_VAR_SPARKIFY_DOCS=str(docs))  # fmt: skip
    return subprocess.Popen(
        [sys.executable, "-m", "sparkify.local.cli", "run", "--lake", str(lake), "--start", day, "--end", day],
        env=env, cwd=home / "cwd", stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def finish(process: subprocess.Popen) -> tuple[int, str]:
    output = process.communicate(timeout=600)[0]
    return process.returncode, output


def test_every_validation_has_its_row_with_the_json_gx_wrote(tcp_warehouse, lake):
    reset_warehouse(tcp_warehouse)
    code, summary = run_pipeline(tcp_warehouse, lake, DAYS[0], DAYS[1], fresh=False, tag="store")
    assert code == 1  # the second day fails its level check
    ran = [v for v in summary["validations"] if v["state"] != "not run"]
    rows = execute(
        tcp_warehouse,
        "select day::text, suite, success, gx_success, evaluated, failed_critical, data_docs_page, "
        "result_json->>'success', (result_json->'statistics'->>'evaluated_expectations')::int, result_json->'meta'->'run_id'->>'run_name', "
        "run_id from dq.validation_results order by day, suite",
    )  # fmt: skip
    # Day 1: every suite. Day 2: staging_events fails; the staging, quarantine, lake fields, songs and artists checks still run.
    assert len(rows) == len(ran) == ALL + 6
    by_key = {(r[0], r[1]): r for r in rows}
    for v in ran:
        day, suite, success, gx_success, evaluated, failed_critical, page, json_success, json_evaluated, json_run, run_id = by_key[
            (v["date"], v["suite"])
        ]
        assert success == v["success"] and failed_critical == v["failed_critical"]
        assert json_success == str(gx_success).lower() and json_evaluated == evaluated
        assert json_run == run_id and v["data_docs"].endswith(page)
    failed = by_key[(DAYS[1], "staging_events")]
    assert failed[2] is False and failed[5] == 1  # the failed day's result stayed, though the day published nothing
    assert not execute(tcp_warehouse, "select 1 from songplays where start_time >= %s", (DAYS[1],))


def test_three_days_at_once_then_a_rerun_beside_them(tcp_warehouse, lake, monkeypatch):
    """Three "workers" (separate processes with their own gx/ copy, build folder, Airflow home and
    working directory) that share only the warehouse and the docs folder, three days at once;
    then a re-run of the first day, publishing beside their pages: every page of every worker
    and run is listed once in the index and present, and no worker keeps anything of a run on
    its own disk."""
    reset_warehouse(tcp_warehouse)
    docs = SESSION_DIR / "docs-concurrent"
    processes = [worker(f"c{n}", tcp_warehouse, lake, day, docs) for n, day in enumerate(DAYS)]
    outcomes = [finish(p) for p in processes]
    assert [code for code, _ in outcomes] == [0, 1, 0], [out[-2000:] for _, out in outcomes]  # the second day fails its check

    def listed_once_and_stored() -> set[str]:
        links = index_links(docs)
        counts = Counter(links)
        assert counts and max(counts.values()) == 1, [link for link, n in counts.items() if n > 1]
        stored = {page for (page,) in execute(tcp_warehouse, "select data_docs_page from dq.validation_results")}
        assert set(links) == stored  # every result of every run, each listed once
        assert all((docs / link).is_file() for link in links)
        return stored

    assert len(listed_once_and_stored()) == ALL + 6 + ALL
    for name in ("c0", "c1", "c2"):  # nothing of any run stays on a worker's own disk
        local = list((SESSION_DIR / f"worker-{name}" / "gx").rglob("*.json"))
        assert not [p for p in local if "uncommitted" in p.parts], name
    # A later run of the first day, from this process (a fourth machine), beside the workers' pages.
    monkeypatch.setenv("AIRFLOW_VAR_SPARKIFY_DOCS", str(docs))
    code, _ = run_pipeline(tcp_warehouse, lake, DAYS[0], DAYS[0], fresh=False, tag="shared-rerun")
    assert code == 0
    assert len(listed_once_and_stored()) == ALL + 6 + ALL + ALL
