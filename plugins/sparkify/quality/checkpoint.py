"""Great Expectations at run time: the project's context and a committed checkpoint's run.

The GX project is the committed File Data Context in gx/, read-only at run time: each process
works on its own private copy of it (suites, checkpoints, the config), so nothing a task does
writes a file another task or machine reads; results go to the shared store in the warehouse
(quality.store). Only authoring (the notebooks) opens gx/ itself. The warehouse URL reaches GX
only through the ${SPARKIFY_WAREHOUSE_URL} substitution, set here from the Airflow connection.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from sparkify.names import check_run_schema
from sparkify.quality import redact
from sparkify.quality.summary import summarise, unreachable
from sparkify.settings import gx_dir
from sparkify.warehouse.connection import get_connection, sqlalchemy_url

log = logging.getLogger(__name__)

URL_ENV = "SPARKIFY_WAREHOUSE_URL"
SITE_NAME = "local_site"

_contexts: dict[str, Any] = {}
_private_root: list[Path] = []


# The result format a task's checkpoint runs with: pass or fail per expectation and nothing else
# (no metric beyond the one that decides it). Expectations that fail are then computed again with
# the committed checkpoint's own format (counts, unexpected values and their rows), so every
# failure keeps its full report; passing ones report their outcome. Measured on 200,000 events
# (make bench's validation step): the committed format 7.8 s for the 9 suites, this one 4.9 s.
PASS_FAIL_FORMAT = {"result_format": "BOOLEAN_ONLY"}


def private_project() -> Path:
    """This process's own copy of the committed GX project (made once, removed at exit); its
    checkpoints run with PASS_FAIL_FORMAT (see detail_failures)."""
    if not _private_root:
        folder = Path(tempfile.mkdtemp(prefix="sparkify-gx-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        shutil.copytree(gx_dir(), folder / "gx", ignore=shutil.ignore_patterns("uncommitted", "notebooks", ".ipynb_checkpoints"))
        for path in (folder / "gx" / "checkpoints").glob("*.json"):
            config = json.loads(path.read_text())
            config["result_format"] = PASS_FAIL_FORMAT
            path.write_text(json.dumps(config, indent=2))
        _apply_history_severity(folder / "gx")
        _private_root.append(folder / "gx")
    return _private_root[0]


def _apply_history_severity(root: Path) -> None:
    """The copy's history suite takes each metric's severity from gx/history.toml (quality.history)."""
    from sparkify.quality import history

    path = root / "expectations" / "history.json"
    if path.is_file():
        settings = history.load(gx_dir())
        suite = history.apply_severity(json.loads(path.read_text()), settings, path=str(gx_dir() / "expectations" / "history.json"))
        path.write_text(json.dumps(suite, indent=1))


def committed_result_format(name: str) -> dict:
    """The result format of the committed checkpoint ``name`` (gx/checkpoints/<name>.json)."""
    return json.loads((gx_dir() / "checkpoints" / f"{name}.json").read_text())["result_format"]


def detail_failures(checkpoint, validation, *, name: str, expectation_parameters: dict) -> int:
    """Compute each failed expectation again with the committed checkpoint's result format, on
    the same batch, and put that report in its place; returns how many were detailed."""
    failed = [item for item in validation.results if not item.success]
    if not failed:
        return 0
    result_format = committed_result_format(name)
    batch = checkpoint.validation_definitions[0].batch_definition.get_batch()
    for item in failed:
        detailed = batch.validate(
            item.expectation_config.to_domain_obj(), result_format=result_format, expectation_parameters=expectation_parameters
        )
        item.result = detailed.result
        item.exception_info = detailed.exception_info
    return len(failed)


def context(conn_id: str, *, schema: str | None = None, authoring: bool = False):
    """The GX File Data Context of the project, its datasource pointed at the connection.

    With ``schema`` (a run's schema), the datasource's tables resolve to that run's copies. Tasks
    get this process's private copy of gx/; ``authoring=True`` (notebooks) opens gx/ itself, so
    that saved suites land in the committed project.
    """
    if schema is not None:
        check_run_schema(schema)
    os.environ[URL_ENV] = sqlalchemy_url(get_connection(conn_id), search_path=schema)
    import great_expectations as gx

    root = gx_dir() if authoring else private_project()
    # One context per process, connection and project: task processes are short-lived, and an
    # in-process runner (dags test) reuses it across tasks.
    key = f"{conn_id}|{os.environ[URL_ENV]}|{root}"
    if key not in _contexts:
        # GX logs an INFO line per expectation and field ("_get_default_value called with key ...").
        logging.getLogger("great_expectations").setLevel(logging.WARNING)
        _contexts.clear()
        _contexts[key] = gx.get_context(mode="file", context_root_dir=str(root))
    return _contexts[key]


def site_dir(ctx) -> Path:
    """Folder of the locally built Data Docs site."""
    base = ctx.variables.data_docs_sites[SITE_NAME]["store_backend"]["base_directory"]
    return Path(ctx.root_directory) / base


def validate(
    name: str, *, run_name: str, conn_id: str, docs_location: str, schema: str | None = None, expectation_parameters: dict | None = None,
    day: str | None = None, adjust=None,
) -> tuple[dict[str, Any], dict[str, Any]]:  # fmt: skip
    """Run the checkpoint ``name``: (the summary, the results-store row with GX's result JSON).
    ``adjust(validation)``, when given, may change the result before anything is built from it."""
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.render.renderer.site_builder import _resolve_asset_name

    ctx = context(conn_id, schema=schema)
    checkpoint = ctx.checkpoints.get(name)
    started = time.perf_counter()
    identifier, validation = run_validation(checkpoint, RunIdentifier(run_name=run_name), expectation_parameters or {})
    if lost := unreachable(validation):
        # Not a result: nothing is stored or published, and the task fails as retryable.
        kind, message = lost[0]
        raise ConnectionError(
            f"Suite {name} was not evaluated: the warehouse connection failed in {len(lost)} of "
            f"{len(validation.results)} expectation(s), first in {kind}: {message}"
        )
    detailed = detail_failures(checkpoint, validation, name=name, expectation_parameters=expectation_parameters or {})
    duration = time.perf_counter() - started
    if detailed:
        log.info("Suite %s: %s failed expectation(s) computed again in full detail", name, detailed)
    if adjust is not None:
        adjust(validation)
    # The suite the definition ran (read from the store when the checkpoint was), not read again.
    definitions = checkpoint.validation_definitions
    suite = definitions[0].suite if len(definitions) == 1 else ctx.suites.get(validation.suite_name)
    redacted = redact_sensitive(validation, conn_id=conn_id, day=day, table=(suite.meta or {}).get("table", validation.suite_name))
    if redacted:
        log.info("Suite %s: sensitive values replaced by markers in %s result(s) (gx/%s)", name, redacted, redact.FILE)
    page = page_path(ctx, identifier)
    summary = summarise(validation, suite=suite, page=page, docs_location=docs_location, parameters=expectation_parameters or {})
    suite_name, key_run_name, run_time, batch_identifier = identifier.to_tuple()
    record = {
        "run_id": run_name,
        "day": day,
        "suite": summary["suite"],
        "table_name": summary["table"],
        "success": summary["success"],
        "gx_success": summary["gx_success"],
        "evaluated": summary["evaluated"],
        "failed_critical": summary["failed_critical"],
        "failed_warning": summary["failed_warning"],
        "unexpected_count": sum(f["unexpected_count"] or 0 for f in summary["failures"] if isinstance(f["unexpected_count"], int)),
        "row_count": rows if (rows := row_count(validation)) is not None else table_rows(conn_id, schema, summary["table"]),
        "duration_seconds": round(duration, 3),
        "run_time": run_time,
        "batch_identifier": batch_identifier,
        "asset_name": _resolve_asset_name(validation),
        "data_docs_page": page,
        # Exactly what GX's validation results store writes for this result.
        "result_json": ctx.validation_results_store.serialize(validation),
    }
    summary["duration_seconds"] = record["duration_seconds"]
    return summary, record


def redact_sensitive(validation, *, conn_id: str, day: str | None, table: str) -> int:
    """Replace the values of the declared sensitive columns in the results (quality.redact),
    before anything is built from them; returns how many results changed."""
    declared = redact.sensitive_columns(gx_dir())
    if not declared:
        return 0
    from sparkify.quality import store

    redactor = redact.Redactor(secret=store.redaction_key(conn_id), day=day or "", table=table, declared=declared)
    return redact.redact_validation(validation, redactor)


def run_validation(checkpoint, run_id, expectation_parameters: dict):
    """Run a committed checkpoint's validation definition: (its result's key, the result).

    A checkpoint without actions (as committed) runs its one validation definition directly,
    as Checkpoint.run itself would, without Checkpoint.run's check that the checkpoint matches
    its stored copy: it was read from the store a moment ago (about 20 ms a validation). A
    checkpoint with actions, or with several definitions, runs through Checkpoint.run."""
    from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier, ValidationResultIdentifier

    if checkpoint.actions or len(checkpoint.validation_definitions) != 1:
        result = checkpoint.run(run_id=run_id, expectation_parameters=expectation_parameters)
        return next(iter(result.run_results.items()))
    (definition,) = checkpoint.validation_definitions
    validation = definition.run(
        checkpoint_id=checkpoint.id, expectation_parameters=expectation_parameters, result_format=checkpoint.result_format, run_id=run_id
    )
    suite = ExpectationSuiteIdentifier(name=definition.suite.name)
    identifier = ValidationResultIdentifier(expectation_suite_identifier=suite, run_id=run_id, batch_identifier=validation.batch_id)
    return identifier, validation


def row_count(validation) -> int | None:
    """Rows of the validated table, as the results report them (a row-count check's observed
    value, else the largest element count of a column check)."""
    counts = []
    for item in validation.results:
        result = item.result or {}
        if item.expectation_config.type == "expect_table_row_count_to_be_between" and isinstance(result.get("observed_value"), int):
            return result["observed_value"]
        if isinstance(result.get("element_count"), int):
            counts.append(result["element_count"])
    return max(counts) if counts else None


def table_rows(conn_id: str, schema: str | None, table: str | None) -> int | None:
    """Rows of the validated table (a passing run's results do not carry counts): one count(*)."""
    import re

    from sparkify.warehouse.connection import transaction

    if not table or not re.fullmatch(r"[a-z_][a-z0-9_]*", table):
        return None
    with transaction(conn_id, schema=schema) as (conn, _), conn.cursor() as cur:
        cur.execute(f"select count(*) from {table}")
        return cur.fetchone()[0]


def page_path(ctx, identifier) -> str | None:
    """Path of a validation result's page inside the Data Docs site."""
    local = site_dir(ctx)
    for site in ctx.get_docs_sites_urls(resource_identifier=identifier, site_name=SITE_NAME, only_if_exists=False):
        url = site.get("site_url") or ""
        if url.startswith("file://"):
            return Path(unquote(url.removeprefix("file://"))).relative_to(local).as_posix()
    return None
