"""Data Docs: render the run's pages and the index, then publish the site to the docs location.

The location is a folder (every machine may mount it) or an s3:// URL. GX 1.x has no S3 site
store, so the site is built locally, then copied (index.html last).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from sparkify.quality.checkpoint import SITE_NAME, context, site_dir


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
