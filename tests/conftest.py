"""Test session set-up: Airflow, GX and build output go to a temporary folder, never the repo's.

Set before Airflow is imported anywhere in the session, so every test sees the same settings.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _sample_lake() -> Path:
    """The shared public sample (never copied into the repo): SPARKIFY_SAMPLE_LAKE, else
    shared/data/udacity-sample beside the checkout, a parent of it, or the repository it was cloned from."""
    if os.environ.get("SPARKIFY_SAMPLE_LAKE"):
        return Path(os.environ["SPARKIFY_SAMPLE_LAKE"]).resolve()
    places = list(ROOT.parents)
    # A clone made elsewhere (mktemp -d) of a checkout that sits beside shared/.
    origin = subprocess.run(["git", "-C", str(ROOT), "remote", "get-url", "origin"], capture_output=True, text=True)
    if origin.returncode == 0 and Path(origin.stdout.strip()).is_dir():
        places += [Path(origin.stdout.strip()).resolve(), *Path(origin.stdout.strip()).resolve().parents]
    for parent in places:
        candidate = parent / "shared" / "data" / "udacity-sample"
        if candidate.is_dir():
            return candidate
    return (ROOT / ".." / "shared" / "data" / "udacity-sample").resolve()


SAMPLE_LAKE = _sample_lake()
SESSION_DIR = Path(tempfile.mkdtemp(prefix="sparkify-tests-"))

sys.path.insert(0, str(ROOT / "plugins"))
_gx_copy = SESSION_DIR / "gx"
shutil.copytree(ROOT / "gx", _gx_copy, ignore=shutil.ignore_patterns("uncommitted"))
os.environ.update(
    {
        "AIRFLOW_HOME": str(SESSION_DIR / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "SPARKIFY_GX_DIR": str(_gx_copy),
        "SPARKIFY_BUILD_DIR": str(SESSION_DIR / "build"),
        "AIRFLOW_VAR_SPARKIFY_DOCS": str(SESSION_DIR / "published_docs"),
        "PYTHONPATH": os.pathsep.join([str(ROOT / "plugins"), os.environ.get("PYTHONPATH", "")]),
    }
)
for name in list(os.environ):
    if name.startswith("AIRFLOW_CONN_") or name == "AIRFLOW_VAR_SPARKIFY_LAKE":
        del os.environ[name]


TEST_PASSWORD = "Sp4rk-test-pw-7f3a"


@pytest.fixture(scope="session")
def socket_warehouse():
    """Embedded PostgreSQL on a Unix socket only (the make demo shape)."""
    from sparkify import embedded

    server = embedded.start(SESSION_DIR / "pg-socket")
    yield server
    embedded.stop(server.pgdata)


@pytest.fixture(scope="session")
def tcp_warehouse():
    """A second server reached by host, port and password (the shape of a remote server)."""
    import socket

    from sparkify import embedded

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = embedded.start(SESSION_DIR / "pg-tcp", tcp_port=port, password=TEST_PASSWORD)
    yield server
    embedded.stop(server.pgdata)


def pytest_sessionfinish(session, exitstatus):
    """Remove the session folder (servers are stopped by their fixtures before this runs)."""
    if not os.environ.get("SPARKIFY_KEEP_TEST_DIR"):
        shutil.rmtree(SESSION_DIR, ignore_errors=True)
