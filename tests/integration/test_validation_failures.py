"""Each kind of check, broken on purpose: the right task fails with the right message, nothing
downstream runs, Data Docs still publish, and the failure is on its published page."""

from __future__ import annotations

import html as html_module
import json
import os
import re
import shutil
from datetime import date
from pathlib import Path

import pytest

from sparkify.local.generator import generate
from tests.integration.helpers import execute, on_run_table, page_text, reset_warehouse, run_pipeline
from tests.session import SESSION_DIR

DAY = "2018-11-02"


@pytest.fixture(scope="module")
def lake():
    path = SESSION_DIR / "lake-small"
    generate(path, seed=11, songs=40, users=15, days=3, events=120)
    return path


def crafted_lake(lake: Path, name: str, edit) -> Path:
    """A copy of the small lake whose day file is rewritten by edit(list of events)."""
    path = SESSION_DIR / f"lake-{name}"
    shutil.rmtree(path, ignore_errors=True)
    shutil.copytree(lake, path)
    day_file = path / "log_data" / "2018" / "11" / f"{DAY}-events.json"
    events = [json.loads(line) for line in day_file.read_text().splitlines()]
    edit(events)
    day_file.write_text("".join(json.dumps(e) + "\n" for e in events))
    return path


def first_play(events):
    return next(e for e in events if e["page"] == "NextSong")


def run_day(server, lake, tag):
    log = Path(os.environ["SPARKIFY_BUILD_DIR"]) / "run.log"
    code, summary = run_pipeline(server, lake, DAY, DAY, fresh=False, tag=tag)
    return code, summary, log.read_text(errors="replace")


def assert_blocked(summary, log, *, task, downstream, expected_text):
    """The named validation failed; downstream never ran; publish ran and the page shows it."""
    states = {v["task_id"]: v["state"] for v in summary["validations"]}
    failed = [v for v in summary["validations"] if v["task_id"] == task][0]
    assert failed["state"] == "failed" and failed["success"] is False
    assert [t for t, s in states.items() if s == "failed"] == [task]
    for t in downstream:
        assert states.get(t, "not run") == "not run", (t, states.get(t))
    message = failed["message"]  # the text the task raised, as pushed to XCom before raising
    assert message.startswith("Critical validation failed")
    for text in expected_text:
        assert text in message, (text, message)
    page = Path(failed["data_docs"])
    assert page.is_file(), page  # published even though the run failed
    # The extra link (computed by Airflow's task runner when the task failed) is the same page in
    # the Airflow plugin's Data Docs app; no [api] base_url is set here, so it is root-relative.
    published = Path(os.environ["AIRFLOW_VAR_SPARKIFY_DOCS"])
    assert failed["link"] == f"/sparkify-docs/{page.relative_to(published).as_posix()}"
    assert f"Data Docs: {page}" in message
    text = page_text(page)
    assert f"Day: {DAY} " in text and "Status: Failed " in text
    index = (Path(os.environ["AIRFLOW_VAR_SPARKIFY_DOCS"]) / "index.html").read_text()
    assert page.name in index
    return states


def test_bad_domain_value_blocks_at_staging(socket_warehouse, lake, capsys):
    from sparkify.local import review

    def edit(events):
        first_play(events)["level"] = "premium"

    reset_warehouse(socket_warehouse)
    code, summary, log = run_day(socket_warehouse, crafted_lake(lake, "domain", edit), "domain")
    assert code == 1
    states = assert_blocked(
        summary, log, task="validate_staging_events",
        downstream=["validate_users", "validate_songplays", "validate_referential_integrity"],
        expected_text=["table staging_events", "expect_column_values_to_be_in_set", "column='level'",
                       "1 unexpected", "premium"],
    )  # fmt: skip
    assert states["validate_songs"] == "success"  # the independent branch still ran
    assert execute(socket_warehouse, "select count(*) from songplays")[0][0] == 0
    # A plain critical failure is not held: make review has nothing to decide (the waivable one is below).
    assert summary["runs"][0]["review"] is None
    assert review.main(DAY, "publish", "a new tier", by="dana") == 1
    assert f"make review: no run of {DAY} was held for review" in capsys.readouterr().out


def test_null_key_in_the_fact(socket_warehouse, lake):
    reset_warehouse(socket_warehouse)
    on_run_table(socket_warehouse, "songplays", "null_one_user", """
        begin
            if not exists (select 1 from songplays where user_id is null) then new.user_id := null; end if;
            return new;
        end""")  # fmt: skip
    code, summary, log = run_day(socket_warehouse, lake, "nullkey")
    assert code == 1
    assert_blocked(summary, log, task="validate_songplays",
                   downstream=["validate_time", "validate_referential_integrity"],
                   expected_text=["table songplays", "expect_column_values_to_not_be_null", "column='user_id'",
                                  "1 unexpected", "songplay_id"])  # fmt: skip
    # The page lists the offending row's key too (GX itself shows keys only with the COMPLETE format).
    page = page_text(Path(next(v for v in summary["validations"] if v["task_id"] == "validate_songplays")["data_docs"]))
    assert "Offending keys (1 of 1): {'user_id': None, 'songplay_id': " in page
    assert summary["validations"] and not any(v["task_id"] == "validate_time" and v["state"] != "not run" for v in summary["validations"])


def test_duplicate_user(socket_warehouse, lake):
    reset_warehouse(socket_warehouse)
    # A user of the day, already published twice with a newer event: the day's audit copy carries
    # the published (newer) row, so both duplicates reach it and the uniqueness check.
    events = [json.loads(line) for line in (lake / "log_data" / "2018" / "11" / f"{DAY}-events.json").read_text().splitlines()]
    user = first_play(events)["userId"]
    future = 4_102_444_800_000  # 2100-01-01: newer than any event
    execute(socket_warehouse, "insert into users values (%s, 'A', 'B', 'F', 'free', %s), (%s, 'A', 'B', 'F', 'paid', %s) returning 1",
            (user, future, user, future))  # fmt: skip
    code, summary, log = run_day(socket_warehouse, lake, "dupuser")
    assert code == 1
    assert_blocked(summary, log, task="validate_users", downstream=["validate_referential_integrity"],
                   expected_text=["table users", "expect_column_values_to_be_unique", "column='user_id'", f"'{user}'"])  # fmt: skip


def test_orphan_songplay(socket_warehouse, lake):
    reset_warehouse(socket_warehouse)
    on_run_table(socket_warehouse, "songplays", "orphan_one", """
        begin
            if new.song_id is null and not exists (select 1 from songplays where song_id = 'SOORPHAN0000000000')
            then new.song_id := 'SOORPHAN0000000000'; end if;
            return new;
        end""")  # fmt: skip
    code, summary, log = run_day(socket_warehouse, lake, "orphan")
    assert code == 1
    states = assert_blocked(summary, log, task="validate_referential_integrity", downstream=[],
                            expected_text=["songplays.song_id -> songs", "SOORPHAN0000000000"])  # fmt: skip
    assert states["validate_songplays"] == "success"


def test_staged_count_mismatch(socket_warehouse, lake):
    reset_warehouse(socket_warehouse)
    execute(socket_warehouse, "create table public.dropped_events (n integer)")
    on_run_table(socket_warehouse, "staging_events", "drop_one_event", """
        begin
            if not exists (select 1 from public.dropped_events) then
                insert into public.dropped_events values (1);
                return null;  -- a lossy load: the row silently never lands
            end if;
            return new;
        end""")  # fmt: skip
    code, summary, log = run_day(socket_warehouse, lake, "count")
    assert code == 1
    lines = len((lake / "log_data" / "2018" / "11" / f"{DAY}-events.json").read_text().splitlines())
    assert_blocked(summary, log, task="validate_quarantine", downstream=["validate_users"],
                   expected_text=["Every non-blank line of the day's log file is staged or quarantined",
                                  "column='events_read'", f"min_value={lines}"])  # fmt: skip


def test_warning_only_failures_do_not_block(socket_warehouse, lake):
    reset_warehouse(socket_warehouse)
    code, summary, _ = run_day(socket_warehouse, lake, "warnings")
    assert code == 0
    by_task = {v["task_id"]: v for v in summary["validations"]}
    assert all(v["success"] for v in by_task.values())
    # 60% of generated artists have a location, under the suite's 80% warning threshold.
    assert by_task["validate_artists"]["failed_warning"] == 1
    assert "Most artists have a location" in Path(by_task["validate_artists"]["data_docs"]).read_text()


def test_a_failed_rerun_of_a_published_day_shows_on_the_quality_page(socket_warehouse, lake):
    """The day published clean, then run again on a lake whose level is broken: the quality page's
    row is the re-run's (staging_events critical, the suites after it not run, each with the clean
    run's result linked), and the day is still published, by the earlier run (dq.day_publishes)."""
    from sparkify.quality import store
    from sparkify.quality.web.quality_page import STATES, render_found

    reset_warehouse(socket_warehouse)
    code, clean, _ = run_day(socket_warehouse, lake, "published")
    assert code == 0 and clean["runs"][0]["published"]

    def edit(events):
        first_play(events)["level"] = "premium"

    code, rerun, _ = run_day(socket_warehouse, crafted_lake(lake, "rerun", edit), "rerun")
    assert code == 1 and not rerun["runs"][0]["published"]
    found = store.page_records("sparkify_warehouse", 30)
    assert found["publishes"][date.fromisoformat(DAY)]["run_id"] == clean["runs"][0]["run_id"]
    html = render_found(found, base="", days=30, suites=sorted({v["suite"] for v in clean["validations"]}))
    row = re.search(rf"<tr><th>{DAY}</th>(.*?)</tr>", html).group(1)
    assert '<td class="pub" title="published by ' + clean["runs"][0]["run_id"] in row and ">published by an earlier run<" in row
    cells = dict(re.findall(r'title="(\w+) on ' + DAY + r': ([^;"]*)', html_module.unescape(row)))
    assert cells["staging_events"] == "critical" and cells["staging_songs"] == "passed"
    for suite in ("users", "songplays", "time", "referential_integrity", "history"):
        assert cells[suite] == "not run by the day's newest run", (suite, cells[suite])
    assert row.count(f"background:{STATES['not run']}") >= 5 and row.count(">earlier</a>") >= 5


def test_a_waivable_critical_failure_holds_the_day_and_make_review_publishes_it_as_waived(socket_warehouse, lake, capsys, monkeypatch):
    """The broken day of test_bad_domain_value_blocks_at_staging (level "premium") with the level
    checks declared waivable (their meta, in a copy of gx/): the tasks pass, the day is held, and
    make review publishes it as waived, the premium play included, with the day's OpenLineage
    publish event (file transport) carrying the decision."""
    import subprocess
    import sys

    from sparkify.local import review
    from tests.session import ROOT

    def edit(events):
        first_play(events)["level"] = "premium"

    broken = crafted_lake(lake, "waiver", edit)
    reset_warehouse(socket_warehouse)

    gx_copy = SESSION_DIR / "gx-waivable"
    shutil.rmtree(gx_copy, ignore_errors=True)
    shutil.copytree(os.environ["SPARKIFY_GX_DIR"], gx_copy)
    waived = []  # the level check of every table that carries level (staging_events, users, songplays)
    for suite_path in sorted((gx_copy / "expectations").glob("*.json")):
        suite = json.loads(suite_path.read_text())
        for e in suite["expectations"]:
            if e["type"] == "expect_column_values_to_be_in_set" and e["kwargs"].get("column") == "level":
                assert e.get("severity", "critical") == "critical"
                e["meta"] = {**(e.get("meta") or {}), "waivable": True}
                waived.append(suite_path.stem)
        suite_path.write_text(json.dumps(suite))
    assert {"staging_events", "songplays"} <= set(waived), waived
    build = SESSION_DIR / "build-waivable"
    env = dict(os.environ, SPARKIFY_GX_DIR=str(gx_copy), SPARKIFY_BUILD_DIR=str(build))
    done = subprocess.run([sys.executable, "-m", "sparkify.local.cli", "run", "--lake", str(broken), "--start", DAY, "--end", DAY,
                           "--jobs", "1"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)  # fmt: skip
    assert done.returncode == 3, done.stdout[-3000:] + done.stderr[-3000:]
    assert "waivable critical check(s) failed" in done.stdout and "- [critical, waivable] staging_events" in done.stdout
    summary = json.loads((build / "run-summary.json").read_text())
    checked = {v["suite"]: v for v in summary["validations"]}
    for name in ("staging_events", "songplays"):
        assert (checked[name]["state"], checked[name]["success"], checked[name]["failed_critical"]) == ("success", True, 1), name
    (run,) = summary["runs"]
    assert run["published"] is False and run["review"]["state"] == "waiting" and run["review"]["checks"][0]["waivable"] is True
    assert execute(socket_warehouse, "select count(*) from songplays") == [(0,)]

    events = SESSION_DIR / "review-lineage.jsonl"
    monkeypatch.setenv("AIRFLOW__OPENLINEAGE__TRANSPORT", json.dumps({"type": "file", "log_file_path": str(events), "append": True}))
    capsys.readouterr()
    assert review.main(DAY, "publish", "premium is a new tier, accepted", by="dana", summary_path=build / "run-summary.json") == 0
    assert execute(socket_warehouse, "select count(*) from songplays where level = 'premium'") == [(1,)]
    said = capsys.readouterr().out
    assert f"OpenLineage: publish event of {DAY} sent (file transport)." in said, said
    # The run's Data Docs pages again, with the decision on them.
    assert f"Data Docs: run {run['run_id']}'s " in said, said
    docs = Path(os.environ["AIRFLOW_VAR_SPARKIFY_DOCS"]) / "validations" / "songplays" / run["run_id"]
    (songplays_page,) = docs.rglob("*.html")
    assert re.search(r"Review:? published as waived by dana at [0-9: -]+ UTC: premium is a new tier, accepted", page_text(songplays_page))
    # The Asset event, as Airflow's REST API writes one, in the Airflow home make run used (asset-scheduled DAGs hear of it).
    assert "Asset events: sparkify.songplays, sparkify.users, sparkify.songs, sparkify.artists, sparkify.time." in said
    import sqlite3

    with sqlite3.connect(Path(os.environ["AIRFLOW_HOME"]) / "airflow.db") as db:
        (extra,) = db.execute("select e.extra from asset_event e join asset a on a.id = e.asset_id where a.name = 'sparkify.songplays' "
                              "order by e.id desc limit 1").fetchone()  # fmt: skip
    published = execute(socket_warehouse, "select count(*) from songplays")[0][0]
    assert (json.loads(extra)["rows"], json.loads(extra)["review"]["state"]) == (published, "waived")
    (event,) = [json.loads(line) for line in events.read_text().splitlines()]
    assert (event["eventType"], event["job"]["name"]) == ("COMPLETE", "sparkify_review.make_review")
    outputs = {o["name"].split(".", 1)[1] for o in event["outputs"]}
    assert {f"public.{t}" for t in ("songplays", "users", "songs", "artists", "time")} <= outputs
    tags = {t["key"]: t["value"] for t in event["run"]["facets"]["tags"]["tags"]}
    assert (tags["sparkify.review.state"], tags["sparkify.review.by"]) == ("waived", "dana")
    decided = json.loads((build / "run-summary.json").read_text())["runs"][0]
    assert decided["published"] is True and (decided["review"]["state"], decided["review"]["by"]) == ("waived", "dana")
