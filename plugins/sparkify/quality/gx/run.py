"""A committed checkpoint's run: the result, its failures in full detail, sensitive values
masked, and what the results store keeps of it (the summary and the store's row)."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from sparkify.quality.gx import redact
from sparkify.quality.gx.context import SITE_NAME, context, site_dir
from sparkify.quality.gx.private import DAY_KEY, run_validation
from sparkify.quality.gx.summary import summarise, unreachable
from sparkify.quality.outcome import Outcome, Plan, StoreRow
from sparkify.quality.store.run_tables import table_rows
from sparkify.settings import gx_dir

log = logging.getLogger(__name__)


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


def validate(
    name: str,
    *,
    run_name: str,
    conn_id: str,
    docs_location: str,
    schema: str | None = None,
    plan: Plan | None = None,
    day: str | None = None,
) -> Outcome:
    """Run the checkpoint ``name`` with the plan's parameters; its mark, when it has one, changes
    the result before anything is built from it. The outcome is built here, once."""
    plan = plan or Plan(parameters={})
    ctx = context(conn_id, schema=schema)
    checkpoint = ctx.checkpoints.get(name)
    started = time.perf_counter()
    identifier, validation = evaluate(checkpoint, name=name, run_name=run_name, parameters=plan.parameters)
    duration = round(time.perf_counter() - started, 3)
    marked = plan.mark(validation) if plan.mark is not None else None
    if day:
        validation.meta[DAY_KEY] = day  # the pages name the day (quality.gx.private's page renderer)
    # The suite the definition ran (read from the store when the checkpoint was), not read again.
    definitions = checkpoint.validation_definitions
    suite = definitions[0].suite if len(definitions) == 1 else ctx.suites.get(validation.suite_name)
    declared = redact.sensitive_columns(gx_dir())
    table = (suite.meta or {}).get("table", validation.suite_name)
    redacted = redact_sensitive(validation, conn_id=conn_id, day=day, table=table, declared=declared)
    if redacted:
        log.info("Suite %s: sensitive values replaced by markers in %s result(s) (gx/%s)", name, redacted, redact.FILE)
    page = page_path(ctx, identifier)
    summary = summarise(validation, suite=suite, page=page, docs_location=docs_location, parameters=plan.parameters, day=day,
                        duration_seconds=duration, marked=marked)  # fmt: skip
    _, _, run_time, batch_identifier = identifier.to_tuple()
    row: StoreRow = {
        "run_id": run_name,
        "day": day,
        "suite": summary["suite"],
        "table_name": summary["table"],
        "success": summary["success"],
        "gx_success": summary["gx_success"],
        "evaluated": summary["evaluated"],
        "failed_critical": summary["failed_critical"],
        # Review failures count with the warnings here (GX ran them as warnings); the day's hold
        # record (dq.day_publishes) names them.
        "failed_warning": summary["failed_warning"] + summary["failed_review"],
        "unexpected_count": sum(f["unexpected_count"] or 0 for f in summary["failures"] if isinstance(f["unexpected_count"], int)),
        "row_count": rows if (rows := row_count(validation)) is not None else table_rows(conn_id, schema, summary["table"]),
        "duration_seconds": duration,
        "run_time": run_time,
        "batch_identifier": batch_identifier,
        "asset_name": validation.asset_name,
        "data_docs_page": page,
        # Exactly what GX's validation results store writes for this result.
        "result_json": ctx.validation_results_store.serialize(validation),
    }
    return Outcome(summary=summary, row=row, checks=marked.checks if marked else None, sensitive=declared)


def evaluate(checkpoint, *, name: str, run_name: str, parameters: dict[str, Any]):
    """The checkpoint's (result key, result), its failures computed again in full detail. A result
    GX could not compute because the warehouse connection failed is no result: ConnectionError,
    nothing stored or published, and the task is tried again."""
    from great_expectations.core.run_identifier import RunIdentifier

    identifier, validation = run_validation(checkpoint, RunIdentifier(run_name=run_name), parameters)
    if lost := unreachable(validation):
        kind, message = lost[0]
        raise ConnectionError(
            f"Suite {name} was not evaluated: the warehouse connection failed in {len(lost)} of "
            f"{len(validation.results)} expectation(s), first in {kind}: {message}"
        )
    detailed = detail_failures(checkpoint, validation, name=name, expectation_parameters=parameters)
    if detailed:
        log.info("Suite %s: %s failed expectation(s) computed again in full detail", name, detailed)
    return identifier, validation


def redact_sensitive(validation, *, conn_id: str, day: str | None, table: str, declared: frozenset[str]) -> int:
    """Replace the values of the declared sensitive columns in the results (quality.gx.redact),
    before anything is built from them; returns how many results changed."""
    if not declared:
        return 0
    from sparkify.quality import store

    redactor = redact.Redactor(secret=store.redaction_key(conn_id), day=day or "", table=table, declared=declared)
    return redact.redact_validation(validation, redactor)


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


def page_path(ctx, identifier) -> str | None:
    """Path of a validation result's page inside the Data Docs site."""
    local = site_dir(ctx)
    for site in ctx.get_docs_sites_urls(resource_identifier=identifier, site_name=SITE_NAME, only_if_exists=False):
        url = site.get("site_url") or ""
        if url.startswith("file://"):
            return Path(unquote(url.removeprefix("file://"))).relative_to(local).as_posix()
    return None
