"""Faults of the distributed shape: `make airflow EXECUTOR=celery WORKERS=2` (Redis broker, the
metadata database on its own PostgreSQL, two workers from their own copies of the project) losing
a part while days run. One cluster, four generated days, one after another:

1. a healthy day;
2. the broker is killed (no persistence: whatever it held is gone) and make airflow starts it
   again, as a service manager would; then a day is triggered;
3. the warehouse restarts while load_users writes;
4. the worker running load_users is killed with SIGKILL (its whole process group: a machine
   lost), with the scheduler's task heartbeat timeout lowered to 30 s for the test (and its
   queued timeout to 180 s, for a task the worker had taken but not started).

In the end every day is published and the tables equal a clean run's (make run's runner, day by
day) by checksum. The settings that make each case work, and a real cluster's values, are in
docs/deployment.md.
"""

from __future__ import annotations

import os
import shutil
import signal
import time
from pathlib import Path

import pytest

from sparkify.local import celery_shape, embedded
from sparkify.local.generator import generate
from sparkify.local.scheduler_day import RunningAirflow
from tests.integration.helpers import checksums, execute, on_run_table, reset_warehouse, run_pipeline
from tests.session import SESSION_DIR

DAYS = ("2018-11-01", "2018-11-02", "2018-11-03", "2018-11-04")
HEALTHY, AFTER_BROKER, WAREHOUSE_DAY, WORKER_DAY = DAYS
HEARTBEAT_TIMEOUT = 30

pytestmark = [
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="no redis-server: `make test` installs Debian's with apt as root"),
    pytest.mark.skipif(
        not __import__("importlib").util.find_spec("airflow.providers.celery"),
        reason="no Celery provider: `make test` installs requirements-celery.txt",
    ),
]

# load_users waits in the warehouse, inside its insert, until the test releases it: a row trigger
# on the run's users table that sleeps while public.fault_hold has a row.
HOLD = "begin while exists (select 1 from public.fault_hold) loop perform pg_sleep(0.2); end loop; return new; end"


@pytest.fixture(scope="module")
def lake():
    path = SESSION_DIR / "lake-cluster-faults"
    generate(path, seed=47, songs=40, users=15, days=len(DAYS), events=200)
    return path


@pytest.fixture(scope="module")
def clean(tcp_warehouse, lake):
    """Checksums of the four days run day by day by make run's runner."""
    reset_warehouse(tcp_warehouse)
    code, _ = run_pipeline(tcp_warehouse, lake, DAYS[0], DAYS[-1], fresh=False, tag="cluster-faults-clean")
    assert code == 0
    return checksums(tcp_warehouse)


class Cluster:
    """The running cluster and what the tests need of it: the REST API, its processes, its logs."""

    def __init__(self, airflow: RunningAirflow, home: Path, warehouse):
        self.airflow, self.home, self.warehouse = airflow, home, warehouse

    def task(self, run_id: str, task_id: str) -> dict:
        return self.airflow.api(f"/dags/sparkify/dagRuns/{run_id}/taskInstances/{task_id}")

    def wait_for_task(self, run_id: str, task_id: str, states: tuple[str, ...], timeout: float = 300) -> dict:
        deadline = time.monotonic() + timeout
        while (found := self.task(run_id, task_id))["state"] not in states:
            assert time.monotonic() < deadline, f"{run_id} {task_id} is {found['state']}, never {states}; {self.tails()}"
            time.sleep(0.5)
        return found

    def run(self, day: str) -> tuple[dict, dict[str, dict]]:
        run, tasks = self.airflow.wait(f"faults_{day}", timeout=900)
        return run, {t["task_id"]: t for t in tasks}

    def worker_logs(self, name: str, task_id: str) -> list[Path]:
        return sorted((self.home / "workers" / name / "logs").rglob(f"task_id={task_id}/attempt=*.log"))

    def tails(self) -> str:
        return " | ".join(
            f"{p.parent.name}: {p.read_text(errors='replace')[-1500:]}" for p in sorted(self.home.glob("workers/*/worker.log"))
        )


def _cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


def broker_process(home: Path) -> tuple[int, int]:
    """(pid, port) of the cluster's redis-server: the one working in <home>/redis (its --dir; it
    retitles its process "redis-server 127.0.0.1:PORT")."""
    folder = str((home / "redis").resolve())
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        args = _cmdline(int(entry.name))
        if not args or not args[0].split(" ")[0].endswith("redis-server"):
            continue
        try:
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        if cwd == folder:
            return int(entry.name), int(args[0].rsplit(":", 1)[1].split()[0])
    raise AssertionError(f"no redis-server working in {folder}")


def _broker_or_none(home: Path) -> tuple[int, int] | None:
    try:
        return broker_process(home)
    except AssertionError:
        return None


def _parent(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat[stat.rindex(")") + 2 :].split()[1])  # the field after the state


def _worker_name(pid: int) -> str | None:
    """The Celery worker a process belongs to, by its working directory: celery_shape starts each
    worker in <home>/workers/<name>/cwd, and its pool and task processes inherit that. (Neither the
    title nor /proc/<pid>/environ will do: the task process retitles itself, and setproctitle
    writes over the memory /proc/<pid>/environ shows.)"""
    try:
        cwd = Path(os.readlink(f"/proc/{pid}/cwd"))
    except OSError:
        return None
    return cwd.parent.name if cwd.name == "cwd" and cwd.parent.parent.name == "workers" else None


def worker_of(pid: int) -> tuple[str, set[int]]:
    """The Celery worker a task process belongs to: (its name, the process groups of the worker,
    its pool and the task). The worker runs in its own session; the task supervisor starts a
    group of its own below it, so the group of each process up to the worker's own is collected."""
    name = _worker_name(pid)
    assert name, f"process {pid} ({' '.join(_cmdline(pid))!r}) does not work in a Celery worker's folder"
    groups, current = set(), pid
    while current > 1 and _worker_name(current) == name:
        groups.add(os.getpgid(current))
        current = _parent(current)
    return name, groups


@pytest.fixture(scope="module")
def cluster(tcp_warehouse, lake, clean):
    reset_warehouse(tcp_warehouse)
    execute(tcp_warehouse, "create table public.fault_hold (reason text); select 1")
    on_run_table(tcp_warehouse, "users", "hold_users", HOLD)
    # The metadata database has its own server: the warehouse restarts in a test, the scheduler's
    # database does not.
    metadata = embedded.start(SESSION_DIR / "pg-cluster-metadata")
    os.environ.pop("AIRFLOW_CONN_SPARKIFY_WAREHOUSE", None)
    home = SESSION_DIR / "cluster-faults"
    env = dict(
        os.environ,
        AIRFLOW_CONN_SPARKIFY_WAREHOUSE=tcp_warehouse.connection_json(),
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=celery_shape.metadata_url(metadata),
        # Lowered for the test (default 300 s): how long a running task may go without a heartbeat
        # before the scheduler fails it (and retries it elsewhere).
        AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT=str(HEARTBEAT_TIMEOUT),
        AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL="5",
        # Lowered for the test (default 600 s, looked for every 120 s): a task the killed worker had
        # taken from the broker but not yet started stays queued this long before it is queued
        # again (up to 720 s with the defaults, which alone would take the test past its budget).
        AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT="180",
        AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT_CHECK_INTERVAL="15",
    )
    airflow = RunningAirflow(lake=str(lake), home=home, env=env, executor="celery", workers=2)
    found = Cluster(airflow, home, tcp_warehouse)
    try:
        yield found
    finally:
        airflow.stop()
        embedded.stop(metadata.pgdata)


def test_a_healthy_day_publishes_on_the_cluster(cluster):
    cluster.airflow.trigger(HEALTHY, f"faults_{HEALTHY}")
    run, _ = cluster.run(HEALTHY)
    assert run["state"] == "success", cluster.tails()


def test_after_the_broker_restarts_the_workers_reconnect_and_a_new_run_finishes(cluster):
    pid, port = broker_process(cluster.home)
    os.kill(pid, signal.SIGKILL)  # nothing persisted: the broker comes back empty
    deadline = time.monotonic() + 60
    while (again := _broker_or_none(cluster.home)) is None or again[0] == pid:
        assert time.monotonic() < deadline, "make airflow did not start the broker again"
        time.sleep(0.5)
    assert again[1] == port
    assert "The broker (redis) exited with status -9; started again on port" in cluster.airflow.log_path.read_text()
    cluster.airflow.trigger(AFTER_BROKER, f"faults_{AFTER_BROKER}")
    run, tasks = cluster.run(AFTER_BROKER)
    assert run["state"] == "success", cluster.tails()
    assert tasks["publish_day"]["try_number"] == 1
    for name in ("worker1", "worker2"):
        log = (cluster.home / "workers" / name / "worker.log").read_text(errors="replace")
        assert "Connection to broker lost" in log, (name, log[-2000:])
        assert "Connected to" in log[log.index("Connection to broker lost") :], (name, log[-2000:])  # the URL is masked: ***


def test_a_warehouse_restart_during_a_load_fails_it_as_retryable_and_its_retry_publishes(cluster):
    warehouse = cluster.warehouse
    execute(warehouse, "insert into public.fault_hold values ('warehouse restart'); select 1")
    before = checksums(warehouse)
    run_id = f"faults_{WAREHOUSE_DAY}"
    cluster.airflow.trigger(WAREHOUSE_DAY, run_id)
    cluster.wait_for_task(run_id, "load_users", ("running",))
    _wait_for_statement(warehouse, "insert into users")
    embedded.stop(warehouse.pgdata)  # fast shutdown: every session ends, the load's uncommitted insert too
    embedded.start(warehouse.pgdata, tcp_port=warehouse.port, password=warehouse.password, major=warehouse.major)
    execute(warehouse, "delete from public.fault_hold; select 1")
    retrying = cluster.wait_for_task(run_id, "load_users", ("up_for_retry", "failed", "success"))
    assert retrying["state"] == "up_for_retry", retrying
    assert checksums(warehouse) == before  # nothing of the day is published while it waits
    run, tasks = cluster.run(WAREHOUSE_DAY)
    assert run["state"] == "success", cluster.tails()
    assert tasks["load_users"]["try_number"] == 2 and tasks["publish_day"]["try_number"] == 1


def test_a_worker_killed_mid_task_is_noticed_and_the_task_is_retried_on_the_survivor(cluster, clean):
    warehouse = cluster.warehouse
    execute(warehouse, "insert into public.fault_hold values ('worker killed'); select 1")
    run_id = f"faults_{WORKER_DAY}"
    cluster.airflow.trigger(WORKER_DAY, run_id)
    running = cluster.wait_for_task(run_id, "load_users", ("running",))
    _wait_for_statement(warehouse, "insert into users")
    victim, groups = worker_of(running["pid"])
    for group in groups:  # the worker, its pool and the task: the machine is gone
        os.killpg(group, signal.SIGKILL)
    killed = time.monotonic()
    # The dead client's session ends once its statement does (released here; a real server notices
    # a lost machine through TCP keepalives), and its transaction rolls back.
    execute(warehouse, "delete from public.fault_hold; select 1")
    retrying = cluster.wait_for_task(run_id, "load_users", ("up_for_retry", "failed"), timeout=HEARTBEAT_TIMEOUT * 6)
    assert retrying["state"] == "up_for_retry", retrying
    noticed = time.monotonic() - killed
    assert noticed >= HEARTBEAT_TIMEOUT * 0.5, noticed  # by the missing heartbeats, not by a task that ended
    run, tasks = cluster.run(WORKER_DAY)
    assert run["state"] == "success", cluster.tails()
    assert tasks["load_users"]["try_number"] == 2
    survivor = "worker2" if victim == "worker1" else "worker1"
    assert [p.name for p in cluster.worker_logs(survivor, "load_users") if f"run_id={run_id}" in str(p)] == ["attempt=2.log"]
    # Every day published, and the tables are a clean run's.
    assert checksums(warehouse) == clean
    assert execute(warehouse, "select count(*) from information_schema.schemata where schema_name like 'wap%%'")[0][0] == 0


def _wait_for_statement(server, start: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not execute(
        server,
        "select 1 from pg_stat_activity where application_name = 'sparkify' and state = 'active' and query ilike %s",
        (start + "%",),
    ):
        assert time.monotonic() < deadline, f"no pipeline session ran {start!r} within {timeout}s"
        time.sleep(0.3)
