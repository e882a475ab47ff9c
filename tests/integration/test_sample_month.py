"""The real public sample, all 30 days, through the real DAG on real PostgreSQL servers."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

import pytest

from sparkify.names import suites
from tests.integration.helpers import checksums, page_text, run_pipeline
from tests.session import ROOT, SAMPLE_LAKE, SESSION_DIR, TEST_PASSWORD

EXPECTED_TABLES = {"songplays": 6820, "users": 97, "songs": 71, "artists": 69, "time": 6813}
SUITES_PER_DAY = len(suites())  # every committed checkpoint runs once a day
REVERSE = SESSION_DIR / "month-reverse"  # the reversed month's make run: its Airflow home, build folder, docs


@pytest.fixture(scope="module")
def reverse_run(tcp_warehouse):
    """`make run` of the month newest day first, two days at once (its jobs: one process each), on
    a password-protected TCP server, in its own process, Airflow home, build folder and docs
    folder: started first, so that it runs beside the in-order month (the suite's longest file)."""
    env = dict(os.environ, AIRFLOW_HOME=str(REVERSE / "airflow"), SPARKIFY_BUILD_DIR=str(REVERSE / "build"),
               AIRFLOW_VAR_SPARKIFY_DOCS=str(REVERSE / "docs"))  # fmt: skip
    env["AIRFLOW_CONN_SPARKIFY_WAREHOUSE"] = tcp_warehouse.connection_json()
    REVERSE.mkdir(parents=True, exist_ok=True)
    with open(REVERSE / "make-run.log", "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "sparkify.local.cli", "run", "--lake", str(SAMPLE_LAKE), "--start", "2018-11-01", "--end", "2018-11-30",
             "--fresh", "--jobs", "2", "--backwards"],
            env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    yield process
    if process.poll() is None:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def in_order(socket_warehouse, reverse_run):
    code, summary = run_pipeline(socket_warehouse, SAMPLE_LAKE, "2018-11-01", "2018-11-30", fresh=True, tag="in-order")
    return code, summary, checksums(socket_warehouse)


def test_sample_month_gives_the_expected_numbers(in_order):
    code, summary, _ = in_order
    assert code == 0
    assert summary["staged"] == {"events": 8056, "songs": 71}
    assert summary["tables"] == EXPECTED_TABLES
    assert summary["songplays_with_song"] == 1


def test_every_critical_validation_passes_and_is_in_data_docs(in_order):
    _, summary, _ = in_order
    validations = summary["validations"]
    assert len(validations) == 30 * SUITES_PER_DAY
    assert all(v["success"] for v in validations), [v for v in validations if not v["success"]]
    docs = Path(os.environ["AIRFLOW_VAR_SPARKIFY_DOCS"])
    index = (docs / "index.html").read_text()
    for v in validations:
        page = Path(v["data_docs"])
        assert page.is_file(), page
        assert page.relative_to(docs).parts[1] == v["suite"]
        # The page names the day, and a result with only warnings reads as passed with warnings.
        text = page_text(page)
        status = "Passed with warnings" if v["failed_warning"] else "Passed"
        assert f"Day: {v['date']} " in text and f"Status: {status} " in text, (page, v["failed_warning"])
    warned = [v for v in validations if v["failed_warning"]]
    assert warned  # the sample month has warnings (artists without a location)
    # The index links every validation page of the month.
    linked = {unquote(link) for link in re.findall(r"'_table_row_link_path': '(validations/[^']+\.html)'", index)}
    pages = {Path(v["data_docs"]).relative_to(docs).as_posix() for v in validations}
    assert len(pages) == len(validations)
    assert pages <= linked
    # Each index row names its day; a warnings-only result has the warning icon and filter text.
    rows = {}
    for day, link in re.findall(r"\{'day': '([0-9-]+)',.*?'_table_row_link_path': '([^']+)'", index):
        rows[unquote(link)] = day
    assert all(rows.get(Path(v["data_docs"]).relative_to(docs).as_posix()) == v["date"] for v in validations)
    assert index.count("'_validation_success_text': 'Passed with warnings'") >= len(warned)


def test_one_match_between_plays_and_songs(in_order, socket_warehouse):
    from tests.integration.helpers import execute

    rows = execute(
        socket_warehouse,
        "select s.title, a.name from songplays sp join songs s using (song_id) join artists a on a.artist_id = sp.artist_id",
    )
    assert rows == [("Setanta matins", "Elena")]


def test_users_carry_the_level_of_their_latest_event(in_order, socket_warehouse):
    from tests.integration.helpers import execute

    latest: dict[str, tuple[int, str]] = {}
    for path in sorted((SAMPLE_LAKE / "log_data").rglob("*.json")):
        for line in path.read_text().splitlines():
            e = json.loads(line)
            if e["userId"] and (e["userId"] not in latest or e["ts"] >= latest[e["userId"]][0]):
                latest[e["userId"]] = (e["ts"], e["level"])
    stored = dict(execute(socket_warehouse, "select user_id, level from users"))
    assert stored == {user: level for user, (_, level) in latest.items()}


def test_reverse_order_two_at_once_and_rerun_give_identical_tables_over_tcp(in_order, reverse_run, tcp_warehouse):
    """The month newest day first, two days at once (make run's jobs: one process each), then a
    day re-run, on a password-protected TCP server: the same tables as the in-order run."""
    _, _, expected = in_order
    code = reverse_run.wait(timeout=1800)
    summary = json.loads((REVERSE / "build" / "run-summary.json").read_text())
    assert code == 0, ((REVERSE / "make-run.log").read_text()[-3000:], [v for v in summary["validations"] if not v["success"]])
    assert [r["date"] for r in summary["runs"]] == [f"2018-11-{d:02d}" for d in range(1, 31)]  # the summary is in date order
    jobs = [
        [json.loads(line)["date"] for line in path.read_text().splitlines()]
        for path in sorted((REVERSE / "build" / "jobs").glob("job*.jsonl"))
    ]
    assert jobs == [[f"2018-11-{d:02d}" for d in range(30, 0, -2)], [f"2018-11-{d:02d}" for d in range(29, 0, -2)]]
    assert summary["tables"] == EXPECTED_TABLES and summary["songplays_with_song"] == 1
    assert len(summary["validations"]) == 30 * SUITES_PER_DAY
    assert checksums(tcp_warehouse) == expected
    code, summary = run_pipeline(tcp_warehouse, SAMPLE_LAKE, "2018-11-15", "2018-11-15", fresh=False, tag="rerun")
    assert code == 0
    assert checksums(tcp_warehouse) == expected
    assert summary["tables"] == EXPECTED_TABLES


def test_the_password_never_leaves_the_connection(in_order, tcp_warehouse):
    """After the TCP runs: no trace of the password in gx/, Data Docs, XCom or task logs."""
    import sqlite3

    if not (SESSION_DIR / "summary-rerun.json").is_file():
        pytest.skip("needs the TCP runs of the previous test")
    # The reversed month's own process wrote its Airflow home, job databases, build and docs under REVERSE.
    places = [Path(os.environ["SPARKIFY_GX_DIR"]), Path(os.environ["AIRFLOW_VAR_SPARKIFY_DOCS"]),
              Path(os.environ["SPARKIFY_BUILD_DIR"]), Path(os.environ["AIRFLOW_HOME"]) / "logs", REVERSE]  # fmt: skip
    scanned = 0
    for place in places:
        for path in place.rglob("*"):
            if path.is_file():
                scanned += 1
                assert TEST_PASSWORD.encode() not in path.read_bytes(), path
    assert scanned > 100
    db = sqlite3.connect(Path(os.environ["AIRFLOW_HOME"]) / "airflow.db")
    xcoms = db.execute("select count(*), sum(instr(cast(value as text), ?) > 0) from xcom", (TEST_PASSWORD,)).fetchone()
    assert xcoms[0] > 0 and xcoms[1] == 0
