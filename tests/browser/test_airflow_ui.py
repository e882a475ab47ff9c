"""The Airflow UI in a real headless Chromium: log in, the grid, a failed validation's extra link to
its Data Docs page, the Data Docs index through the plugin's view, and lake values carrying markup
and script shown as text in a sandboxed page.

Airflow is started the way `make airflow` starts it (python -m sparkify.local.cli airflow): api-server,
scheduler, dag-processor and triggerer with LocalExecutor, in an Airflow home of the test session. The lake is
the public sample with one event of 2018-11-15 changed to level "premium", which breaks a critical
check at staging, and 2018-11-16 carrying PAYLOADS (tests/integration/helpers.py) in its levels, a
user_id and a malformed line; the scheduler runs both days for real.
Screenshots go to build/screenshots/ of the checkout (the README's come from there).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from pathlib import Path
from urllib.parse import urlparse

import pytest
from aiosmtpd.controller import Controller

from sparkify.local.scheduler_day import RunningAirflow
from sparkify.names import suites
from tests.integration.helpers import PAYLOADS, add_payloads, execute, reset_warehouse
from tests.session import ROOT, SAMPLE_LAKE, SESSION_DIR

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium: `make test` installs Debian's chromium with apt; that was not possible here"
)
DAY = "2018-11-15"
PAYLOAD_DAY = "2018-11-16"
MAKE_RUN_DAY = "2018-11-13"  # a clean day that make run runs on the home before make airflow starts
GX_TITLE = "Data documentation compiled by Great Expectations"
LOCAL_HOSTS = ("localhost", "127.0.0.1")
SCREENSHOTS = ROOT / "build" / "screenshots"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    # This machine's network is closed: without these Chromium keeps dialling out.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def wait_for_state(airflow: RunningAirflow, run_id: str, task_id: str, state: str, timeout: float = 300) -> float:
    """Wait until a task instance is in ``state``; the monotonic time it was seen there."""
    deadline = time.monotonic() + timeout
    while (seen := airflow.api(f"/dags/sparkify/dagRuns/{run_id}/taskInstances/{task_id}")["state"]) != state:
        if time.monotonic() > deadline or seen in ("success", "failed", "upstream_failed"):
            raise AssertionError(f"{run_id} {task_id} is {seen}, never {state}")
        time.sleep(0.5)
    return time.monotonic()


@pytest.fixture(scope="module")
def airflow_ui(socket_warehouse):
    """`make airflow` over the public sample, one of whose days has an event with level "premium"
    (a copy in the test's folder); yields url, login, run id and the run's task states."""
    lake = SESSION_DIR / "lake-ui"
    shutil.copytree(SAMPLE_LAKE / "song_data", lake / "song_data")
    shutil.copy(SAMPLE_LAKE / "log_json_path.json", lake / "log_json_path.json")
    day_file = lake / "log_data" / "2018" / "11" / f"{DAY}-events.json"
    day_file.parent.mkdir(parents=True)
    events = [json.loads(line) for line in (SAMPLE_LAKE / "log_data" / "2018" / "11" / day_file.name).read_text().splitlines()]
    next(e for e in events if e["page"] == "NextSong")["level"] = "premium"
    day_file.write_text("".join(json.dumps(e) + "\n" for e in events))
    payload_file = day_file.with_name(f"{PAYLOAD_DAY}-events.json")
    shutil.copy(SAMPLE_LAKE / "log_data" / "2018" / "11" / payload_file.name, payload_file)
    add_payloads(payload_file)
    # Today's file arrives late: a real day (2018-11-14) moved to today, written once its run waits.
    today = datetime.now(UTC).date()
    shift = int((datetime(today.year, today.month, today.day, tzinfo=UTC) - datetime(2018, 11, 14, tzinfo=UTC)).total_seconds() * 1000)
    late_events = [dict(json.loads(line), ts=json.loads(line)["ts"] + shift)
                   for line in (SAMPLE_LAKE / "log_data" / "2018" / "11" / "2018-11-14-events.json").read_text().splitlines()]  # fmt: skip
    late_file = lake / "log_data" / f"{today:%Y}" / f"{today:%m}" / f"{today.isoformat()}-events.json"
    shutil.copy(SAMPLE_LAKE / "log_data" / "2018" / "11" / f"{MAKE_RUN_DAY}-events.json", day_file.parent)
    reset_warehouse(socket_warehouse)
    os.environ.pop("AIRFLOW_CONN_SPARKIFY_WAREHOUSE", None)  # given to the subprocess below, not left to other tests

    # The alerts' e-mail channel, a local SMTP server: the deadline alert is delivered there.
    mails: list = []

    class Inbox:
        async def handle_DATA(self, server, session, envelope):
            mails.append(message_from_bytes(envelope.content))
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        smtp = Controller(Inbox(), hostname="127.0.0.1", port=probe.getsockname()[1])
    smtp.start()
    home = SESSION_DIR / "airflow-ui"
    mail_to = {"disable_tls": True, "disable_ssl": True, "to": "oncall@sparkify.test", "from_email": "airflow@sparkify.test"}
    mail = {"conn_type": "smtp", "host": "127.0.0.1", "port": smtp.port, "extra": mail_to}
    env = dict(os.environ, AIRFLOW_CONN_SPARKIFY_WAREHOUSE=socket_warehouse.connection_json(), AIRFLOW_CONN_SPARKIFY_SMTP=json.dumps(mail))
    # make run of one day on the same Airflow home first (one day: one job, on the home's database).
    command = [sys.executable, "-m", "sparkify.local.cli", "run", "--lake", str(lake), "--start", MAKE_RUN_DAY, "--end", MAKE_RUN_DAY]
    made = subprocess.run(command, cwd=ROOT, env=dict(env, AIRFLOW_HOME=str(home)), capture_output=True, text=True, timeout=300)
    assert made.returncode == 0, made.stdout[-3000:] + made.stderr[-3000:]
    made_run = json.loads((Path(env["SPARKIFY_BUILD_DIR"]) / "run-summary.json").read_text())["runs"][0]
    airflow = RunningAirflow(lake=str(lake), home=home, env=env, options=("--lineage", "console"))
    port = int(airflow.base.rsplit(":", 1)[1])
    try:
        # Yesterday's file never arrives: its wait ends 60 s from now (the day's end + the Variable),
        # and the day's publish deadline (the day's end + its own Variable) 10 s from now.
        never = today - timedelta(days=1)
        midnight = datetime(today.year, today.month, today.day, tzinfo=UTC)
        for variable, seconds in (("sparkify_arrival_wait_hours", 60), ("sparkify_publish_deadline_hours", 10)):
            hours = (datetime.now(UTC) + timedelta(seconds=seconds) - midnight).total_seconds() / 3600
            airflow.api("/variables", {"key": variable, "value": f"{hours:.6f}"})
        arrival = {"late": (today.isoformat(), "ui_test_late"), "never": (never.isoformat(), "ui_test_never")}
        for day, run_id in arrival.values():
            airflow.trigger(day, run_id)
        runs = {day: f"ui_test_{day}" for day in (DAY, PAYLOAD_DAY)}
        for day, run_id in runs.items():
            airflow.trigger(day, run_id)
        deferred = wait_for_state(airflow, "ui_test_late", "wait_for_events", "deferred")
        started = datetime.fromisoformat(airflow.api("/dags/sparkify/dagRuns/ui_test_late")["start_date"])
        time.sleep(max(0.0, 20 - (datetime.now(UTC) - started).total_seconds()))
        late_file.parent.mkdir(parents=True)
        late_file.write_text("".join(json.dumps(e) + "\n" for e in late_events))
        written = datetime.now(UTC)
        states, tasks = {}, {}
        for day, run_id in [*runs.items(), *arrival.values()]:
            run, instances = airflow.wait(run_id, timeout=600)
            states[day] = run["state"]
            tasks[day] = {t["task_id"]: t["state"] for t in instances}
        banner = airflow.log_path.read_text()
        user, password = re.search(r"login:\s+(\S+) / (\S+)", banner).groups()
        yield {
            "base": airflow.base, "user": user, "password": password, "run_id": runs[DAY], "state": states[DAY], "tasks": tasks[DAY],
            "payload_run_id": runs[PAYLOAD_DAY], "payload_state": states[PAYLOAD_DAY], "payload_tasks": tasks[PAYLOAD_DAY],
            "home": home, "banner": banner,
            "arrival": {name: (day, run_id, states[day], tasks[day]) for name, (day, run_id) in arrival.items()},
            "api": airflow.api, "deferred": deferred, "late_written": written, "late_started": started, "late_file": late_file,
            "mails": mails, "made_run": made_run, "airflow": airflow,
        }  # fmt: skip
    finally:
        smtp.stop()
        airflow.stop()  # Ctrl-C: the command stops its Airflow components
        with socket.socket() as probe:  # the API server is gone with it
            assert probe.connect_ex(("127.0.0.1", port)) != 0, f"something still listens on port {port}"


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, airflow_ui):
    """A logged-in page (through the Airflow login form)."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.goto(airflow_ui["base"] + "/")
    page.locator("input[name=username]").fill(airflow_ui["user"])
    page.locator("input[name=password]").fill(airflow_ui["password"])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"^(?!.*/auth/login).*$"))
    yield page
    context.close()


def test_the_scheduler_ran_the_day_and_the_failed_check_blocked_downstream(airflow_ui):
    tasks = airflow_ui["tasks"]
    assert airflow_ui["state"] == "failed"
    assert tasks["validate_staging_events"] == "failed"
    assert tasks["load_users"] == tasks["load_songplays"] == tasks["validate_referential_integrity"] == "upstream_failed"
    assert tasks["validate_staging_songs"] == tasks["validate_songs"] == "success"
    assert tasks["publish_data_docs"] == "success"


def test_validation_task_processes_inherit_gx_from_the_scheduler(airflow_ui):
    """WarmLocalExecutor imports GX in the scheduler before its worker processes fork: no
    validation task process imports it again (each says so in its log)."""
    runs = {f"run_id={airflow_ui['run_id']}", f"run_id={airflow_ui['payload_run_id']}"}
    logs = sorted(p for p in (airflow_ui["home"] / "logs").rglob("attempt=*.log")
                  if p.parent.name.startswith("task_id=validate_") and p.parent.parent.name in runs)  # fmt: skip
    ran = [t for tasks in (airflow_ui["tasks"], airflow_ui["payload_tasks"]) for t, state in tasks.items()
           if t.startswith("validate_") and state in ("success", "failed")]  # fmt: skip
    assert len(ran) >= 10 and len(logs) == len(ran)  # each day fails a check: only the validations not downstream of it ran
    for path in logs:
        assert "Great Expectations: preloaded by the worker process" in path.read_text(), path


def test_make_run_beside_make_airflow_refuses_instead_of_running_a_day_twice(airflow_ui, socket_warehouse):
    """make run of one day on the Airflow home make airflow runs on: its scheduler would run the
    day's tasks too. make run says so and runs nothing: no new run in that home, no new result."""
    runs = airflow_ui["api"]("/dags/sparkify/dagRuns?limit=100")["total_entries"]
    results = execute(socket_warehouse, "select count(*) from dq.validation_results")
    env = dict(os.environ, AIRFLOW_HOME=str(airflow_ui["home"]), AIRFLOW_CONN_SPARKIFY_WAREHOUSE=socket_warehouse.connection_json())
    command = [sys.executable, "-m", "sparkify.local.cli", "run", "--lake", str(SESSION_DIR / "lake-ui"), "--start", DAY, "--end", DAY]
    done = subprocess.run([*command, "--jobs", "1"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stdout[-2000:] + done.stderr[-2000:]
    assert f"make run: make airflow is running on this Airflow home ({airflow_ui['home']}, pid " in done.stdout
    assert airflow_ui["api"]("/dags/sparkify/dagRuns?limit=100")["total_entries"] == runs
    assert execute(socket_warehouse, "select count(*) from dq.validation_results") == results


def test_grid_shows_the_dag_and_its_task_states(page, airflow_ui):
    page.goto(f"{airflow_ui['base']}/dags/sparkify/runs/{airflow_ui['run_id']}")
    page.get_by_text("validate_staging_events").first.wait_for()
    for task in ("prepare_warehouse", "stage_events", "validate_staging_events", "publish_data_docs"):
        assert page.get_by_text(task, exact=True).first.is_visible()
    # The run's task list shows each task's state as text.
    body = page.locator("body").inner_text()
    assert "failed" in body.lower() and "upstream_failed" in body.lower().replace(" ", "_")
    page.screenshot(path=SCREENSHOTS / "grid.png")


def test_extra_link_of_the_failed_validation_opens_its_data_docs_page(page, airflow_ui):
    base = airflow_ui["base"]
    # Airflow 3.3 lists a task instance's extra links on its Details tab.
    page.goto(f"{base}/dags/sparkify/runs/{airflow_ui['run_id']}/tasks/validate_staging_events/details")
    link = page.get_by_role("link", name="Data Docs")
    link.wait_for()
    href = link.get_attribute("href")
    assert href.startswith(f"{base}/sparkify-docs/validations/staging_events/{airflow_ui['run_id']}/"), href
    link.click()  # same origin: the UI opens it in the same tab
    page.wait_for_url(href)
    docs = page
    text = docs.locator("body").inner_text()
    assert "Failed" in text or "failed" in text.lower()
    assert "level" in text and "premium" in text  # the failed expectation and its unexpected value
    assert re.search(r"\b1 unexpected\b", text), text[:2000]
    docs.screenshot(path=SCREENSHOTS / "extra-link-target.png", full_page=True)


def test_data_docs_index_in_the_plugin_view(page, airflow_ui):
    outside = []  # requests of the docs pages (not of Airflow's own UI) to any host but this one

    def record(request) -> None:
        if "/sparkify-docs/" in request.frame.url and urlparse(request.url).hostname not in LOCAL_HOSTS:
            outside.append(request.url)

    page.on("request", record)
    page.goto(f"{airflow_ui['base']}/plugin/data-docs")
    frame = page.frame_locator("iframe").first
    frame.get_by_text("Validation Results").first.wait_for()
    # The index's table is built in the browser by the site's own bootstrap-table: one row per result.
    frame.get_by_text(re.compile(r"Showing 1 to \d+ of \d+ rows")).first.wait_for()
    # The results table pages ten rows, newest first: with eleven suites a day's staging_events row can
    # sit on page two. A user narrows it with the table's own "Expectation Suite" filter.
    results = frame.locator("table.ge-index-page-validation-results-table")
    page.screenshot(path=SCREENSHOTS / "data-docs-index.png")  # the index as it opens, before the filter
    results.locator("select.bootstrap-table-filter-control-expectation_suite_name").first.select_option("staging_events")
    suite_link = frame.locator("a.ge-index-page-table-expectation-suite-link[href='expectations/staging_events.html']").first
    suite_link.wait_for(state="attached")  # the server-rendered part of the index is there
    deadline = time.monotonic() + 30  # the filter applies after its own short delay
    while (shown := set(results.locator("a.ge-index-page-table-expectation-suite-link").evaluate_all(
            "links => links.map(a => a.getAttribute('href'))"))) != {"expectations/staging_events.html"}:  # fmt: skip
        assert time.monotonic() < deadline, shown  # the filter keeps that suite's rows only
        page.wait_for_timeout(200)
    index = page.frame(url=re.compile(r"^https?://[^/]+/sparkify-docs/index\.html$"))
    assert index is not None and "staging_events" in index.content()
    # The Day column's own filter lists the days; choosing one keeps that day's rows only.
    days = results.locator("select.bootstrap-table-filter-control-day").first
    assert DAY in days.locator("option").all_inner_texts()
    days.select_option(DAY)
    deadline = time.monotonic() + 30
    while (shown := {row.split("\t")[1].strip() for row in results.locator("tbody tr").all_inner_texts()}) != {DAY}:
        assert time.monotonic() < deadline, shown
        page.wait_for_timeout(200)
    # A link clicked inside the sandboxed page navigates the view: the suite's page, not the login.
    suite_link.evaluate("link => link.click()")
    deadline = time.monotonic() + 30
    while not any(f.url.endswith("/sparkify-docs/expectations/staging_events.html") for f in page.frames):
        assert time.monotonic() < deadline, [f.url for f in page.frames]
        page.wait_for_timeout(200)
    suite_page = next(f for f in page.frames if f.url.endswith("/sparkify-docs/expectations/staging_events.html"))
    suite_page.wait_for_load_state("load")
    content = suite_page.content()
    assert "staging_events" in content and 'name="password"' not in content
    assert "/auth/login" not in suite_page.url
    assert outside == []  # no CDN, no beacon: every request went to the Airflow host


def test_data_docs_need_the_airflow_login(browser, airflow_ui):
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{airflow_ui['base']}/sparkify-docs/index.html")
    assert "/auth/login" in page.url  # sent to the login page, with the page to come back to
    request = urllib.request.Request(f"{airflow_ui['base']}/sparkify-docs/index.html", headers={"Accept": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as denied:
        urllib.request.urlopen(request, timeout=10)
    assert denied.value.code == 401
    context.close()


def test_lake_values_show_as_text_and_never_run_in_a_sandboxed_page(page, airflow_ui):
    """The day carrying PAYLOADS: its failed check's page, opened through the extra link with a
    logged-in session, shows every payload as text; no script from the data runs, no dialog opens,
    the page calls no Airflow API, and the response is sandboxed."""
    base = airflow_ui["base"]
    assert airflow_ui["payload_tasks"]["validate_staging_events"] == "failed"
    page.goto(f"{base}/dags/sparkify/runs/{airflow_ui['payload_run_id']}/tasks/validate_staging_events/details")
    link = page.get_by_role("link", name="Data Docs")
    link.wait_for()
    href = link.get_attribute("href")
    dialogs, api_calls, documents = [], [], []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.on("request", lambda request: api_calls.append(request.url) if "/api/v2" in request.url else None)
    page.on("response", lambda response: documents.append(response) if response.url == href else None)
    link.click()
    page.wait_for_url(href)
    page.wait_for_load_state("load")
    page.wait_for_timeout(1000)  # time for any handler (onerror, onload) to fire
    text = page.locator("body").inner_text()
    for name, payload in PAYLOADS.items():
        assert payload in text, name  # the level domain check lists each one
    assert page.title() == GX_TITLE
    assert page.locator("img[src=x], img[src=y], svg[onload], #xss-link").count() == 0
    assert page.evaluate("[...document.scripts].filter(script => script.textContent.includes('XSS')).length") == 0
    assert dialogs == [] and api_calls == []
    headers = documents[-1].all_headers()
    assert headers["content-security-policy"] == "sandbox allow-scripts allow-popups; frame-ancestors 'self'"
    assert headers["x-content-type-options"] == "nosniff"
    # The page runs in an opaque origin: it can read no cookie and reach no same-origin API.
    assert page.evaluate("self.origin") == "null"
    # Styled from the site's own copies, fonts included (a cross-origin load for an opaque origin).
    assert page.evaluate("getComputedStyle(document.querySelector('nav.navbar')).position") == "sticky"
    assert page.evaluate("document.fonts.ready.then(() => document.fonts.check('900 16px \"Font Awesome 6 Free\"'))")
    page.screenshot(path=SCREENSHOTS / "payloads-as-text.png", full_page=True)


def test_the_data_quality_page_shows_days_by_suites(page, airflow_ui):
    """Browse -> Data quality: the two triggered days by the ten suites, from the shared results
    store; the failed check's cell is a critical failure linked to its Data Docs page and task."""
    from sparkify.quality.web.quality_page import STATES, lateness_unit

    base = airflow_ui["base"]
    page.goto(f"{base}/plugin/data-quality")
    frame = page.frame_locator("iframe").first
    frame.locator("#grid").wait_for()
    for day in (DAY, PAYLOAD_DAY):
        frame.locator(f"#grid tr:has(th:text-is('{day}'))").wait_for()
    headers = [h.strip() for h in frame.locator("#grid thead th").all_inner_texts()][1:]  # after "day"
    assert headers[0] == "published" and len(headers) == 1 + len(suites()) and "staging_events" in headers
    row = frame.locator(f"#grid tr:has(th:text-is('{DAY}'))")
    assert row.locator("td.pub").inner_text() == "not published"  # dq.day_publishes: no run published it
    made = frame.locator(f"#grid tr:has(th:text-is('{MAKE_RUN_DAY}'))")
    assert made.locator("td.pub").inner_text() == "published"
    cell = row.locator("td").nth(headers.index("staging_events"))
    assert STATES["critical"] in cell.get_attribute("style") and "critical" in cell.get_attribute("title")
    docs = cell.locator("a", has_text="docs").get_attribute("href")
    task = cell.locator("a", has_text="task").get_attribute("href")
    assert docs.startswith(f"{base}/sparkify-docs/validations/staging_events/{airflow_ui['run_id']}/")
    assert task == f"{base}/dags/sparkify/runs/{airflow_ui['run_id']}/tasks/validate_staging_events"
    songs = row.locator("td").nth(headers.index("staging_songs"))
    assert STATES["passed"] in songs.get_attribute("style") or STATES["warning"] in songs.get_attribute("style")
    users = row.locator("td").nth(headers.index("users"))
    assert STATES["not run"] in users.get_attribute("style")  # blocked by the failed staging check
    assert frame.locator("#trends svg").count() >= 9
    # The arrival trend's newest day is today's late run: its lateness (dq.arrivals) in hours.
    late_run = airflow_ui["arrival"]["late"][1]
    xcom = airflow_ui["api"](f"/dags/sparkify/dagRuns/{late_run}/taskInstances/wait_for_events/xcomEntries/return_value")
    lateness = xcom["value"]["lateness_seconds"]
    arrival = frame.locator("#trends tr:has(th:text-is('arrival'))")
    unit, size = lateness_unit([abs(lateness)])
    assert arrival.locator(".last").inner_text() == f"{lateness / size:,.3f}" and arrival.locator("svg").count() == 1
    # The 2018 days ran years after their deadline: history, left out, not years late.
    label = arrival.locator(".label").inner_text()
    assert f"{unit} after the day's end" in label and "history (run after its deadline), not shown: 3 day(s)" in label
    page.screenshot(path=SCREENSHOTS / "quality-page.png")
    request = urllib.request.Request(f"{base}/sparkify-quality/", headers={"Accept": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as denied:
        urllib.request.urlopen(request, timeout=10)
    assert denied.value.code == 401


def task_log(airflow_ui, run_id: str, task_id: str) -> str:
    folder = airflow_ui["home"] / "logs" / "dag_id=sparkify" / f"run_id={run_id}" / f"task_id={task_id}"
    return "\n".join(path.read_text() for path in sorted(folder.glob("attempt=*.log")))


def test_a_late_file_is_waited_for_without_a_worker_slot_and_the_day_publishes(airflow_ui, socket_warehouse):
    day, run_id, state, tasks = airflow_ui["arrival"]["late"]
    assert airflow_ui["deferred"]  # wait_for_events was seen deferred: in the triggerer, holding no executor slot
    assert (airflow_ui["late_written"] - airflow_ui["late_started"]).total_seconds() >= 20
    assert state == "success" and tasks["wait_for_events"] == tasks["publish_day"] == tasks["end"] == "success", tasks
    value = airflow_ui["api"](f"/dags/sparkify/dagRuns/{run_id}/taskInstances/wait_for_events/xcomEntries/return_value")["value"]
    arrived = datetime.fromisoformat(value["modified"])
    assert value["key"] == str(airflow_ui["late_file"]) and abs((arrived - airflow_ui["late_written"]).total_seconds()) < 5
    log = task_log(airflow_ui, run_id, "wait_for_events")
    assert f"Waiting for {airflow_ui['late_file']} until" in log and f"{airflow_ui['late_file']} arrived" in log
    plays = execute(socket_warehouse, "select count(*) from public.songplays where cast(start_time as date) = %s", (day,))[0][0]
    assert plays > 0
    # prepare_warehouse recorded the arrival with the day's metrics: the file came before the day's end.
    stored = execute(socket_warehouse, "select day, lake_key, modified, lateness_seconds from dq.arrivals where run_id = %s", (run_id,))
    assert [(str(d), k, round(s, 3)) for d, k, _, s in stored] == [(day, value["key"], value["lateness_seconds"])]
    assert abs((stored[0][2].replace(tzinfo=UTC) - arrived).total_seconds()) < 0.001 and value["lateness_seconds"] < 0


def test_a_file_that_never_arrives_fails_at_its_deadline_naming_it_and_nothing_is_published(airflow_ui, socket_warehouse):
    day, run_id, state, tasks = airflow_ui["arrival"]["never"]
    assert state == "failed" and tasks["wait_for_events"] == "failed"
    assert tasks["prepare_warehouse"] == tasks["stage_events"] == tasks["publish_day"] == "upstream_failed"
    log = task_log(airflow_ui, run_id, "wait_for_events")
    key = airflow_ui["late_file"].parent / f"{day}-events.json"
    assert re.search(rf"The day's file {re.escape(str(key))} has not arrived: waited (0|1) min \d+ s, until ", log), log[-3000:]
    assert "Nothing was staged; the published tables are unchanged." in log
    assert execute(socket_warehouse, "select count(*) from public.songplays where cast(start_time as date) = %s", (day,))[0][0] == 0
    schema = f"wap_{day.replace('-', '')}"
    assert execute(socket_warehouse, "select count(*) from information_schema.schemata where schema_name = %s", (schema,))[0][0] == 0


def test_a_day_past_its_publish_deadline_alerts_by_mail_saying_it_waits_for_its_file(airflow_ui):
    day, run_id, state, tasks = airflow_ui["arrival"]["never"]
    late = [m for m in airflow_ui["mails"] if "is not published by its deadline" in m["Subject"]]
    # One deadline alert: the day whose file never came. The 2018 days were created past their
    # deadline (history: none), and today's was published before its own.
    assert [m["Subject"] for m in late] == [f"[sparkify] {day} is not published by its deadline: its file has not arrived"]
    assert late[0]["To"] == "oncall@sparkify.test"
    body = next(part for part in late[0].walk() if part.get_content_type() == "text/html").get_payload(decode=True).decode()
    assert f"The day {day} (run {run_id} of sparkify) was not published by " in body
    # The scheduler handled the deadline (10 s after the run was created) while the file was still
    # awaited: the alert says so, and that wait ended later, at its own deadline.
    assert "It waits because its file has not arrived: wait_for_events is deferred." in body, body
    assert "wait_for_events deferred" in body and "publish_day failed" not in body


def test_lineage_on_the_console_reaches_the_task_logs(airflow_ui):
    assert "OpenLineage:     on, console transport" in airflow_ui["banner"]
    log = task_log(airflow_ui, airflow_ui["run_id"], "validate_staging_events")
    # Each event is one INFO line of the task's log (the event's JSON, escaped inside the log's own JSON).
    assert re.search(r'eventType\\?": \\?"FAIL', log) and "dataQualityAssertions" in log and "expect_column_values_to_be_in_set" in log


def follow_the_day(page, base: str, day: str, run_id: str, suite: str, shots: str) -> list[tuple[str, int]]:
    """grid -> task -> extra link -> Data Docs page -> quality page -> task link, for one day's
    run: each document answers 200 and names the day. Returns (step, status) per step."""
    answered: list[tuple[str, int]] = []

    def go(step: str, url: str, *, names: str = day) -> None:
        response = page.goto(url)
        answered.append((step, response.status))
        page.get_by_text(names).first.wait_for()

    go("grid", f"{base}/dags/sparkify/runs/{run_id}")  # the run's page: its Logical Date
    page.get_by_text(f"validate_{suite}").first.wait_for()
    page.screenshot(path=SCREENSHOTS / f"{shots}-1-grid.png")
    task = f"{base}/dags/sparkify/runs/{run_id}/tasks/validate_{suite}"
    go("task", f"{task}/rendered_templates")  # the task's day field, as rendered for this run
    go("task details", f"{task}/details", names=run_id)
    link = page.get_by_role("link", name="Data Docs")
    link.wait_for()
    docs = link.evaluate("a => a.href")  # absolute (make run's own links are root-relative: it has no [api] base_url)
    with page.expect_navigation() as navigation:
        link.click()
    answered.append(("extra link", navigation.value.status))
    text = page.locator("body").inner_text()
    assert re.search(rf"Day:\s+{day}", text), text[:1000]  # the overview names the day
    page.screenshot(path=SCREENSHOTS / f"{shots}-2-data-docs.png")
    go("quality page", f"{base}/sparkify-quality/")
    row = page.locator(f"#grid tr:has(th:text-is('{day}'))")
    headers = [h.strip() for h in page.locator("#grid thead th").all_inner_texts()]
    cell = row.locator("td").nth(headers.index(suite) - 1)  # the row's first cell is its th (the day)
    assert cell.locator("a", has_text="docs").evaluate("a => a.href") == docs  # the extra link's page
    assert cell.locator("a", has_text="task").evaluate("a => a.href") == task
    page.screenshot(path=SCREENSHOTS / f"{shots}-3-quality-page.png")
    go("task link", task, names=run_id)
    go("task link's day", f"{task}/rendered_templates")
    return answered


@pytest.mark.parametrize("kind", ["triggered in the UI", "run by make run"])
def test_one_day_round_the_circle(page, airflow_ui, kind):
    """The Airflow grid, the task, its Data Docs link, the page, the Data quality page and back to
    the task, for a day the scheduler ran and for a day make run ran on the same Airflow home."""
    if kind == "run by make run":
        made = airflow_ui["made_run"]
        day, run_id, suite, shots = made["date"], made["run_id"], "users", "round-trip-make-run"
        assert made["published"] is True
    else:
        day, run_id, suite, shots = DAY, airflow_ui["run_id"], "staging_events", "round-trip-ui"
    answered = follow_the_day(page, airflow_ui["base"], day, run_id, suite, shots)
    steps = ["grid", "task", "task details", "extra link", "quality page", "task link", "task link's day"]
    assert answered == [(step, 200) for step in steps]


def test_the_quality_page_fits_a_1440_px_screen_with_15_suites(browser):
    """Fifteen suites (the eleven of today's project and four more with long names), 30 days: the
    grid fits a 1440 px wide window without a horizontal scroll and the day column stays one line."""
    from datetime import date, timedelta

    from sparkify.quality.web.quality_page import render

    names = [*suites(), "songs_catalog", "users_demographics", "referential_integrity_extra", "staging_events_sessions"]
    assert len(names) == 15
    days = [date(2018, 11, 1) + timedelta(days=n) for n in range(30)]
    records = [{"day": d, "suite": s, "table": s, "success": True, "failed_critical": 0, "failed_warning": n % 3 == 0,
                "unexpected_count": 0, "row_count": 100, "duration_seconds": 0.1, "page": "validations/x.html",
                "run_id": f"scheduled__{d}T00:00:00+00:00"} for d in days for n, s in enumerate(names)]  # fmt: skip
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.set_content(render(records, {}, base="", days=30, suites=names))
    assert page.evaluate("document.documentElement.scrollWidth") <= 1440
    grid = page.locator("#grid").bounding_box()
    assert grid["x"] + grid["width"] <= 1440
    heights = page.locator("#grid tbody th").evaluate_all("cells => cells.map(c => c.getBoundingClientRect().height)")
    assert len(heights) == 30 and max(heights) < 30  # one line each: the day never wraps
    page.screenshot(path=SCREENSHOTS / "quality-page-15-suites.png")
    context.close()


def test_a_lake_set_in_admin_variables_wins_over_make_airflow_s_default(airflow_ui):
    """make airflow gives its LAKE as a default, not as AIRFLOW_VAR_SPARKIFY_LAKE (which would win
    over the UI): a lake set as the Variable in the metadata DB is the one the next run reads."""
    airflow = airflow_ui["airflow"]
    assert (
        f"lake {SESSION_DIR / 'lake-ui'} (the default: the Variable sparkify_lake, set in Admin > Variables, wins over it)"
        in (airflow_ui["banner"])
    )
    elsewhere = SESSION_DIR / "lake-set-in-the-ui"
    elsewhere.mkdir(exist_ok=True)
    airflow.api("/variables", {"key": "sparkify_lake", "value": str(elsewhere)})  # what Admin > Variables does
    try:
        run, tasks = airflow.run_day("2018-11-20", "ui_test_variable", timeout=300)
    finally:
        request = urllib.request.Request(
            f"{airflow.base}/api/v2/variables/sparkify_lake", method="DELETE", headers={"Authorization": f"Bearer {airflow.token}"}
        )
        urllib.request.urlopen(request, timeout=30).close()
    assert run["state"] == "failed" and {t["task_id"]: t["state"] for t in tasks}["wait_for_events"] == "failed"
    # The day's file is looked for in the Variable's lake (a day long past its wait fails at once).
    log = task_log(airflow_ui, "ui_test_variable", "wait_for_events")
    assert f"{elsewhere}/log_data/2018/11/2018-11-20-events.json has not arrived" in log, log[-2000:]
