"""Pytest set-up: the session's settings (tests/session.py) and the warehouse fixtures."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.session import SESSION_DIR, TEST_PASSWORD


@pytest.fixture(scope="session")
def socket_warehouse():
    """Embedded PostgreSQL on a Unix socket only (the make demo shape)."""
    from sparkify.local import embedded

    server = embedded.start(SESSION_DIR / "pg-socket")
    yield server
    embedded.stop(server.pgdata)


@pytest.fixture(scope="session")
def tcp_warehouse():
    """A second server reached by host, port and password (the shape of a remote server)."""
    import socket

    from sparkify.local import embedded

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = embedded.start(SESSION_DIR / "pg-tcp", tcp_port=port, password=TEST_PASSWORD)
    yield server
    embedded.stop(server.pgdata)


# Tiers, from the folder a test sits in; test_celery_cluster.py and test_cluster_faults.py are the cluster tier.
TIERS = {"unit": "unit", "dags": "dags", "integration": "integration", "browser": "browser"}
CLUSTER_FILES = {"test_celery_cluster.py", "test_cluster_faults.py"}
# Seconds per file on the 2-core machine, summed from make test's --durations (2026-12-01): the heaviest
# files go first, so
# that pytest-xdist's file-by-file scheduling (--dist loadfile) does not leave one long file for last.
COST = {
    "test_sample_month.py": 800,
    "test_faults.py": 390,
    "test_history_checks.py": 480,  # 2026-12-07: the month, then authoring's 14 more days
    "test_bad_input.py": 390,
    "test_celery_cluster.py": 200,
    "test_cluster_faults.py": 400,
    "test_bench.py": 200,
    "test_shared_results.py": 200,
    "test_warehouse_matrix.py": 170,
    "test_airflow_ui.py": 170,  # 2026-12-07: the round trip and the UI-set Variable
    "test_s3.py": 80,
    "test_review_ui.py": 150,  # 2026-12-07: make airflow, a 10-day backfill with 2 held days, decided in the browser and by make review
    "test_validation_failures.py": 75,
    "test_run_output.py": 70,
    "test_authorization.py": 50,
    "test_notebooks.py": 50,
    "test_catalog_manifest.py": 40,
    "test_airflow_cli.py": 60,
    "test_alerts.py": 35,
    "test_openlineage.py": 40,
}


def tier(path) -> str:
    if path.name in CLUSTER_FILES:
        return "cluster"
    return next((TIERS[part] for part in path.parts if part in TIERS), "unit")


def pytest_collection_modifyitems(session, config, items):
    """Mark each test with its tier, and put the heaviest files first (stable within a file)."""
    for item in items:
        item.add_marker(getattr(pytest.mark, tier(item.path)))
    position = {item: n for n, item in enumerate(items)}
    items.sort(key=lambda item: (-COST.get(item.path.name, 30 if tier(item.path) != "unit" else 0), position[item]))


def pytest_sessionfinish(session, exitstatus):
    """Remove the session folder (servers are stopped by their fixtures before this runs)."""
    if not os.environ.get("SPARKIFY_KEEP_TEST_DIR"):
        shutil.rmtree(SESSION_DIR, ignore_errors=True)
