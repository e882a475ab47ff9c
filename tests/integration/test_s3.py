"""The S3 path against a local S3-compatible endpoint (moto's server), reached only through the
Airflow connection aws_default (endpoint in its extra): the lake, make run, Data Docs on S3."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import boto3
import pytest

from tests.integration.helpers import checksums, run_pipeline
from tests.session import SAMPLE_LAKE

BUCKET = "sparkify-lake"


@pytest.fixture(scope="module")
def s3_endpoint():
    from moto.server import ThreadedMotoServer

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    conn = {"conn_type": "aws", "login": "testing", "password": "testing",
            "extra": {"endpoint_url": endpoint, "region_name": "us-east-1"}}  # fmt: skip
    os.environ["AIRFLOW_CONN_AWS_DEFAULT"] = json.dumps(conn)
    client = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="testing",
                          aws_secret_access_key="testing", region_name="us-east-1")  # fmt: skip
    client.create_bucket(Bucket=BUCKET)
    for path in SAMPLE_LAKE.rglob("*.json"):
        client.upload_file(str(path), BUCKET, f"sample/{path.relative_to(SAMPLE_LAKE).as_posix()}")
    yield client
    del os.environ["AIRFLOW_CONN_AWS_DEFAULT"]
    server.stop()


@pytest.fixture(scope="module")
def local_and_s3_runs(s3_endpoint, socket_warehouse):
    """The same three days from the local sample and from its copy in S3, each from empty."""
    local_code, local = run_pipeline(socket_warehouse, SAMPLE_LAKE, "2018-11-10", "2018-11-12", fresh=True, tag="s3-local")
    expected = checksums(socket_warehouse)
    code, remote = run_pipeline(socket_warehouse, f"s3://{BUCKET}/sample", "2018-11-10", "2018-11-12", fresh=True, tag="s3")
    return (local_code, local, expected), (code, remote, checksums(socket_warehouse))


def test_the_same_dag_reads_the_lake_from_s3(local_and_s3_runs):
    (code, local, expected), (s3_code, remote, found) = local_and_s3_runs
    assert code == 0 and s3_code == 0
    assert remote["staged"] == local["staged"] and remote["staged"]["songs"] == 71
    assert remote["tables"] == local["tables"]
    assert found == expected
    assert all(v["success"] for v in remote["validations"])


def test_a_missing_day_names_the_s3_key(s3_endpoint, socket_warehouse):
    code, summary = run_pipeline(socket_warehouse, f"s3://{BUCKET}/sample", "2018-12-01", "2018-12-01", fresh=False, tag="s3-missing")
    assert code == 1
    assert summary["runs"][0]["state"] == "failed"
    log = (Path(os.environ["SPARKIFY_BUILD_DIR"]) / "run.log").read_text()
    assert "The day's file s3://sparkify-lake/sample/log_data/2018/12/2018-12-01-events.json has not arrived" in log


def test_data_docs_publish_to_s3_changed_files_only(s3_endpoint, socket_warehouse, local_and_s3_runs):
    from sparkify.quality.gx.docs import publish_docs
    from tests.integration.helpers import use_warehouse

    use_warehouse(socket_warehouse)
    target = f"s3://{BUCKET}/docs/site"
    first = publish_docs("sparkify_warehouse", target, aws_conn_id="aws_default")
    assert first["copied"] > 10
    index = s3_endpoint.get_object(Bucket=BUCKET, Key="docs/site/index.html")
    assert index["ContentType"] == "text/html"
    html = index["Body"].read().decode()
    assert "validations/staging_events/" in html
    listed = s3_endpoint.list_objects_v2(Bucket=BUCKET, Prefix="docs/site/validations/")["KeyCount"]
    assert listed > 0
    # A run with no new results: only the suite pages and the index are re-rendered, and they come
    # out the same (no timestamped logo beacon any more), so at most those are sent again; the
    # validation pages and static files never are.
    second = publish_docs("sparkify_warehouse", target, run_name="a-run-without-results", aws_conn_id="aws_default")
    from sparkify.settings import gx_dir

    suites = len(list((gx_dir() / "expectations").glob("*.json")))  # the session's copy (notebooks add drafts)
    assert 0 <= second["copied"] <= suites + 1 < first["copied"]
    assert s3_endpoint.get_object(Bucket=BUCKET, Key="docs/site/index.html")["Body"].read().decode() == html


def test_the_arrival_trigger_waits_for_an_s3_key_and_reports_its_last_modified(s3_endpoint):
    """wait_for_events' trigger on the S3 lake, as the triggerer runs it (its event loop, the lake
    read in threads): a key that is put 1.5 s into the wait ends it with S3's LastModified."""
    import asyncio
    import threading
    from datetime import UTC, datetime, timedelta

    from sparkify.operators.arrival import LakeFileTrigger

    key = "log_data/2026/12/2026-12-02-events.json"
    trigger = LakeFileTrigger(lake_root=f"s3://{BUCKET}/arrivals", key=key, aws_conn_id="aws_default",
                              deadline=(datetime.now(UTC) + timedelta(seconds=60)).isoformat(), poke_interval=0.25)  # fmt: skip
    put = threading.Timer(1.5, lambda: s3_endpoint.put_object(Bucket=BUCKET, Key=f"arrivals/{key}", Body=b"{}\n"))

    async def first_event():
        put.start()
        return await anext(trigger.run())

    started = datetime.now(UTC)
    event = asyncio.run(first_event()).payload
    head = s3_endpoint.head_object(Bucket=BUCKET, Key=f"arrivals/{key}")
    assert event["status"] == "arrived" and datetime.fromisoformat(event["modified"]) == head["LastModified"]
    assert (datetime.now(UTC) - started).total_seconds() >= 1.5  # it waited for the key, looking again
