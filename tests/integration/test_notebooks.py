"""The notebooks in gx/notebooks/, executed headlessly (nbclient, the venv's ipykernel) against
the test warehouse after real DAG runs: one good day and one whose staging check fails."""

from __future__ import annotations

import json
import os
import shutil

import nbformat
import pytest
from nbclient import NotebookClient

from sparkify.local.generator import generate
from sparkify.settings import gx_dir
from tests.integration.helpers import reset_warehouse, run_pipeline
from tests.session import ROOT, SESSION_DIR

NOTEBOOKS = ROOT / "gx" / "notebooks"
GOOD_DAY, SECOND_DAY, BAD_DAY = "2018-11-01", "2018-11-02", "2018-11-03"


def execute(name: str, parameters: dict, env: dict[str, str] | None = None) -> nbformat.NotebookNode:
    """Run a notebook with parameters injected after its `parameters` cell (as papermill does)."""
    notebook = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    at = next(i for i, cell in enumerate(notebook.cells) if "parameters" in cell.metadata.get("tags", []))
    overrides = "\n".join(f"{key} = {value!r}" for key, value in parameters.items())
    notebook.cells.insert(at + 1, nbformat.v4.new_code_cell(overrides))
    # A cell's printed output reaches the client on IOPub after the cell's reply; nbclient waits 4 s
    # for it by default and then drops it with a warning. Under make test's load that lost outputs
    # the assertions read: wait longer, and fail loudly instead of reading a partial notebook.
    NotebookClient(
        notebook,
        timeout=300,
        iopub_timeout=120,
        raise_on_iopub_timeout=True,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    ).execute(env=env or dict(os.environ))
    return notebook


def output_text(notebook) -> str:
    parts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            parts.append(output.get("text", "") or output.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


@pytest.fixture(scope="module")
def warehouse_with_a_failure(socket_warehouse):
    lake = SESSION_DIR / "lake-notebooks"
    generate(lake, seed=5, songs=40, users=15, days=3, events=150)
    day_file = lake / "log_data" / "2018" / "11" / f"{BAD_DAY}-events.json"
    events = [json.loads(line) for line in day_file.read_text().splitlines()]
    next(e for e in events if e["page"] == "NextSong")["level"] = "premium"
    day_file.write_text("".join(json.dumps(e) + "\n" for e in events))
    reset_warehouse(socket_warehouse)
    code, summary = run_pipeline(socket_warehouse, lake, GOOD_DAY, BAD_DAY, fresh=False, tag="notebooks")
    assert code == 1 and [r["state"] for r in summary["runs"]] == ["success", "success", "failed"]
    return socket_warehouse


def test_notebooks_are_committed_without_outputs():
    for path in NOTEBOOKS.glob("*.ipynb"):
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, path


def test_author_suite_notebook_suggests_backtests_and_promotes_keeping_every_committed_check(warehouse_with_a_failure, tmp_path):
    """The notebook end to end on the live warehouse, promoting into a copy of gx/: the users
    suite keeps every committed expectation as it was, plus the reviewed ones."""
    gx_copy = tmp_path / "gx"
    shutil.copytree(gx_dir(), gx_copy, ignore=shutil.ignore_patterns("uncommitted", "drafts"))
    before = json.loads((gx_copy / "expectations" / "users.json").read_text())["expectations"]
    env = {**os.environ, "SPARKIFY_GX_DIR": str(gx_copy)}
    notebook = execute("author_suite", {"TABLE": "users", "DAYS": 30, "DRAFT": "users_reviewed", "PROMOTE": True}, env=env)
    text = output_text(notebook)
    # The failed day never reached users' validation (staging_events blocked it): no profile of it.
    assert f"users: 2 day(s) of evidence, {GOOD_DAY} to {SECOND_DAY}" in text and "left out" not in text
    assert "[already committed]" in text and "no bounds for first_name: sensitive" in text
    assert "users_reviewed on users: 2 day(s)" in text
    assert "against the committed suite 'users'" in text and "written" in text
    after = json.loads((gx_copy / "expectations" / "users.json").read_text())["expectations"]
    assert after[: len(before)] == before  # every committed expectation, unchanged and in place
    added = after[len(before) :]
    gender = next(e for e in added if e["type"] == "expect_column_values_to_be_in_set" and e["kwargs"]["column"] == "gender")
    assert gender["severity"] == "critical" and gender["meta"]["evidence"]["days"] == 2  # the review's edit
    assert all(e["severity"] == "warning" for e in added if e is not gender)
    assert not any(e["type"] == "expect_table_row_count_to_be_between" for e in added)  # dropped in review
    assert "GxDatasourceWarning" not in text and "unexpected_rows_query should contain" not in text


def test_explore_failure_notebook_finds_the_offending_rows(warehouse_with_a_failure):
    notebook = execute("explore_failure", {"SUITE": "staging_events", "RUN_NAME": None, "DAY": BAD_DAY})
    text = output_text(notebook)
    assert "reading the unpublished run schema wap_20181103" in text  # the failed day was kept, not published
    assert "- expect_column_values_to_be_in_set level (severity critical)" in text
    assert "sample: ['premium']" in text
    assert "expect_column_values_to_be_in_set: 1 offending row(s)" in text
    assert "premium" in text.split("offending row(s)", 1)[1]  # the row itself is shown


def test_rendered_tables_show_lake_values_as_text():
    """explore_failure displays the offending rows as DataFrames: their HTML shows markup as text."""
    import pandas as pd

    from tests.integration.helpers import PAYLOADS

    frame = pd.DataFrame({"level": list(PAYLOADS.values())})
    rendered = frame._repr_html_()
    for payload in PAYLOADS.values():
        assert payload not in rendered
    assert "&lt;img src=x onerror=" in rendered and "&lt;/script&gt;&lt;script&gt;" in rendered
