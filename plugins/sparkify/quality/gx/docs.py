"""Data Docs: render a run's pages and the index from the shared results store, then publish the
site to the docs location.

The location is a folder (every machine mounts it) or an s3:// URL. GX 1.x has no S3 site store,
so the site is built in this process's private copy of the GX project, then copied out (pages
first, index.html last). The run's results come from the warehouse (quality.store), so any worker
can publish any run; the index lists the newest stored results of every run (a bounded query),
never only what this machine validated. Publishes hold a lock in the warehouse while they build
and write the index, so two of them never interleave.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

from sparkify.quality.gx.context import SITE_NAME, context, site_dir

log = logging.getLogger(__name__)


def publish_docs(
    conn_id: str, docs_location: str, *, run_name: str | None = None, aws_conn_id: str | None = None, schema: str | None = None
) -> dict[str, Any]:
    """Render the pages of the run's stored results (every stored result when ``run_name`` is None),
    the suite pages and the index; copy changed files to the location (folder or s3:// URL)."""
    from great_expectations.data_context.types.resource_identifiers import ValidationResultIdentifier

    from sparkify.quality import store
    from sparkify.quality.gx.private import index_listing, put_result_json
    from sparkify.quality.store import publishes
    from sparkify.warehouse.connection import transaction

    with transaction(conn_id) as (conn, dialect):
        store.publish_lock(conn, dialect)  # held until this publish commits
        ctx = context(conn_id, schema=schema)  # the run's schema: reuses the validations' context
        limit = index_limit(ctx)
        results = store.run_results(conn, dialect, run_name, limit=limit)
        entries = store.index_entries(conn, limit=limit)
        pages, rendered = suite_pages(ctx)
        reviews = publishes.of_runs(conn, sorted({row["run_name"] for row in results}))  # runs held for review say so on their pages
        for row in results:
            key = (row["suite"], row["run_name"], row["run_time"], row["batch_identifier"])
            put_result_json(ctx, key, row["result_json"], review=publishes.review_line(reviews.get(row["run_name"])))
            pages.append(ValidationResultIdentifier.from_tuple(key))
        started, clock = time.time(), time.perf_counter()
        with index_listing(entries):
            # One pass: the page views (and their templates) are set up once for the whole run.
            ctx.build_data_docs(site_names=[SITE_NAME], resource_identifiers=pages, build_index=True)
        _rendered_suites.update(rendered)
        render_seconds = round(time.perf_counter() - clock, 3)  # GX's own rendering (make bench's day_overhead reads it)
        self_contained(site_dir(ctx), built_since=started)
        if docs_location.startswith("s3://"):
            copied = sync_to_s3(site_dir(ctx), docs_location, aws_conn_id=aws_conn_id)
            published = {"location": docs_location, "index": f"{docs_location.rstrip('/')}/index.html", "copied": copied}
        else:
            target = Path(docs_location.removeprefix("file://"))
            copied = sync_folder(site_dir(ctx), target)
            published = {"location": str(target), "index": str(target / "index.html"), "copied": copied}
    published.update(pages=len(results), listed=len(entries), render_seconds=render_seconds)
    return published


def index_limit(ctx) -> int:
    """How many results the index lists, newest first: the site's ``validation_results_limit`` in
    gx/great_expectations.yml (the one value for the published site and notebooks' local builds)."""
    return int(ctx.variables.data_docs_sites[SITE_NAME]["site_index_builder"]["validation_results_limit"])


_rendered_suites: dict[tuple[str, str], str] = {}  # (site, suite) -> the suite's JSON its page shows


def suite_pages(ctx) -> tuple[list, dict[tuple[str, str], str]]:
    """The suite pages to render, and what to remember once they are: every suite whose page this
    process has not rendered into its site yet, or whose suite changed since. A process running
    several days (make run) renders each suite page once instead of once a day; the index lists
    every suite either way."""
    import json

    from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

    site = site_dir(ctx)
    pages, rendered = [], {}
    for suite in ctx.suites.all():
        shown = json.dumps(suite.to_json_dict(), sort_keys=True, default=str)
        key = (str(site), suite.name)
        if _rendered_suites.get(key) != shown or not (site / "expectations" / f"{suite.name}.html").is_file():
            pages.append(ExpectationSuiteIdentifier(name=suite.name))
            rendered[key] = shown
    return pages, rendered


def self_contained(site: Path, *, built_since: float) -> None:
    """The site's CDN assets vendored into static/vendor/ and the pages built since ``built_since``
    pointed at them (quality.gx.offline); without the vendored files (make install fetches them) the
    pages keep GX's CDN links, with a warning."""
    from sparkify.quality.gx import offline

    if offline.missing():
        log.warning("Data Docs assets are not vendored (%s); pages keep GX's CDN links. Run make install.", offline.VENDOR_DIR)
        return
    offline.copy_into(site)
    for page in site.rglob("*.html"):
        if page.stat().st_mtime >= built_since - 1:
            depth = len(page.relative_to(site).parts) - 1
            text = page.read_text(encoding="utf-8")
            local = offline.localize(text, "../" * depth)
            if local != text:
                page.write_text(local, encoding="utf-8")


def _site_files(source: Path) -> list[Path]:
    """The site's files, index.html last so it never links to a page not yet copied."""
    return sorted((p for p in source.rglob("*") if p.is_file()), key=lambda p: (p.name == "index.html", str(p)))


def sync_to_s3(source: Path, url: str, *, aws_conn_id: str | None) -> int:
    """Upload new or changed files (by MD5 against the object's ETag) under an s3:// prefix."""
    import hashlib
    import mimetypes

    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    bucket, prefix = S3Hook.parse_s3_url(url)
    prefix = prefix.strip("/")
    hook = S3Hook(aws_conn_id=aws_conn_id)
    existing = {
        item["Key"]: item["ETag"].strip('"') for item in hook.iter_file_metadata(f"{prefix}/" if prefix else "", bucket_name=bucket)
    }
    copied = 0
    for path in _site_files(source):
        key = "/".join(p for p in (prefix, path.relative_to(source).as_posix()) if p)
        body = path.read_bytes()
        if existing.get(key) == hashlib.md5(body).hexdigest():
            continue
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        # put_object, not S3Hook.load_bytes: load_bytes sets no Content-Type per object (S3 would
        # serve the pages as binary/octet-stream) and sends files over 8 MB in parts, whose ETag
        # is not their MD5 (every later publish would upload them again).
        hook.get_conn().put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type)
        copied += 1
    return copied


def sync_folder(source: Path, target: Path) -> int:
    """Copy new or changed files (by content) from source to target, each replaced atomically; index.html last."""
    copied = 0
    for path in _site_files(source):
        dest = target / path.relative_to(source)
        body = path.read_bytes()
        if dest.is_file() and dest.stat().st_size == len(body) and dest.read_bytes() == body:
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        partial = dest.with_name(f".{dest.name}.{os.getpid()}.partial")  # one per writer: publishes never share it
        partial.write_bytes(body)
        partial.replace(dest)  # atomic: a reader sees the old file or the new one
        copied += 1
    return copied
