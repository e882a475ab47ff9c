"""Redshift staging: COPY straight from S3, credentials from the Airflow AWS connection."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from sparkify.staging.records import StageCounts
from sparkify.warehouse.scripts import run_script, sql_file

if TYPE_CHECKING:
    from sparkify.staging import StageRequest

log = logging.getLogger(__name__)


def copy_auth(aws_conn_id: str | None) -> tuple[str, dict[str, str]]:
    """The COPY authorization clause and its bind values: IAM role if the connection has one."""
    from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook

    hook = AwsBaseHook(aws_conn_id=aws_conn_id, client_type="s3")
    extra = hook.conn_config.extra_config or {}
    role = extra.get("role_arn") or extra.get("iam_role")
    if role:
        return "iam_role %(iam_role)s", {"iam_role": role}
    from airflow.providers.amazon.aws.utils.redshift import build_credentials_block

    # The provider's credentials string (keys, and the STS token when there is one), sent as a
    # bind value: it never becomes part of the statement's text or its log line.
    return "credentials %(credentials)s", {"credentials": build_credentials_block(hook.get_credentials())}


def render_copy(
    table: str,
    *,
    source: str,
    jsonpaths: str | None,
    region: str,
    auth_clause: str,
    auth_params: dict[str, str],
    manifest: bool = False,
) -> tuple[str, dict[str, Any]]:
    """The COPY statement of sql/redshift/stage_<table>.sql and its bind parameters (``manifest``:
    the source is a Redshift manifest listing the files to load)."""
    name = table.removeprefix("staging_")
    sql = sql_file(f"redshift/stage_{name}.sql", auth_clause=auth_clause, manifest=manifest)
    params: dict[str, Any] = {"source": source, "region": region, **auth_params}
    if jsonpaths is not None:
        params["jsonpaths"] = jsonpaths
    return sql, params


def copy_to_redshift(conn, request: StageRequest) -> StageCounts:
    """Replace a staging table with COPY from S3 (DELETE, not TRUNCATE: one transaction); lines
    COPY rejects, and events that break the staging rules, go to the run's quarantine.

    ``only_keys``: COPY just ``keys`` (the catalog's new or changed song files) through a Redshift
    manifest written next to the lake (``_sparkify/manifests/``), not everything under ``key``.
    """
    from sparkify.lake import S3Lake

    table, lake, key, keys, day, source = request.table, request.lake, request.key, request.keys, request.day, request.source
    ndjson, only_keys, aws_conn_id, jsonpaths_key = request.ndjson, request.only_keys, request.aws_conn_id, request.jsonpaths_key

    if not isinstance(lake, S3Lake):
        raise ValueError(f"Redshift stages from S3 only; the lake root {lake.url} is not an s3:// URL.")
    from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook

    region = AwsBaseHook(aws_conn_id=aws_conn_id, client_type="s3").conn_region_name or "us-east-1"
    auth_clause, auth_params = copy_auth(aws_conn_id)
    copy_source = lake.name(key)
    if only_keys and keys:
        copy_source = lake.write_manifest(f"_sparkify/manifests/{day}-{table}.manifest", keys)
    sql, params = render_copy(
        table,
        manifest=only_keys,
        source=copy_source,
        jsonpaths=lake.name(jsonpaths_key) if jsonpaths_key else None,
        region=region,
        auth_clause=auth_clause,
        auth_params=auth_params,
    )
    counts = StageCounts(files=len(keys))
    if ndjson:
        counts.lines = sum(1 for line in lake.iter_lines(key) if line.strip())
    else:
        counts.lines = len(keys)
    with conn.cursor() as cur:
        cur.execute(f"delete from {table}")
        cur.execute("delete from quarantine where source = %s", (source,))
        copied = 0
        if keys or not only_keys:  # nothing new or changed: nothing to COPY
            log.info("COPY %s from %s (%s)", table, params["source"], auth_clause.split()[0])
            cur.execute(sql, params)
            cur.execute("select pg_last_copy_count()")
            copied = cur.fetchone()[0]
        run_script(conn, sql_file("redshift/quarantine_copy_errors.sql"), {"day": day, "source": source})
        if table == "staging_events":
            run_script(conn, sql_file("redshift/quarantine_events.sql"), {"day": day, "file": lake.name(key)})
        cur.execute(f"select count(*) from {table}")
        counts.loaded = counts.rows = cur.fetchone()[0]
        cur.execute("select count(*) from quarantine where source = %s", (source,))
        counts.quarantined = cur.fetchone()[0]
    log.info(
        "COPY loaded %s rows into %s; %s kept after the staging rules; %s quarantined", copied, table, counts.loaded, counts.quarantined
    )
    return counts
