"""Sensitive columns (gx/sensitive_columns.toml): a day of the real sample with a failing
critical expectation on first_name and a failing warning on user_agent. The checks run on the
real values, and no output holds one: Data Docs, the task logs, make run's output and
run-summary.json, XCom, the alerts' text, the results store."""

from __future__ import annotations

import html
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import uuid

from tests.integration.helpers import execute, reset_warehouse, use_warehouse
from tests.integration.test_alerts import channels  # noqa: F401 (a fixture: local SMTP server and webhook)
from tests.session import ROOT, SAMPLE_LAKE, SESSION_DIR

DAY = "2018-11-15"
HOME = SESSION_DIR / "sensitive"


def add_expectation(gx_root, suite: str, expectation: dict) -> None:
    path = gx_root / "expectations" / f"{suite}.json"
    config = json.loads(path.read_text())
    config["expectations"].append({"id": str(uuid.uuid4()), "meta": {}, **expectation})
    path.write_text(json.dumps(config, indent=2))


def real_values() -> set[str]:
    """Every first name, last name, location and user agent of the day's events."""
    values = set()
    for line in (SAMPLE_LAKE / "log_data" / "2018" / "11" / f"{DAY}-events.json").read_text().splitlines():
        event = json.loads(line)
        values |= {event[k] for k in ("firstName", "lastName", "location", "userAgent") if event.get(k)}
    return values


def mail_text(mail) -> str:
    """A mail's subject and the decoded text of each part (bodies may travel base64-encoded)."""
    parts = [part for part in mail.walk() if not part.is_multipart()]
    return "\n".join([str(mail["Subject"]), *((part.get_payload(decode=True) or b"").decode(errors="replace") for part in parts)])


def test_sensitive_values_are_checked_and_appear_in_no_output(socket_warehouse, channels):  # noqa: F811
    mails, posts, connections = channels
    gx_root = HOME / "gx"
    shutil.rmtree(HOME, ignore_errors=True)
    shutil.copytree(os.environ["SPARKIFY_GX_DIR"], gx_root)
    add_expectation(gx_root, "users", {"type": "expect_column_values_to_match_regex", "severity": "critical",
                                       "kwargs": {"column": "first_name", "regex": "^Zq"}})  # fmt: skip
    add_expectation(gx_root, "staging_events", {"type": "expect_column_values_to_not_match_regex", "severity": "warning",
                                                "kwargs": {"column": "user_agent", "regex": "Mozilla"}})  # fmt: skip
    reset_warehouse(socket_warehouse)
    use_warehouse(socket_warehouse)
    docs = HOME / "docs"
    env = dict(os.environ, SPARKIFY_GX_DIR=str(gx_root), AIRFLOW_HOME=str(HOME / "airflow"), SPARKIFY_BUILD_DIR=str(HOME / "build"),
               AIRFLOW_VAR_SPARKIFY_DOCS=str(docs), AIRFLOW_VAR_SPARKIFY_NOTIFY_WARNINGS="true", **connections)  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "sparkify.local.cli", "run", "--lake", str(SAMPLE_LAKE), "--start", DAY, "--end", DAY],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout[-3000:]  # the critical first_name check failed the day

    # The checks ran on the real values: the store counts every user of the day whose first name
    # does not match (the failed day's audit copy is kept in its schema).
    expected = execute(socket_warehouse, "select count(*) from wap_20181115.users where first_name !~ '^Zq'")[0][0]
    stored = dict(execute(socket_warehouse, "select suite, cast(result_json as text) from dq.validation_results"))
    users = json.loads(stored["users"])
    (first_name,) = [r for r in users["results"] if r["expectation_config"]["kwargs"].get("column") == "first_name"]
    assert not first_name["success"] and first_name["result"]["unexpected_count"] == expected > 0
    # Keys stay visible beside the markers: the index list names each user by user_id.
    rows = first_name["result"]["partial_unexpected_index_list"]
    published_ids = {r[0] for r in execute(socket_warehouse, "select user_id from wap_20181115.users")}
    assert rows and all(row["user_id"] in published_ids and row["first_name"].startswith("<redacted first_name #") for row in rows)
    events = json.loads(stored["staging_events"])
    (agent,) = [r for r in events["results"] if r["expectation_config"]["kwargs"].get("column") == "user_agent"]
    assert not agent["success"] and all(v.startswith("<redacted user_agent #") for v in agent["result"]["partial_unexpected_list"])

    # Every output, searched for every real value; the alerts as the local SMTP server and webhook received them.
    db = sqlite3.connect(HOME / "airflow" / "airflow.db")
    xcoms = [value for (value,) in db.execute("select cast(value as text) from xcom where key = 'summary'")]
    alerts = [mail_text(mail) for _, mail in mails] + [json.dumps(body, ensure_ascii=False) for _, body in posts]
    outputs = {"make run's output": done.stdout + done.stderr, "XCom": "\n".join(xcoms), "alerts": "\n".join(alerts),
               "results store": "\n".join(stored.values())}  # fmt: skip
    files = [
        *(docs / "validations").rglob("*.html"),
        docs / "index.html",
        *(HOME / "build").rglob("*"),
        *(HOME / "airflow" / "logs").rglob("*"),
    ]
    for path in files:
        if path.is_file():
            outputs[str(path)] = path.read_text(errors="replace")
    # The two failures added here alert on both channels (beside the sample's own warnings).
    assert sum("(suite users)" in a for a in alerts) == 2 and sum("(suite staging_events)" in a for a in alerts) == 2
    assert "redacted first_name #" in outputs["alerts"]  # the critical alert carries the failure message
    assert any("redacted first_name #" in text for name, text in outputs.items() if name.endswith(".html"))
    assert "redacted first_name #" in outputs[str(HOME / "build" / "run-summary.json")]
    values = real_values()
    assert len(values) > 20
    # Each value as written, HTML-escaped (pages) and JSON-escaped (XCom, the store).
    forms = {value: {value, html.escape(value), json.dumps(value)[1:-1]} for value in values}
    leaks = sorted((name, value) for name, text in outputs.items() for value in values if any(form in text for form in forms[value]))
    assert not leaks, leaks[:20]
