"""`make notebook` starts JupyterLab for root and non-root users alike; a notebook opens through the
server's API; the server stops."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.request

from tests.session import ROOT, SESSION_DIR


def port_outside_the_ephemeral_range() -> int:
    """A free port below Linux's ephemeral range (32768 and up). A port probed with bind(0) comes
    from that range and is free only until released: a kernel that another test file starts in
    the seconds before JupyterLab binds may take it (seen once in make test: JupyterLab unreachable
    and that kernel's output lost). Kernels' own ports come from the ephemeral range."""
    import random

    for port in random.sample(range(20000, 32000), 200):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port between 20000 and 32000")


def test_make_notebook_serves_the_project_notebooks():
    port = port_outside_the_ephemeral_range()
    log = open(SESSION_DIR / "make-notebook.log", "w+")
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(SESSION_DIR / "jupyter-runtime"))
    process = subprocess.Popen(
        ["make", "-s", "notebook", f"NOTEBOOK_PORT={port}"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 180
        while not (found := re.search(rf"http://(?:127\.0\.0\.1|localhost):{port}/lab\?token=(\w+)", open(log.name).read())):
            assert process.poll() is None, open(log.name).read()[-3000:]  # as root, exits without --allow-root
            assert time.monotonic() < deadline, open(log.name).read()[-3000:]
            time.sleep(0.5)
        token = found.group(1)
        url = f"http://127.0.0.1:{port}/api/contents/explore_failure.ipynb?token={token}"
        with urllib.request.urlopen(url, timeout=30) as response:
            notebook = json.loads(response.read())
        assert notebook["type"] == "notebook" and notebook["name"] == "explore_failure.ipynb"
        assert any("latest_failed" in "".join(cell["source"]) for cell in notebook["content"]["cells"])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/kernelspecs?token={token}", timeout=30) as response:
            assert "python3" in json.loads(response.read())["kernelspecs"]
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)
        log.close()
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0  # stopped
