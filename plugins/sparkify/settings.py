"""Paths and Airflow ids of the project, read when asked (never frozen at import time).

Environment overrides: SPARKIFY_HOME (the project folder holding sql/ and gx/), SPARKIFY_GX_DIR
(a copy of the GX project, as the tests and the bench use), SPARKIFY_BUILD_DIR.
"""

from __future__ import annotations

import os
from pathlib import Path

DAG_ID = "sparkify"  # the DAG whose validations fill the results store and the Data Docs site
REVIEW_DAG_ID = "sparkify_review"  # one run per day held for review: a person's decision (operators.review)
# "off": request_review asks nobody (make run never waits for a person; make review decides).
REVIEW_REQUESTS_ENV = "SPARKIFY_REVIEW_REQUESTS"
WAREHOUSE_CONN_ID = "sparkify_warehouse"
AWS_CONN_ID = "aws_default"
SMTP_CONN_ID = "sparkify_smtp"  # optional: e-mail alerts
SLACK_CONN_ID = "sparkify_slack"  # optional: Slack alerts
LAKE_VARIABLE = "sparkify_lake"
# The lake a local launcher (make airflow) gives as a default: the Variable, set in the UI or as
# AIRFLOW_VAR_SPARKIFY_LAKE, wins over it.
LAKE_DEFAULT_ENV = "SPARKIFY_LAKE_DEFAULT"
DOCS_VARIABLE = "sparkify_docs"
# Where the plugin mounts its two apps in the Airflow API server.
DOCS_URL_PREFIX = "/sparkify-docs"
QUALITY_URL_PREFIX = "/sparkify-quality"
MAX_QUARANTINE_VARIABLE = "sparkify_max_quarantine_rate"
MAX_QUARANTINE_DEFAULT = "0.01"
WARNINGS_VARIABLE = "sparkify_notify_warnings"
# How long after a day's interval ends its event file may arrive in the lake (wait_for_events).
ARRIVAL_WAIT_VARIABLE = "sparkify_arrival_wait_hours"
ARRIVAL_WAIT_DEFAULT = "6"
# How long after a day's interval ends it must be published before the deadline alert goes out.
# Read by the scheduler when it creates a run (not by a task), so it is not pinned with the others.
PUBLISH_DEADLINE_VARIABLE = "sparkify_publish_deadline_hours"
PUBLISH_DEADLINE_DEFAULT = "8"
# Who may decide a held day (usernames, comma-separated; empty: whoever Airflow lets answer the
# review DAG's HITL tasks), and how long a request waits before it is answered Hold (no value: no limit).
REVIEW_OWNERS_VARIABLE = "sparkify_review_owners"
REVIEW_TIMEOUT_VARIABLE = "sparkify_review_timeout_hours"
# The DAG's optional Variables and the value each task uses when it is not set.
OPTIONAL_VARIABLES = {
    DOCS_VARIABLE: "",
    MAX_QUARANTINE_VARIABLE: MAX_QUARANTINE_DEFAULT,
    WARNINGS_VARIABLE: "false",
    ARRIVAL_WAIT_VARIABLE: ARRIVAL_WAIT_DEFAULT,
}


def project_root() -> Path:
    """The project folder (dags/, sql/, gx/): SPARKIFY_HOME, else the checkout this package sits in."""
    configured = os.environ.get("SPARKIFY_HOME")
    return Path(configured).resolve() if configured else Path(__file__).resolve().parents[2]


def sql_dir() -> Path:
    return project_root() / "sql"


def gx_dir() -> Path:
    """The GX File Data Context (committed gx/, or the copy SPARKIFY_GX_DIR names)."""
    configured = os.environ.get("SPARKIFY_GX_DIR")
    return Path(configured) if configured else project_root() / "gx"


def build_dir() -> Path:
    configured = os.environ.get("SPARKIFY_BUILD_DIR")
    return Path(configured) if configured else project_root() / "build"


def default_docs_location() -> str:
    """Where Data Docs are published when the Variable sparkify_docs is not set."""
    return str(build_dir() / "data_docs")


def docs_location(value: str | None) -> str:
    """The published docs location: the Variable's value, or the default when it is empty."""
    return (value or "").strip() or default_docs_location()


def docs_page_url(page: str) -> str:
    """URL of a Data Docs page (a path relative to the site root) in the Airflow API server."""
    from airflow.configuration import conf

    base = (conf.get("api", "base_url", fallback="") or "").rstrip("/")
    return f"{base}{DOCS_URL_PREFIX}/{page.lstrip('/')}"
