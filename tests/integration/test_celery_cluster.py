"""The pipeline on a multi-worker Airflow: CeleryExecutor with two workers, each started from its
own copy of the project (own gx/uncommitted, build/, Airflow home and working directory), started
the way `make airflow EXECUTOR=celery WORKERS=2` starts them. Shared between the machines it
stands for: the warehouse (PostgreSQL over TCP), the metadata database (PostgreSQL), the Redis
broker, and S3 (moto's server) for the lake and the published Data Docs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import urllib.error
import urllib.request
from urllib.parse import unquote

import pytest

from sparkify.local.celery_shape import free_port
from sparkify.local.scheduler_day import RunningAirflow, api
from sparkify.names import suites
from tests.integration.helpers import execute, reset_warehouse
from tests.session import SAMPLE_LAKE, SESSION_DIR

ALL = len(suites())  # every committed suite runs once a day (read from gx/)

DAYS = ("2018-11-10", "2018-11-11", "2018-11-12")
BAD_DAY = "2018-11-11"
LAKE_BUCKET, DOCS_BUCKET = "cluster-lake", "cluster-docs"

pytestmark = [
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="no redis-server: `make test` installs Debian's with apt as root"),
    pytest.mark.skipif(
        not __import__("importlib").util.find_spec("airflow.providers.celery"),
        reason="no Celery provider: `make test` installs requirements-celery.txt",
    ),
]


def fetch(url: str, token: str) -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode("utf-8", "replace")


@pytest.fixture(scope="module")
def s3():
    import boto3
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    client = boto3.client(
        "s3", endpoint_url=endpoint, aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    client.create_bucket(Bucket=LAKE_BUCKET)
    client.create_bucket(Bucket=DOCS_BUCKET)
    for path in SAMPLE_LAKE.rglob("*.json"):
        relative = path.relative_to(SAMPLE_LAKE).as_posix()
        if relative.startswith("log_data/") and not any(day in relative for day in DAYS):
            continue
        body = path.read_bytes()
        if BAD_DAY in relative:
            events = [json.loads(line) for line in body.decode().splitlines()]
            next(e for e in events if e["page"] == "NextSong")["level"] = "premium"
            body = "".join(json.dumps(e) + "\n" for e in events).encode()
        client.put_object(Bucket=LAKE_BUCKET, Key=f"sample/{relative}", Body=body)
    conn = {"conn_type": "aws", "login": "testing", "password": "testing", "extra": {"endpoint_url": endpoint, "region_name": "us-east-1"}}
    yield client, json.dumps(conn)
    server.stop()


@pytest.fixture(scope="module")
def cluster(tcp_warehouse, s3):
    """`make airflow EXECUTOR=celery WORKERS=2`, then the three days triggered through the REST API."""
    from sparkify.local import embedded

    client, aws_conn = s3
    reset_warehouse(tcp_warehouse)
    embedded.ensure_database(tcp_warehouse, "airflow_cluster")
    os.environ.pop("AIRFLOW_CONN_SPARKIFY_WAREHOUSE", None)
    home = SESSION_DIR / "cluster"
    env = dict(
        os.environ,
        AIRFLOW_CONN_SPARKIFY_WAREHOUSE=tcp_warehouse.connection_json(),
        AIRFLOW_CONN_AWS_DEFAULT=aws_conn,
        AIRFLOW_VAR_SPARKIFY_DOCS=f"s3://{DOCS_BUCKET}/site",
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=(
            f"postgresql+psycopg2://postgres:{tcp_warehouse.password}@127.0.0.1:{tcp_warehouse.port}/airflow_cluster"
        ),
    )
    airflow = RunningAirflow(lake=f"s3://{LAKE_BUCKET}/sample", home=home, env=env, executor="celery", workers=2)
    try:
        runs = {day: f"cluster_{day}" for day in DAYS}
        for day, run_id in runs.items():
            airflow.trigger(day, run_id)
        states, tasks = {}, {}
        for day, run_id in runs.items():
            try:
                run, tasks[day] = airflow.wait(run_id, timeout=900)
            except TimeoutError as err:
                raise AssertionError(f"{err}; workers: {_tails(home)}") from None
            states[day] = run["state"]
        yield {"base": airflow.base, "token": airflow.token, "runs": runs, "states": states, "tasks": tasks, "home": home, "s3": client}
    finally:
        airflow.stop()


def _tails(home) -> str:
    return " | ".join(p.read_text()[-800:] for p in sorted(home.glob("workers/*/worker.log")))


def test_the_days_ran_and_the_bad_day_failed_its_check(cluster):
    assert cluster["states"] == {"2018-11-10": "success", BAD_DAY: "failed", "2018-11-12": "success"}
    bad = {t["task_id"]: t["state"] for t in cluster["tasks"][BAD_DAY]}
    assert bad["validate_staging_events"] == "failed" and bad["publish_day"] == "upstream_failed"
    assert bad["publish_data_docs"] == "success"


def test_tasks_ran_on_both_workers(cluster):
    ran = {}
    for name in ("worker1", "worker2"):
        logs = cluster["home"] / "workers" / name / "logs"
        ran[name] = {p.parent.name.removeprefix("task_id=") for p in logs.rglob("attempt=*.log")}
    assert ran["worker1"] and ran["worker2"], ran
    # Every task that ran on a worker (a hostname), not EmptyOperator's `end` nor request_review on a
    # day not held, which the scheduler marks done or skipped on no worker.
    every = {
        t["task_id"] for tasks in cluster["tasks"].values() for t in tasks
        if t["start_date"] and t["hostname"] and t["state"] in ("success", "failed", "skipped") and t["operator"] != "EmptyOperator"
    }  # fmt: skip
    assert "request_review" not in every  # it runs only after a held day's skipped publish_day
    assert ran["worker1"] | ran["worker2"] == every


def test_validation_task_processes_inherit_gx_from_the_warm_worker(cluster):
    """sparkify.warm imports GX in each Celery worker before its pool forks: no validation task
    process imports it again (each says so in its log)."""
    logs = sorted(p for w in ("worker1", "worker2") for p in (cluster["home"] / "workers" / w / "logs").rglob("attempt=*.log")
                  if p.parent.name.startswith("task_id=validate_"))  # fmt: skip
    assert len(logs) == ALL + 6 + ALL
    for path in logs:
        text = path.read_text()
        assert "Great Expectations: preloaded by the worker process" in text, path
        assert "imported by this task process" not in text, path


def test_every_extra_link_returns_its_own_page_through_the_api_server(cluster):
    base, token = cluster["base"], cluster["token"]
    checked = 0
    for day, run_id in cluster["runs"].items():
        for task in cluster["tasks"][day]:
            if not task["task_id"].startswith("validate_") or task["state"] not in ("success", "failed"):
                continue
            links = api(base, token, f"/dags/sparkify/dagRuns/{run_id}/taskInstances/{task['task_id']}/links")
            url = links["extra_links"]["Data Docs"]
            suite = task["task_id"].removeprefix("validate_")
            assert url.startswith(f"{base}/sparkify-docs/validations/{suite}/{run_id}/"), url
            status, page = fetch(url, token)
            assert status == 200, (url, page[:300])
            assert suite in page
            if task["state"] == "failed":
                assert "premium" in page and "Failed" in page  # the failed day's page shows the failure
            checked += 1
    assert checked == ALL + 6 + ALL


def test_the_published_index_lists_every_validation_of_every_run(cluster, tcp_warehouse):
    client = cluster["s3"]
    index = client.get_object(Bucket=DOCS_BUCKET, Key="site/index.html")["Body"].read().decode()
    listed = {unquote(link) for link in re.findall(r"'_table_row_link_path': '(validations/[^']+\.html)'", index)}
    stored = {page for (page,) in execute(tcp_warehouse, "select data_docs_page from dq.validation_results")}
    assert len(stored) == ALL + 6 + ALL and listed == stored
    keys = {item["Key"] for item in client.list_objects_v2(Bucket=DOCS_BUCKET, Prefix="site/validations/")["Contents"]}
    assert {f"site/{page}" for page in stored} <= keys
    # Nothing of it on the API server's side: the project's own site folder was never written.
    assert not (cluster["home"] / "data_docs").exists()
