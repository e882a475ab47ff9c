"""The notebooks in gx/notebooks/, executed headlessly (nbclient, the venv's ipykernel) against
the test warehouse after real DAG runs: one good day and one whose staging check fails."""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from sparkify.local.generator import generate
from sparkify.names import suites
from sparkify.settings import gx_dir
from tests.integration.helpers import reset_warehouse, run_pipeline
from tests.session import ROOT, SESSION_DIR

NOTEBOOKS = ROOT / "gx" / "notebooks"
GOOD_DAY, BAD_DAY = "2018-11-01", "2018-11-02"


def execute(name: str, parameters: dict) -> nbformat.NotebookNode:
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
    ).execute()
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
    generate(lake, seed=5, songs=40, users=15, days=2, events=150)
    day_file = lake / "log_data" / "2018" / "11" / f"{BAD_DAY}-events.json"
    events = [json.loads(line) for line in day_file.read_text().splitlines()]
    next(e for e in events if e["page"] == "NextSong")["level"] = "premium"
    day_file.write_text("".join(json.dumps(e) + "\n" for e in events))
    reset_warehouse(socket_warehouse)
    code, summary = run_pipeline(socket_warehouse, lake, GOOD_DAY, BAD_DAY, fresh=False, tag="notebooks")
    assert code == 1 and [r["state"] for r in summary["runs"]] == ["success", "failed"]
    return socket_warehouse


def test_notebooks_are_committed_without_outputs():
    for path in NOTEBOOKS.glob("*.ipynb"):
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, path


def test_author_suite_notebook_saves_suites_results_and_docs(warehouse_with_a_failure):
    users_suite, fact_suite = "users_draft_test", "songplays_day_draft_test"
    notebook = execute("author_suite", {"USERS_SUITE": users_suite, "FACT_SUITE": fact_suite, "DAY": GOOD_DAY})
    text = output_text(notebook)
    assert "users suite passes: True" in text
    assert f"{GOOD_DAY}: 4 expectations, success=True" in text
    assert f"stored results: {{'{users_suite}': True, '{fact_suite}': True}}" in text

    users = json.loads((gx_dir() / "expectations" / f"{users_suite}.json").read_text())
    by_type = {(e["type"], e["kwargs"]["column"]): e for e in users["expectations"]}
    assert len(users["expectations"]) == 4
    edited = by_type[("expect_column_values_to_be_in_set", "gender")]
    assert edited["kwargs"]["value_set"] == ["F", "M"] and edited["kwargs"]["mostly"] == 0.99  # the edit was saved
    fact = json.loads((gx_dir() / "expectations" / f"{fact_suite}.json").read_text())
    assert {e["type"] for e in fact["expectations"]} >= {"expect_column_values_to_be_unique", "expect_table_row_count_to_be_between"}

    results = list((gx_dir() / "uncommitted" / "validations" / fact_suite).rglob("*.json"))
    assert len(results) == 1
    stored = json.loads(results[0].read_text())
    assert stored["success"] is True and stored["statistics"]["evaluated_expectations"] == 4
    docs = Path(os.environ["SPARKIFY_BUILD_DIR"]) / "data_docs"
    assert (docs / "expectations" / f"{users_suite}.html").is_file()
    assert fact_suite in (docs / "index.html").read_text()


def committed_project() -> dict[str, str]:
    """Every committed suite, validation definition and checkpoint file of the session's gx/, by path."""
    return {str(path.relative_to(gx_dir())): path.read_text() for sub in ("expectations", "validation_definitions", "checkpoints")
            for path in sorted((gx_dir() / sub).glob("*.json")) if path.stem in suites()}  # fmt: skip


@pytest.mark.parametrize("names", [{"USERS_SUITE": "users"}, {"FACT_SUITE": "songplays"}], ids=["users", "songplays"])
def test_author_suite_notebook_refuses_a_pipeline_suites_name(warehouse_with_a_failure, names):
    before = committed_project()
    assert len(before) == 3 * len(suites())
    (name,) = names.values()
    with pytest.raises(CellExecutionError) as raised:
        execute("author_suite", {"USERS_SUITE": "users_draft_refused", "FACT_SUITE": "songplays_draft_refused", **names, "DAY": GOOD_DAY})
    assert raised.value.ename == "PipelineSuiteError"
    said = raised.value.evalue
    assert said.startswith(f"'{name}' is a suite the pipeline runs (gx/checkpoints/{name}.json; gx/expectations/{name}.json holds"), said
    assert f"open it with context.suites.get('{name}'), add the expectation and save it" in said
    assert committed_project() == before  # every committed expectation and validation definition in place


def test_explore_failure_notebook_finds_the_offending_rows(warehouse_with_a_failure):
    notebook = execute("explore_failure", {"SUITE": "staging_events", "RUN_NAME": None, "DAY": BAD_DAY})
    text = output_text(notebook)
    assert "reading the unpublished run schema wap_20181102" in text  # the failed day was kept, not published
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
