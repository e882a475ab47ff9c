"""The project's GX File Data Context, its datasource pointed at an Airflow connection.

The GX project is the committed File Data Context in gx/, read-only at run time: each process
works on its own private copy of it (suites, checkpoints, the config), so nothing a task does
writes a file another task or machine reads; results go to the shared store in the warehouse
(quality.store). Only authoring (the notebooks) opens gx/ itself. The warehouse URL reaches GX
only through the ${SPARKIFY_WAREHOUSE_URL} substitution in great_expectations.yml, given to the
context as its runtime environment (never written to the process's environment).
"""

from __future__ import annotations

import atexit
import json
import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any

from sparkify.names import check_run_schema
from sparkify.settings import gx_dir
from sparkify.warehouse.connection import get_connection, sqlalchemy_url

URL_VARIABLE = "SPARKIFY_WAREHOUSE_URL"  # the substitution great_expectations.yml's datasource reads
SITE_NAME = "local_site"

# The result format a task's checkpoint runs with: pass or fail per expectation and nothing else
# (no metric beyond the one that decides it). Expectations that fail are then computed again with
# the committed checkpoint's own format (counts, unexpected values and their rows), so every
# failure keeps its full report; passing ones report their outcome. Measured on 200,000 events
# (make bench's validation step): the committed format 7.8 s for the 9 suites, this one 4.9 s.
PASS_FAIL_FORMAT = {"result_format": "BOOLEAN_ONLY"}

# One context per process, connection URL and project (see context()).
_contexts: dict[tuple[str, str, str], Any] = {}
_private_root: list[Path] = []


def private_project() -> Path:
    """This process's own copy of the committed GX project (made once, removed at exit); its
    checkpoints run with PASS_FAIL_FORMAT (see run.detail_failures)."""
    if not _private_root:
        folder = Path(tempfile.mkdtemp(prefix="sparkify-gx-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        shutil.copytree(gx_dir(), folder / "gx", ignore=shutil.ignore_patterns("uncommitted", "drafts", "notebooks", ".ipynb_checkpoints"))
        for path in (folder / "gx" / "checkpoints").glob("*.json"):
            config = json.loads(path.read_text())
            config["result_format"] = PASS_FAIL_FORMAT
            path.write_text(json.dumps(config, indent=2))
        _apply_history_severity(folder / "gx")
        _private_root.append(folder / "gx")
    return _private_root[0]


def _apply_history_severity(root: Path) -> None:
    """The copy's history suite takes each metric's severity from gx/history.toml (checks.history)."""
    from sparkify.quality.checks import history

    path = root / "expectations" / "history.json"
    if path.is_file():
        settings = history.load(gx_dir())
        suite = history.apply_severity(json.loads(path.read_text()), settings, path=str(gx_dir() / "expectations" / "history.json"))
        path.write_text(json.dumps(suite, indent=1))


def context(conn_id: str, *, schema: str | None = None, authoring: bool = False):
    """The GX File Data Context of the project, its datasource pointed at the connection.

    With ``schema`` (a run's schema), the datasource's tables resolve to that run's copies. Tasks
    get this process's private copy of gx/; ``authoring=True`` (notebooks) opens gx/ itself, so
    that saved suites land in the committed project.
    """
    if schema is not None:
        check_run_schema(schema)
    url = sqlalchemy_url(get_connection(conn_id), search_path=schema)
    import great_expectations as gx

    root = str(gx_dir() if authoring else private_project())
    # Task processes are short-lived, and an in-process runner (dags test) reuses the context
    # across the tasks of one run schema; a new URL or project replaces it.
    key = (conn_id, url, root)
    if key not in _contexts:
        # GX logs an INFO line per expectation and field ("_get_default_value called with key ...").
        logging.getLogger("great_expectations").setLevel(logging.WARNING)
        _contexts.clear()
        _contexts[key] = gx.get_context(mode="file", context_root_dir=root, runtime_environment={URL_VARIABLE: url})
    return _contexts[key]


def site_dir(ctx) -> Path:
    """Folder of the locally built Data Docs site."""
    base = ctx.variables.data_docs_sites[SITE_NAME]["store_backend"]["base_directory"]
    return Path(ctx.root_directory) / base
