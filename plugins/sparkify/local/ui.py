"""make airflow: the Airflow 3 UI on localhost, over the embedded warehouse and a lake.

Starts the four Airflow components (api-server, scheduler, dag-processor, and the triggerer that
runs wait_for_events while it waits) from this project's
venv, with the warehouse connection and the lake Variable in their environment, the DAG unpaused
and ready to trigger, and prints the URL and the login. Ctrl-C stops them all.

With ``executor="celery"`` it starts the distributed shape instead of LocalExecutor: a Redis
broker, the metadata database on PostgreSQL and ``workers`` Celery workers, each from its own
copy of the project (sparkify.local.celery_shape).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from sparkify.local.airflow_home import UI_PID_FILE, airflow_env, airflow_home, ensure_airflow_db, ensure_warehouse, lineage_line
from sparkify.settings import DAG_ID, LAKE_DEFAULT_ENV, LAKE_VARIABLE, REVIEW_REQUESTS_ENV, project_root

COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
EXECUTORS = ("local", "celery")
USER = "admin"


def fernet_key(home: Path) -> str:
    """The home's Fernet key (home/fernet.key), which every component gets: left to Airflow, the
    components started at once into a new home each wrote its own airflow.cfg key or read none,
    and the triggerer could not read what the scheduler encrypted (a deadline's callback). A home
    made before keeps the key its airflow.cfg already holds, so its stored secrets stay readable."""
    import configparser

    from cryptography.fernet import Fernet

    path = home / "fernet.key"
    if not path.exists():
        cfg = configparser.ConfigParser(interpolation=None)
        cfg.read(home / "airflow.cfg")
        existing = cfg.get("core", "fernet_key", fallback="").strip()
        home.mkdir(parents=True, exist_ok=True)
        path.write_text(existing or Fernet.generate_key().decode())
        path.chmod(0o600)
    return path.read_text().strip()


def ui_env(lake: str, port: int, warehouse_conn: str, executor: str = "local") -> dict[str, str]:
    """The environment of every Airflow component started by make airflow. The lake is a default
    (SPARKIFY_LAKE_DEFAULT), not the Variable: a value set in Admin > Variables wins over it, as
    does an AIRFLOW_VAR_SPARKIFY_LAKE the caller exported."""
    env = dict(os.environ)
    env.update(airflow_env(warehouse_conn=warehouse_conn))
    env[LAKE_DEFAULT_ENV] = lake
    # A scheduler asks a person about each held day: an "off" left by make run in this process's
    # environment (an in-process run, as tests do) must not reach its components.
    env.pop(REVIEW_REQUESTS_ENV, None)
    # A caller's (a test's) Airflow home wins over the project's .airflow/.
    home = Path(os.environ.get("AIRFLOW_HOME") or airflow_home())
    env["AIRFLOW_HOME"] = str(home)
    bin_dir = str(Path(sys.executable).parent)
    env.update(
        {
            # The venv's airflow and python, whether or not the venv is activated.
            "PATH": os.pathsep.join([bin_dir, env.get("PATH", "")]),
            # Both executors' worker processes import GX once, before forking task processes (sparkify.warm).
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor" if executor == "celery" else "sparkify.warm.WarmLocalExecutor",
            "AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS": "sparkify.warm.CELERY_CONFIG",
            # Workers on other machines (Celery) reach the API server and verify its tokens.
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://localhost:{port}/execution/",
            "AIRFLOW__API_AUTH__JWT_SECRET": env.get("AIRFLOW__API_AUTH__JWT_SECRET") or secrets.token_urlsafe(32),
            "AIRFLOW__CORE__FERNET_KEY": env.get("AIRFLOW__CORE__FERNET_KEY") or fernet_key(home),
            "AIRFLOW__CORE__PARALLELISM": env.get("AIRFLOW__CORE__PARALLELISM", "4"),
            "AIRFLOW__CORE__AUTH_MANAGER": "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USER}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__BASE_URL": f"http://localhost:{port}",
            # Only triggered runs and backfills run: the sample lake holds November 2018, so the
            # schedule's own runs (yesterday's interval) would have no data. See README.
            "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        }
    )
    return env


def password(home: Path) -> str:
    """The admin password: generated once per Airflow home and kept in its passwords.json."""
    path = home / "passwords.json"
    if path.is_file():
        stored = json.loads(path.read_text())
        if stored.get(USER):
            return stored[USER]
    home.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(12)
    path.write_text(json.dumps({USER: value}))
    path.chmod(0o600)
    return value


def wait_until_ready(base_url: str, processes: dict[str, subprocess.Popen], logs: Path, timeout: float = 240) -> None:
    """Wait for the API server's health endpoint and the DAG in the database."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for name, process in processes.items():
            if process.poll() is not None:
                raise RuntimeError(f"airflow {name} exited with status {process.returncode}; see {logs / (name + '.log')}")
        try:
            with urllib.request.urlopen(f"{base_url}/api/v2/monitor/health", timeout=2) as response:
                health = json.loads(response.read())
            if all(health.get(part, {}).get("status") == "healthy" for part in ("scheduler", "dag_processor", "triggerer")):
                return
        except (OSError, ValueError):
            pass
        time.sleep(1)
    raise TimeoutError(f"Airflow did not become healthy at {base_url} within {timeout:.0f}s; logs in {logs}")


def lake_line(env: dict[str, str]) -> str:
    """Where the runs' lake comes from, for the start-up message."""
    exported = env.get(f"AIRFLOW_VAR_{LAKE_VARIABLE.upper()}")
    if exported:
        return f"{exported} (AIRFLOW_VAR_{LAKE_VARIABLE.upper()} in your environment: it wins over Admin > Variables)"
    return f"{env[LAKE_DEFAULT_ENV]} (the default: the Variable {LAKE_VARIABLE}, set in Admin > Variables, wins over it)"


def unpause(env: dict[str, str]) -> None:
    """Unpause the DAG if an earlier make run left it paused (only triggered runs run anyway)."""
    subprocess.run(["airflow", "dags", "unpause", DAG_ID], env=env, capture_output=True, text=True)


def start(lake: str, port: int, executor: str = "local", workers: int = 2) -> tuple[dict[str, subprocess.Popen], dict[str, str]]:
    """Start the components in the background; returns them and their environment."""
    from sparkify.local import celery_shape

    if executor not in EXECUTORS:
        raise ValueError(f"executor={executor!r} is not one of {', '.join(EXECUTORS)}.")
    lake_root = lake if "://" in lake else str(Path(lake).expanduser().resolve())
    env = ui_env(lake_root, port, ensure_warehouse(), executor)
    home = Path(env["AIRFLOW_HOME"])
    password(home)
    processes: dict[str, subprocess.Popen] = {}
    if executor == "celery":
        if not env.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"):
            from sparkify.local import embedded
            from sparkify.local.airflow_home import warehouse_dir

            env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = celery_shape.metadata_url(embedded.start(warehouse_dir() / "pgdata"))
        processes["redis"], broker = celery_shape.start_redis(home / "redis")
        env["AIRFLOW__CELERY__BROKER_URL"] = broker
        env["AIRFLOW__CELERY__RESULT_BACKEND"] = "db+" + env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    os.environ.update({k: v for k, v in env.items() if k.startswith("AIRFLOW")})
    ensure_airflow_db()
    logs = home / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    for name in COMPONENTS:
        with open(logs / f"{name}.log", "ab") as out:
            processes[name] = subprocess.Popen(
                ["airflow", name], env=env, stdout=out, stderr=subprocess.STDOUT, cwd=project_root(), start_new_session=True
            )
    if executor == "celery":
        for number in range(1, workers + 1):
            name = f"worker{number}"
            root = celery_shape.worker_copy(project_root(), home, name)
            processes[name] = celery_shape.start_worker(celery_shape.worker_env(env, root, name, concurrency=2), root, name)
    return processes, env


def stop(processes: dict[str, subprocess.Popen], grace: float = 20) -> None:
    """SIGTERM every component's process group, give them ``grace`` seconds in all, then SIGKILL
    what is left of each group (task processes of the LocalExecutor included)."""
    for process in processes.values():
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for process in processes.values():
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
    for process in processes.values():
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _workers_line(processes: dict[str, subprocess.Popen], home: Path) -> str:
    workers = sorted(name for name in processes if name.startswith("worker"))
    return f", {len(workers)} Celery workers in {home / 'workers'}" if workers else ""


def watch(processes: dict[str, subprocess.Popen], env: dict[str, str], home: Path) -> int:
    """Keep the cluster up the way its machines' service managers would: the broker (Redis) is
    started again on its port when it exits; a Celery worker that exits stays gone (a lost
    machine: the others go on, and the scheduler retries its tasks once their heartbeats stop);
    an Airflow component that exits stops everything (exit status 1)."""
    from sparkify.local import celery_shape

    lost: set[str] = set()
    while True:
        for name, process in list(processes.items()):
            if process.poll() is None or name in lost:
                continue
            if name == "redis":
                port = int(env["AIRFLOW__CELERY__BROKER_URL"].rsplit(":", 1)[1].split("/")[0])
                processes[name], _ = celery_shape.start_redis(home / "redis", port=port)
                print(f"The broker (redis) exited with status {process.returncode}; started again on port {port}.", flush=True)
            elif name.startswith("worker"):
                lost.add(name)
                print(
                    f"Celery {name} exited with status {process.returncode}; the other workers go on "
                    "(its running tasks are retried once the scheduler misses their heartbeats).",
                    flush=True,
                )
            else:
                print(f"airflow {name} stopped; see {home / 'logs'}", flush=True)
                return 1
        time.sleep(1)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def main(lake: str, port: int, executor: str = "local", workers: int = 2) -> int:
    # Ctrl-C or a TERM signal stops everything, also when started where SIGINT is ignored
    # (a background job of a non-interactive shell, or a child of one).
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    processes, env = start(lake, port, executor, workers)
    home = Path(env["AIRFLOW_HOME"])
    (home / UI_PID_FILE).write_text(str(os.getpid()))  # make run refuses to share this home's scheduler
    base_url = env["AIRFLOW__API__BASE_URL"]
    try:
        print(f"Starting Airflow ({', '.join(processes)}); logs in {home / 'logs'} ...", flush=True)
        wait_until_ready(base_url, processes, home / "logs")
        unpause(env)
        print(
            f"""
Airflow is ready:  {base_url}
  login:           {USER} / {password(home)}   (kept in {home / "passwords.json"})
  DAG:             {DAG_ID}, lake {lake_line(env)}
  trigger a day:   Trigger -> "Logical date" in November 2018 (the lake's days)
  Data Docs:       {base_url}/plugin/data-docs  (menu Browse -> Data Docs)
  executor:        {env["AIRFLOW__CORE__EXECUTOR"]}{_workers_line(processes, home)}
  OpenLineage:     {lineage_line(env)}
Ctrl-C stops Airflow; `make warehouse-stop` stops the embedded PostgreSQL.
""",
            flush=True,
        )
        return watch(processes, env, home)
    except KeyboardInterrupt:
        return 0
    finally:
        (home / UI_PID_FILE).unlink(missing_ok=True)
        stop(processes)
