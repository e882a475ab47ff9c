"""Days held for review under make airflow's real scheduler, decided by a person.

A backfill of ten sample days (2018-11-01 to 10, the backfill's max_active_runs 2) on a lake
where two days carry a play at the location MARK, which a review-severity check added to a copy
of the songplays suite catches. The eight others publish and the backfill finishes; the two
held days wait on Airflow's Required actions page (owners: the Variable sparkify_review_owners
names make airflow's admin). In a real headless Chromium, Publish with a reason publishes one
day within 10 s; make review holds the other and answers its waiting request. Then the held
day's publish_day is cleared with a review timeout set: it is held anew, asked anew, and the
scheduler answers Hold when the timeout passes. Last, with Airflow stopped, make run publishes the first
day with the committed suites: the tables are checksum-equal to the reviewed publish.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error

import pytest

from sparkify.local.scheduler_day import RunningAirflow
from tests.browser.test_airflow_ui import CHROMIUM, FLAGS, SCREENSHOTS
from tests.integration.helpers import checksums, execute, reset_warehouse
from tests.session import ROOT, SAMPLE_LAKE, SESSION_DIR

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium: `make test` installs Debian's chromium with apt")
DAYS = [f"2018-11-{d:02d}" for d in range(1, 11)]
PUBLISHED, HELD = "2018-11-03", "2018-11-07"  # decided in the browser (Publish), by make review (Hold)
MARK = "Held Town, ZZ"  # one play's location on each held day: the review check's unexpected value
EVENTS = SAMPLE_LAKE / "log_data" / "2018" / "11"


def plays(day: str) -> int:
    """NextSong events in the sample's day file."""
    return sum(json.loads(line)["page"] == "NextSong" for line in (EVENTS / f"{day}-events.json").read_text().splitlines())


def published_plays(server, day: str) -> int:
    return execute(server, "select count(*) from songplays where start_time::date = %s", (day,))[0][0]


@pytest.fixture(scope="module")
def review_airflow(socket_warehouse):
    lake, gx_copy = SESSION_DIR / "lake-review", SESSION_DIR / "gx-review"
    for folder in (lake, gx_copy):
        shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(SAMPLE_LAKE / "song_data", lake / "song_data")
    shutil.copy(SAMPLE_LAKE / "log_json_path.json", lake / "log_json_path.json")
    (lake / "log_data" / "2018" / "11").mkdir(parents=True)
    for day in DAYS:
        events = [json.loads(line) for line in (EVENTS / f"{day}-events.json").read_text().splitlines()]
        if day in (PUBLISHED, HELD):
            next(e for e in events if e["page"] == "NextSong")["location"] = MARK
        (lake / "log_data" / "2018" / "11" / f"{day}-events.json").write_text("".join(json.dumps(e) + "\n" for e in events))
    shutil.copytree(os.environ["SPARKIFY_GX_DIR"], gx_copy)
    path = gx_copy / "expectations" / "songplays.json"
    suite = json.loads(path.read_text())
    suite["expectations"].append({"type": "expect_column_values_to_not_be_in_set", "severity": "warning", "meta": {"severity": "review"},
                                  "kwargs": {"column": "location", "value_set": [MARK]}})  # fmt: skip
    path.write_text(json.dumps(suite))
    reset_warehouse(socket_warehouse)
    os.environ.pop("AIRFLOW_CONN_SPARKIFY_WAREHOUSE", None)  # given to make airflow below, not left to other tests
    env = dict(
        os.environ,
        SPARKIFY_GX_DIR=str(gx_copy),
        AIRFLOW_CONN_SPARKIFY_WAREHOUSE=socket_warehouse.connection_json(),
        AIRFLOW_VAR_SPARKIFY_REVIEW_OWNERS="admin",
        AIRFLOW__SCHEDULER__TRIGGER_TIMEOUT_CHECK_INTERVAL="2",  # the review timeout's sweep (default 15 s)
    )
    airflow = RunningAirflow(lake=str(lake), home=SESSION_DIR / "review-airflow", env=env)
    try:
        yield airflow, env, lake
    finally:
        airflow.stop()


@pytest.fixture(scope="module")
def page(review_airflow):
    from playwright.sync_api import sync_playwright

    airflow, _, _ = review_airflow
    user, password = re.search(r"login:\s+(\S+) / (\S+)", airflow.log_path.read_text()).groups()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = chromium.new_context(viewport={"width": 1400, "height": 900}).new_page()
        page.goto(airflow.base + "/")
        page.locator("input[name=username]").fill(user)
        page.locator("input[name=password]").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(re.compile(r"^(?!.*/auth/login).*$"))
        yield page
        chromium.close()


def wait_parked(airflow, review_run: str, timeout: float = 120) -> None:
    """Until the scheduler has logged the request's try as awaiting input. Airflow 3.3.2 hears
    that a parked try's process ended seconds later (6 s seen); an answer before that resumes the
    task, and the late event then fails it. A person is slower than that; a test waits."""
    parked = f"task_id=decide, run_id={review_run}, map_index=-1"
    deadline = time.monotonic() + timeout
    while not any(
        "TaskInstance Finished" in line and parked in line and "state=awaiting_input" in line
        for line in (airflow.home / "logs" / "scheduler.log").read_text(errors="replace").splitlines()
    ):
        assert time.monotonic() < deadline, f"the scheduler never logged {parked} as awaiting input"
        time.sleep(0.5)


def wait_request(airflow, review_run: str, timeout: float = 180) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return airflow.api(f"/dags/sparkify_review/dagRuns/{review_run}/taskInstances/decide/-1/hitlDetails")
        except urllib.error.HTTPError as error:
            if error.code != 404 or time.monotonic() > deadline:
                raise
        time.sleep(0.5)


def backfill(airflow) -> dict[str, tuple[str, dict[str, str]]]:
    """Backfill DAYS through the REST API and wait for its runs: {day: (run id, task states)}."""
    body = {"dag_id": "sparkify", "from_date": f"{DAYS[0]}T00:00:00Z", "to_date": f"{DAYS[-1]}T00:00:00Z", "max_active_runs": 2}
    for attempt in range(10):
        try:
            airflow.api("/backfills", body)
            break
        except urllib.error.HTTPError as error:  # 503: the metadata DB (SQLite) was locked; nothing was created
            if error.code != 503 or attempt == 9:
                raise
            time.sleep(2)
    deadline = time.monotonic() + 600
    while True:
        runs = airflow.api("/dags/sparkify/dagRuns?run_type=backfill&limit=50")["dag_runs"]
        if len(runs) == len(DAYS) and all(r["state"] in ("success", "failed") for r in runs):
            break
        assert time.monotonic() < deadline, [(r["dag_run_id"], r["state"]) for r in runs]
        time.sleep(1)
    ended = {}
    for run in runs:
        tasks = airflow.api(f"/dags/sparkify/dagRuns/{run['dag_run_id']}/taskInstances?limit=100")["task_instances"]
        ended[run["logical_date"][:10]] = (run["dag_run_id"], run["state"], {t["task_id"]: t["state"] for t in tasks})
    return ended


def test_held_days_wait_for_a_person_without_stalling_a_backfill(review_airflow, page, socket_warehouse):
    airflow, env, lake = review_airflow
    ended = backfill(airflow)
    assert sorted(ended) == DAYS and {state for _, state, _ in ended.values()} == {"success"}
    for day, (_, _, tasks) in ended.items():
        held = day in (PUBLISHED, HELD)
        assert (tasks["publish_day"], tasks["request_review"]) == (("skipped", "success") if held else ("success", "skipped")), day
        assert published_plays(socket_warehouse, day) == (0 if held else plays(day)), day
    runs = {day: ended[day][0] for day in (PUBLISHED, HELD)}

    # Airflow's Required actions page lists both days.
    for day, run_id in runs.items():
        request = wait_request(airflow, f"review__{run_id}")
        assert request["subject"] == f"Sparkify: day {day} is held for review" and request["response_received"] is False
        assert f"on location; observed '1 unexpected of {plays(day)}'" in request["body"]
        assert request["assigned_users"] == [{"id": "admin", "name": "admin"}]
    page.goto(f"{airflow.base}/required_actions")
    for day in runs:
        page.get_by_role("link", name=f"Sparkify: day {day} is held for review").wait_for()
    page.screenshot(path=SCREENSHOTS / "required-actions.png")
    for run_id in runs.values():
        wait_parked(airflow, f"review__{run_id}")

    # Publish, with a reason, in the browser: the day's plays are published within 10 s.
    page.get_by_role("link", name=f"Sparkify: day {PUBLISHED} is held for review").click()
    page.locator("#element_reason").fill("a test location, known to the vendor")
    page.screenshot(path=SCREENSHOTS / "required-action-publish.png")
    page.get_by_role("button", name="Publish").click()
    answered = time.monotonic()
    while published_plays(socket_warehouse, PUBLISHED) != plays(PUBLISHED):
        assert time.monotonic() < answered + 10, "the day answered Publish was not published within 10 s"
        time.sleep(0.25)

    # make review holds the other day and answers its request: the task ends, nothing is published.
    before = checksums(socket_warehouse)
    command = [sys.executable, "-m", "sparkify.local.cli", "review", "--day", HELD, "--decision", "hold", "--reason", "wait for the fix"]
    done = subprocess.run([*command, "--by", "dana"], cwd=ROOT, env=dict(env, AIRFLOW_HOME=str(airflow.home)),
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    answered_line = f"Answered the review request of run {runs[HELD]} in Airflow (sparkify_review run review__{runs[HELD]}): hold by dana"
    assert answered_line in done.stdout
    for run_id in runs.values():
        run, tasks = airflow.wait(f"review__{run_id}", timeout=120, dag_id="sparkify_review")
        assert run["state"] == "success", tasks
    decide = {day: airflow.api(f"/dags/sparkify_review/dagRuns/review__{run_id}/taskInstances/decide") for day, run_id in runs.items()}
    assert {day: ti["state"] for day, ti in decide.items()} == {PUBLISHED: "success", HELD: "skipped"}  # a Hold publishes nothing
    # The Publish sent the published tables' Asset events, as publish_day does, with the decision.
    events = airflow.api("/assets/events?source_dag_id=sparkify_review&limit=50")["asset_events"]
    assert sorted(e["uri"].rsplit("/", 1)[-1] for e in events) == ["artists", "songplays", "songs", "time", "users"]
    said = {(e["extra"]["day"], e["extra"]["review"]["state"], e["extra"]["review"]["by"]) for e in events}
    assert said == {(PUBLISHED, "published", "admin")}
    answer = airflow.api(f"/dags/sparkify_review/dagRuns/review__{runs[HELD]}/taskInstances/decide/-1/hitlDetails")
    assert (answer["chosen_options"], answer["responded_by_user"]["name"]) == (["Hold"], "dana")
    assert checksums(socket_warehouse) == before
    decided = "select cast(day as text), state, decided_by, reason from dq.day_publishes where decided_by is not null order by day"
    rows = execute(socket_warehouse, decided)
    assert rows == [(PUBLISHED, "published", "admin", "a test location, known to the vendor"), (HELD, "held", "dana", "wait for the fix")]

    # The quality page says who decided.
    page.goto(f"{airflow.base}/sparkify-quality/")
    for day, label in ((PUBLISHED, "published after review by admin"), (HELD, "held by dana")):
        assert page.locator(f"#grid tr:has(th:text-is('{day}')) td.pub.review").inner_text() == label
    # The SLOs (gx/slo.toml): both held days count against songplays'; ten days are not a whole 28-day window.
    slo_row = page.locator("#slos tr:has(th:text-is('songplays'))").inner_text()
    assert "8 of 10 days (80.0%)" in slo_row and "not enough days yet (10 of 28)" in slo_row, slo_row
    page.screenshot(path=SCREENSHOTS / "quality-page-review.png", full_page=True)

    # A review timeout, then the held day's publish_day cleared: held anew, asked anew, answered Hold by the timeout.
    airflow.api("/variables", {"key": "sparkify_review_timeout_hours", "value": str(15 / 3600)})
    clear = {"dag_run_id": runs[HELD], "task_ids": ["publish_day"], "include_downstream": True, "only_failed": False, "dry_run": False}
    airflow.api("/dags/sparkify/clearTaskInstances", clear)
    run, tasks = airflow.wait(runs[HELD], timeout=600)
    assert run["state"] == "success", tasks
    again = f"review__{runs[HELD]}__try2"
    assert "is Hold (sparkify_review_timeout_hours)" in wait_request(airflow, again)["body"]
    run, tasks = airflow.wait(again, timeout=120, dag_id="sparkify_review")
    assert run["state"] == "success", tasks
    rows = execute(socket_warehouse, "select state, decided_by, reason from dq.day_publishes where run_id = %s", (runs[HELD],))
    assert rows == [("held", "the review timeout", "no answer before the review timeout (sparkify_review_timeout_hours): held")]
    kept = "select state, decided_by, reason from dq.day_publishes where run_id like %s"  # dana's decision on the first hold stays
    assert execute(socket_warehouse, kept, (f"{runs[HELD]}#decided-%",)) == [("held", "dana", "wait for the fix")]
    assert checksums(socket_warehouse) == before

    # A clean publish of the same day (make run, committed suites) leaves every table as it is.
    airflow.stop()
    command = [sys.executable, "-m", "sparkify.local.cli", "run", "--lake", str(lake), "--start", PUBLISHED, "--end", PUBLISHED]
    clean_env = dict(env, AIRFLOW_HOME=str(SESSION_DIR / "review-clean-home"), SPARKIFY_GX_DIR=os.environ["SPARKIFY_GX_DIR"])
    done = subprocess.run(command, cwd=ROOT, env=clean_env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert checksums(socket_warehouse) == before
