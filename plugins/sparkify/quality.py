"""Great Expectations at run time: run a committed checkpoint, summarise it, publish Data Docs.

The GX project is the committed File Data Context in gx/. The warehouse URL reaches it only
through the ${SPARKIFY_WAREHOUSE_URL} substitution, set here from the Airflow connection.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from sparkify import BUILD_DIR, GX_DIR
from sparkify.warehouse import get_connection, sqlalchemy_url

log = logging.getLogger(__name__)

URL_ENV = "SPARKIFY_WAREHOUSE_URL"
SITE_NAME = "local_site"
DEFAULT_DOCS_LOCATION = str(BUILD_DIR / "data_docs")
MAX_KEYS = 10

_contexts: dict[str, Any] = {}


def context(conn_id: str, *, schema: str | None = None):
    """The GX File Data Context of the project, its datasource pointed at the connection.

    With ``schema`` (a run's schema), the datasource's tables resolve to that run's copies.
    """
    from sparkify.db import RUN_SCHEMA

    if schema is not None and not RUN_SCHEMA.fullmatch(schema):
        raise ValueError(f"{schema!r} is not a run schema (wap_YYYYMMDD).")
    os.environ[URL_ENV] = sqlalchemy_url(get_connection(conn_id), search_path=schema)
    import great_expectations as gx

    # One context per process and connection: task processes are short-lived, and an
    # in-process runner (dags test) reuses it across tasks.
    key = f"{conn_id}|{os.environ[URL_ENV]}"
    if key not in _contexts:
        # GX logs an INFO line per expectation and field ("_get_default_value called with key ...").
        logging.getLogger("great_expectations").setLevel(logging.WARNING)
        _contexts.clear()
        _contexts[key] = gx.get_context(mode="file", context_root_dir=str(GX_DIR))
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


def summarise(validation, *, suite, page: str | None, docs_location: str, parameters: dict | None = None) -> dict[str, Any]:
    """Summary of a validation result: counts, and each failed expectation with its evidence."""
    parameters = parameters or {}
    failures = []
    for item in validation.results:
        if item.success:
            continue
        config = item.expectation_config
        kwargs = {
            k: parameters.get(v["$PARAMETER"], v) if isinstance(v, dict) and "$PARAMETER" in v else v
            for k, v in config.kwargs.items()
            if k not in ("batch_id", "result_format")
        }
        result = item.result or {}
        failures.append(
            {
                "expectation": config.type,
                "description": config.description or "",
                "severity": str(getattr(config.severity, "value", config.severity) or "critical"),
                "kwargs": _jsonable(kwargs),
                "observed": _jsonable(result.get("observed_value")),
                "unexpected_count": result.get("observed_value")
                if config.type == "unexpected_rows_expectation"
                else result.get("unexpected_count"),
                "unexpected_percent": result.get("unexpected_percent"),
                "element_count": result.get("element_count"),
                "keys": _offending_keys(result),
                "values": _jsonable((result.get("partial_unexpected_list") or [])[:MAX_KEYS]),
                "error": _exception_message(item.exception_info),
            }
        )
    critical = [f for f in failures if f["severity"] == "critical"]
    return {
        "suite": validation.suite_name,
        "table": (suite.meta or {}).get("table", validation.suite_name),
        "success": not critical,
        "gx_success": bool(validation.success),
        "evaluated": validation.statistics.get("evaluated_expectations"),
        "failed_critical": len(critical),
        "failed_warning": len(failures) - len(critical),
        "failures": failures,
        "page": page,
        "data_docs": f"{docs_location.rstrip('/')}/{page}" if page else None,
    }


def _exception_message(info) -> str | None:
    """The first exception message of a result's exception_info (flat or keyed by metric)."""
    if not isinstance(info, dict):
        return None
    if info.get("raised_exception"):
        return str(info.get("exception_message") or "")[:500]
    for value in info.values():
        found = _exception_message(value)
        if found:
            return found
    return None


def _offending_keys(result: dict) -> list:
    """Up to MAX_KEYS offending keys (or rows) a result names."""
    for field in ("partial_unexpected_index_list", "unexpected_index_list"):
        if result.get(field):
            return _jsonable(result[field][:MAX_KEYS])
    details = result.get("details") or {}
    if details.get("unexpected_rows"):
        return _jsonable(list(details["unexpected_rows"])[:MAX_KEYS])
    if result.get("partial_unexpected_list"):
        return _jsonable(result["partial_unexpected_list"][:MAX_KEYS])
    return []


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def failure_message(summary: dict) -> str:
    """The message of a failed critical validation: what failed, the evidence, the page."""
    lines = [
        f"Critical validation failed for table {summary['table']} (suite {summary['suite']}): "
        f"{summary['failed_critical']} critical expectation(s) failed of {summary['evaluated']}."
    ]
    for f in summary["failures"]:
        if f["severity"] != "critical":
            continue
        args = ", ".join(f"{k}={v!r}" for k, v in f["kwargs"].items() if k != "unexpected_rows_query")
        label = f["description"] or f["expectation"]
        line = f"- {f['expectation']}({args})" + (f" [{label}]" if f["description"] else "")
        if f["error"]:
            line += f": raised {f['error']}"
        elif f["unexpected_count"] is not None and f["element_count"] is not None:
            line += f": {f['unexpected_count']} unexpected of {f['element_count']} rows"
        elif f["unexpected_count"] is not None:
            line += f": {f['unexpected_count']} unexpected row(s)"
        else:
            line += f": observed {f['observed']!r}"
        if f["values"]:
            line += f"; unexpected values: {f['values']}"
        if f["keys"]:
            line += f"; offending (up to {MAX_KEYS}): {f['keys']}"
        lines.append(line)
    lines.append(f"Data Docs: {summary['data_docs'] or '(page not built)'}")
    return "\n".join(lines)


def publish_docs(
    conn_id: str, docs_location: str, *, run_name: str | None = None, aws_conn_id: str | None = None, schema: str | None = None
) -> dict[str, Any]:
    """Render the run's validation pages, the suite pages and the index; copy changed files out.

    The location is a folder or an s3:// URL (GX 1.x has no S3 site store: the site is built
    locally, then copied).
    """
    from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

    ctx = context(conn_id, schema=schema)  # the run's schema: reuses the validations' context
    pages: list = [ExpectationSuiteIdentifier(name=suite.name) for suite in ctx.suites.all()]
    results = ctx.validation_results_store.list_keys()
    pages += [key for key in results if run_name is None or key.run_id.run_name == run_name]
    # One pass: the page views (and their templates) are set up once for the whole run.
    ctx.build_data_docs(site_names=[SITE_NAME], resource_identifiers=pages, build_index=True)
    if docs_location.startswith("s3://"):
        copied = sync_to_s3(site_dir(ctx), docs_location, aws_conn_id=aws_conn_id)
        return {"location": docs_location, "index": f"{docs_location.rstrip('/')}/index.html", "copied": copied}
    target = Path(docs_location.removeprefix("file://"))
    copied = sync_folder(site_dir(ctx), target)
    return {"location": str(target), "index": str(target / "index.html"), "copied": copied}


def _site_files(source: Path) -> list[Path]:
    """The site's files, index.html last so it never links to a page not yet copied."""
    return sorted((p for p in source.rglob("*") if p.is_file()), key=lambda p: (p.name == "index.html", str(p)))


def sync_to_s3(source: Path, url: str, *, aws_conn_id: str | None) -> int:
    """Upload new or changed files (by MD5 against the object's ETag) under an s3:// prefix."""
    import hashlib
    import mimetypes

    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    bucket, _, prefix = url.removeprefix("s3://").partition("/")
    prefix = prefix.strip("/")
    client = S3Hook(aws_conn_id=aws_conn_id).get_conn()
    existing: dict[str, str] = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{prefix}/" if prefix else ""):
        for item in page.get("Contents", []):
            existing[item["Key"]] = item["ETag"].strip('"')
    copied = 0
    for path in _site_files(source):
        key = "/".join(p for p in (prefix, path.relative_to(source).as_posix()) if p)
        body = path.read_bytes()
        if existing.get(key) == hashlib.md5(body).hexdigest():
            continue
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        client.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type)
        copied += 1
    return copied


def sync_folder(source: Path, target: Path) -> int:
    """Copy new or changed files (size or mtime) from source to target; index.html last."""
    copied = 0
    for path in _site_files(source):
        dest = target / path.relative_to(source)
        stat = path.stat()
        if dest.exists():
            have = dest.stat()
            if have.st_size == stat.st_size and int(have.st_mtime) == int(stat.st_mtime):
                continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        partial = dest.with_name(dest.name + ".partial")
        shutil.copy2(path, partial)
        partial.replace(dest)  # atomic: a reader sees the old file or the new one
        copied += 1
    return copied
