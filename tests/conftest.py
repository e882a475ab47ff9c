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


def pytest_sessionfinish(session, exitstatus):
    """Remove the session folder (servers are stopped by their fixtures before this runs)."""
    if not os.environ.get("SPARKIFY_KEEP_TEST_DIR"):
        shutil.rmtree(SESSION_DIR, ignore_errors=True)
