"""Great Expectations at run time: the project's context and a committed checkpoint's run.

The GX project is the committed File Data Context in gx/. The warehouse URL reaches it only
through the ${SPARKIFY_WAREHOUSE_URL} substitution, set here from the Airflow connection.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from sparkify.names import check_run_schema
from sparkify.quality.summary import summarise
from sparkify.settings import gx_dir
from sparkify.warehouse.connection import get_connection, sqlalchemy_url

log = logging.getLogger(__name__)

URL_ENV = "SPARKIFY_WAREHOUSE_URL"
SITE_NAME = "local_site"

_contexts: dict[str, Any] = {}


def context(conn_id: str, *, schema: str | None = None):
    """The GX File Data Context of the project, its datasource pointed at the connection.

    With ``schema`` (a run's schema), the datasource's tables resolve to that run's copies.
    """
    if schema is not None:
        check_run_schema(schema)
    os.environ[URL_ENV] = sqlalchemy_url(get_connection(conn_id), search_path=schema)
    import great_expectations as gx

    # One context per process and connection: task processes are short-lived, and an
    # in-process runner (dags test) reuses it across tasks.
    key = f"{conn_id}|{os.environ[URL_ENV]}"
    if key not in _contexts:
        # GX logs an INFO line per expectation and field ("_get_default_value called with key ...").
        logging.getLogger("great_expectations").setLevel(logging.WARNING)
        _contexts.clear()
        _contexts[key] = gx.get_context(mode="file", context_root_dir=str(gx_dir()))
    return _contexts[key]


def site_dir(ctx) -> Path:
    """Folder of the locally built Data Docs site."""
    base = ctx.variables.data_docs_sites[SITE_NAME]["store_backend"]["base_directory"]
    return Path(ctx.root_directory) / base


def run_checkpoint(
    name: str, *, run_name: str, conn_id: str, docs_location: str, schema: str | None = None, expectation_parameters: dict | None = None
) -> dict[str, Any]:
    """Run the checkpoint ``name`` (on the run schema's tables); returns a JSON-serialisable summary."""
    from great_expectations.core.run_identifier import RunIdentifier

    ctx = context(conn_id, schema=schema)
    checkpoint = ctx.checkpoints.get(name)
    result = checkpoint.run(run_id=RunIdentifier(run_name=run_name), expectation_parameters=expectation_parameters or {})
    (identifier, validation), *_ = result.run_results.items()
    # The result is stored now, pass or fail; publish_docs renders the run's pages in one pass.
    page = page_path(ctx, identifier)
    suite = ctx.suites.get(validation.suite_name)
    return summarise(validation, suite=suite, page=page, docs_location=docs_location, parameters=expectation_parameters or {})


def page_path(ctx, identifier) -> str | None:
    """Path of a validation result's page inside the Data Docs site."""
    local = site_dir(ctx)
    for site in ctx.get_docs_sites_urls(resource_identifier=identifier, site_name=SITE_NAME, only_if_exists=False):
        url = site.get("site_url") or ""
        if url.startswith("file://"):
            return Path(unquote(url.removeprefix("file://"))).relative_to(local).as_posix()
    return None
