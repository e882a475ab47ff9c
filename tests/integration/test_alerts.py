"""Alerts through Airflow's notifiers, against a local SMTP server (aiosmtpd) and a local HTTP
endpoint standing for Slack's incoming webhook: a critical failure notifies both with the failure
message and the Data Docs link, and the missed day spends a one-day quality SLO's budget (one
more alert); warnings notify only when asked; no connection, no alert."""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.integration.helpers import reset_warehouse, run_pipeline, sample_with_a_bad_level
from tests.session import SAMPLE_LAKE, SESSION_DIR

GOOD, BAD = "2018-11-14", "2018-11-15"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def channels():
    """A local SMTP server and a webhook endpoint, and the connections that turn both channels on."""
    from aiosmtpd.controller import Controller

    mails, posts = [], []

    class Inbox:
        async def handle_DATA(self, server, session, envelope):
            mails.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
            return "250 OK"

    smtp = Controller(Inbox(), hostname="127.0.0.1", port=free_port())
    smtp.start()

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):
            posts.append((self.path, json.loads(self.rfile.read(int(self.headers["Content-Length"])))))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    web = ThreadingHTTPServer(("127.0.0.1", free_port()), Hook)
    threading.Thread(target=web.serve_forever, daemon=True).start()
    connections = {
        "AIRFLOW_CONN_SPARKIFY_SMTP": json.dumps({
            "conn_type": "smtp", "host": "127.0.0.1", "port": smtp.port,
            "extra": {"disable_tls": True, "disable_ssl": True, "to": "dq@sparkify.test, oncall@sparkify.test",
                      "from_email": "airflow@sparkify.test"},
        }),
        "AIRFLOW_CONN_SPARKIFY_SLACK": json.dumps({"conn_type": "slackwebhook", "password": f"http://127.0.0.1:{web.server_port}/services/T0/B0/x"}),
    }  # fmt: skip
    yield mails, posts, connections
    smtp.stop()
    web.shutdown()


def test_a_critical_failure_notifies_by_mail_and_slack(socket_warehouse, channels, monkeypatch):
    mails, posts, connections = channels
    for key, value in connections.items():
        monkeypatch.setenv(key, value)
    # A quality SLO of songplays over one day (gx/slo.toml in a copy of gx/): the failed day spends its budget.
    gx_copy = SESSION_DIR / "gx-alerts"
    shutil.rmtree(gx_copy, ignore_errors=True)
    shutil.copytree(os.environ["SPARKIFY_GX_DIR"], gx_copy)
    (gx_copy / "slo.toml").write_text("[tables]\nsongplays = { target = 0.95, window_days = 1 }\n")
    monkeypatch.setenv("SPARKIFY_GX_DIR", str(gx_copy))
    reset_warehouse(socket_warehouse)
    lake = sample_with_a_bad_level(SESSION_DIR / "lake-alerts", BAD)
    code, summary = run_pipeline(socket_warehouse, lake, BAD, BAD, fresh=False, tag="alerts-bad")
    assert code == 1
    page = next(v["data_docs"] for v in summary["validations"] if v["suite"] == "staging_events")
    # The one critical failure of the day, then the SLO's spent budget, once per channel each.
    assert len(mails) == 2 and len(posts) == 2
    slo_mail = mails.pop()[1]
    assert slo_mail["Subject"] == f"[sparkify] Quality SLO: error budget spent for songplays ({BAD} missed)"
    slo_text = next(part for part in slo_mail.walk() if part.get_content_type() == "text/html").get_payload(decode=True).decode()
    assert f"- {BAD}: a critical check of the table failed" in slo_text or f"- {BAD}: not published by its newest run" in slo_text
    assert posts.pop()[1]["text"].startswith(f"*[sparkify] Quality SLO: error budget spent for songplays ({BAD} missed)*")
    recipients, mail = mails[0]
    assert recipients == ["dq@sparkify.test", "oncall@sparkify.test"]
    assert mail["Subject"] == f"[sparkify] Critical validation failed: staging_events (suite staging_events) on {BAD}"
    body = next(part for part in mail.walk() if part.get_content_type() == "text/html").get_payload(decode=True).decode()
    assert "expect_column_values_to_be_in_set(column=&#x27;level&#x27;" in body and "premium" in body
    assert f"Data Docs page: {page}" in body
    path, payload = posts[0]
    assert path == "/services/T0/B0/x"
    assert payload["text"].startswith(f"*[sparkify] Critical validation failed: staging_events (suite staging_events) on {BAD}*")
    assert "'premium'" in payload["text"] and f"Data Docs page: {page}" in payload["text"]


def test_warnings_notify_only_when_the_variable_asks(socket_warehouse, channels, monkeypatch):
    mails, posts, connections = channels
    for key, value in connections.items():
        monkeypatch.setenv(key, value)
    mails.clear()
    posts.clear()
    reset_warehouse(socket_warehouse)
    code, _ = run_pipeline(socket_warehouse, SAMPLE_LAKE, GOOD, GOOD, fresh=False, tag="alerts-good")
    assert code == 0 and mails == [] and posts == []  # the sample day's two warnings, not asked for
    monkeypatch.setenv("AIRFLOW_VAR_SPARKIFY_NOTIFY_WARNINGS", "true")
    code, _ = run_pipeline(socket_warehouse, SAMPLE_LAKE, GOOD, GOOD, fresh=False, tag="alerts-good-warnings")
    assert code == 0
    subjects = sorted(mail["Subject"] for _, mail in mails)
    assert subjects == [f"[sparkify] Validation warning: {table} (suite {table}) on {GOOD}" for table in ("artists", "songplays")]
    assert len(posts) == 2


def test_no_connection_no_alert(socket_warehouse, channels, monkeypatch):
    mails, posts, _ = channels
    mails.clear()
    posts.clear()
    monkeypatch.delenv("AIRFLOW_CONN_SPARKIFY_SMTP", raising=False)
    monkeypatch.delenv("AIRFLOW_CONN_SPARKIFY_SLACK", raising=False)
    reset_warehouse(socket_warehouse)
    lake = sample_with_a_bad_level(SESSION_DIR / "lake-alerts", BAD)
    code, _ = run_pipeline(socket_warehouse, lake, BAD, BAD, fresh=False, tag="alerts-off")
    assert code == 1 and mails == [] and posts == []
    assert "AIRFLOW_CONN_SPARKIFY_SMTP" not in os.environ
