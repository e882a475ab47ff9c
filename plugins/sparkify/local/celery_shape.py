"""The distributed shape on one machine (make airflow EXECUTOR=celery WORKERS=N).

What a real deployment (MWAA, Astronomer, the Helm chart) splits across machines: a Redis broker,
the metadata database on PostgreSQL (a database of the embedded server, beside the warehouse's),
and N Celery workers. Each worker starts from its own copy of the project (dags/, plugins/, sql/,
gx/) with its own build/, Airflow home, logs and working directory, and imports the pipeline's
package from its copy, so the workers share with each other and with the API server only what
machines share: the warehouse, the metadata database, the broker, the lake and the docs location.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
from pathlib import Path

PROJECT_PARTS = ("dags", "plugins", "sql", "gx")
METADATA_DATABASE = "airflow"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_redis(folder: Path, port: int | None = None) -> tuple[subprocess.Popen, str]:
    """Debian's redis-server on a loopback port (a free one unless given), nothing persisted;
    (process, broker URL)."""
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not Path(binary).is_file():
        raise FileNotFoundError("redis-server is not installed: `make system-packages` installs Debian's redis-server (as root).")
    port = port or free_port()
    folder.mkdir(parents=True, exist_ok=True)
    log = open(folder / "redis.log", "ab")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(folder)],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return process, f"redis://127.0.0.1:{port}/0"


def metadata_url(server, database: str = METADATA_DATABASE) -> str:
    """SQLAlchemy URL of a metadata database on the embedded server (created if missing)."""
    from sparkify.local import embedded

    embedded.ensure_database(server, database)
    if server.tcp:
        return f"postgresql+psycopg2://postgres:{server.password}@127.0.0.1:{server.port}/{database}"
    return f"postgresql+psycopg2://postgres@/{database}?host={server.socket_dir}&port={server.port}"


def worker_copy(source: Path, home: Path, name: str) -> Path:
    """A fresh copy of the project for one worker (its gx/ without uncommitted/)."""
    root = home / "workers" / name
    project = root / "project"
    shutil.rmtree(root, ignore_errors=True)
    for part in PROJECT_PARTS:
        shutil.copytree(source / part, project / part, ignore=shutil.ignore_patterns("uncommitted", "__pycache__", "*.egg-info", "build"))
    (root / "cwd").mkdir(parents=True)
    return root


def worker_env(base: dict[str, str], root: Path, name: str, concurrency: int) -> dict[str, str]:
    """A worker's environment: the shared settings, and everything local pointed at its own copy."""
    project = root / "project"
    env = dict(base)
    env.update(
        {
            "AIRFLOW_HOME": str(root / "airflow"),
            "AIRFLOW__CORE__DAGS_FOLDER": str(project / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(project / "plugins"),
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(root / "logs"),
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(concurrency),
            # The worker imports the pipeline's package from its own copy, as a separate machine would.
            "PYTHONPATH": str(project / "plugins"),
            "SPARKIFY_HOME": str(project),
            "SPARKIFY_BUILD_DIR": str(root / "build"),
            "SPARKIFY_WORKER": name,
        }
    )
    env.pop("SPARKIFY_GX_DIR", None)
    return env


def start_worker(env: dict[str, str], root: Path, name: str) -> subprocess.Popen:
    (root / "airflow").mkdir(parents=True, exist_ok=True)
    log = open(root / "worker.log", "ab")
    return subprocess.Popen(
        ["airflow", "celery", "worker", "--celery-hostname", f"{name}@%h", "--without-mingle", "--without-gossip"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=root / "cwd",
        start_new_session=True,
    )
