"""Operators: rendered templates, the SQL they run, and argument errors."""

from __future__ import annotations

import pendulum
import pytest
from airflow.dag_processing.dagbag import DagBag

from sparkify.operators import GxValidationOperator, LoadTableOperator, StageJsonOperator
from sparkify.warehouse.scripts import split_statements
from tests.session import ROOT


@pytest.fixture(scope="module")
def dag():
    return DagBag(str(ROOT / "dags")).dags["sparkify"]


def render(task, dag, day="2018-11-05"):
    logical = pendulum.parse(day)
    variables = {"value": {"sparkify_lake": "/lake", "get": lambda key, default=None: default}}
    context = {"ds": day, "logical_date": logical, "dag": dag, "task": task, "params": {}, "var": variables}
    task.render_template_fields(context, jinja_env=dag.get_template_env())
    return task


def test_stage_events_key_follows_the_logical_date(dag):
    task = render(dag.get_task("stage_events"), dag, "2018-12-31")
    assert task.key == "log_data/2018/12/2018-12-31-events.json"
    assert task.jsonpaths_key == "log_json_path.json"
    assert task.lake_root == "/lake"


def test_load_renders_its_sql_file(dag):
    task = render(dag.get_task("load_songplays"), dag)
    statements = split_statements(task.sql)
    assert [s.split()[0].lower() for s in statements] == ["delete", "insert"]
    assert "md5(" in statements[1] and "%(day)s" in statements[1]
    assert task.day == "2018-11-05"


@pytest.mark.parametrize("table", ["users", "songs", "artists", "songplays", "time"])
def test_each_load_writes_only_the_runs_audit_copy(dag, table):
    """Loads empty and fill their unqualified table (the run's schema comes first on the path);
    published tables (public.*) are only read, and only publish_day writes them."""
    task = render(dag.get_task(f"load_{table}"), dag)
    statements = split_statements(task.sql)
    # songs and artists: the staged files' rows, then the rest of the published catalog (two inserts).
    inserts = 2 if table in ("songs", "artists") else 1
    assert [s.split()[0].lower() for s in statements] == ["delete"] + ["insert"] * inserts
    assert statements[0] == f"delete from {table}"
    assert all(s.startswith(f"insert into {table} (") for s in statements[1:])
    assert "truncate" not in task.sql.lower()
    assert not any(w in task.sql.lower() for w in ("insert into public.", "delete from public.", "update "))


def test_publish_is_one_script_that_writes_every_published_table():
    from sparkify.warehouse.scripts import sql_file

    statements = split_statements(sql_file("publish.sql"))
    written = [s.split()[2] for s in statements if s.lower().startswith(("delete from", "insert into"))]
    published = ("songplays", "songs", "artists", "song_files", "users", "time", "quarantine")  # song_files: the catalog's manifest
    assert {w for w in written} == {f"public.{t}" for t in published}
    # Every published table is locked before it is first written, always in the same order.
    locks = [s.split()[2] for s in statements if s.lower().startswith("lock table")]
    assert locks == [f"public.{t}" for t in published]


def test_quarantine_check_gets_the_line_count_and_the_threshold(dag):
    class TaskInstance:
        def xcom_pull(self, task_ids):
            return {"stage_events": {"lines": 120}}[task_ids]

    task = dag.get_task("validate_quarantine")
    logical = pendulum.parse("2018-11-05")
    variables = {"value": {"get": lambda key, default=None: default}}
    context = {"ds": "2018-11-05", "logical_date": logical, "dag": dag, "task": task, "params": {}, "var": variables, "ti": TaskInstance()}
    task.render_template_fields(context, jinja_env=dag.get_template_env())
    assert "expectation_parameters" in GxValidationOperator.template_fields
    # The stage task's line count, and the Variable's default threshold when it is not set.
    assert task.expectation_parameters == {"file_lines": "120", "max_quarantine_rate": "0.01"}
    assert task.day == "2018-11-05"


def test_argument_errors_name_the_argument_and_the_choices():
    with pytest.raises(ValueError, match=r"table='songplays; drop table users' is not one of songplays, users"):
        LoadTableOperator(task_id="x", table="songplays; drop table users")
    with pytest.raises(ValueError, match=r"table='events' is not one of staging_events, staging_songs"):
        StageJsonOperator(task_id="x", table="events", key="k")
    with pytest.raises(ValueError, match=r"record_format='csv' is not one of ndjson, document"):
        StageJsonOperator(task_id="x", table="staging_events", key="k", record_format="csv")
    with pytest.raises(
        ValueError,
        match=r"suite='nope' has no checkpoint gx/checkpoints/nope.json; the suites are artists, history, lake_fields, quarantine",
    ):
        GxValidationOperator(task_id="x", suite="nope")


def test_run_schema_comes_from_a_date_only():
    from sparkify.names import run_schema
    from sparkify.warehouse.connection import use_schema

    assert run_schema("2018-11-05") == "wap_20181105"
    for bad in ("1; drop", "2018-11-05; drop schema public cascade", "2018-13-01", "wap_20181105"):
        with pytest.raises(ValueError, match=r"The run's day must be a date YYYY-MM-DD, got"):
            run_schema(bad)
    with pytest.raises(ValueError, match=r"is not a run schema"):
        use_schema(None, "public; drop table users")


def test_suite_parameters_must_be_numbers():
    from sparkify.operators.validate import numeric_parameter

    assert numeric_parameter("file_lines", "120") == 120 and numeric_parameter("max_quarantine_rate", "0.05") == 0.05
    for bad in ("0.01; drop table users", "nan", "", "1e999", True):
        with pytest.raises(ValueError, match=r"Expectation parameter 'max_quarantine_rate' must be a number"):
            numeric_parameter("max_quarantine_rate", bad)


def test_split_statements_drops_comments_and_empties():
    assert split_statements("-- a\nselect 1;\n\n;  -- b\nselect 2") == ["select 1", "select 2"]


@pytest.mark.parametrize(
    ("value", "wanted", "said"), [("true", True, None), ("off", False, None), ("maybe", False, "is 'maybe', not one of")]
)
def test_the_warnings_variable_is_read_and_a_value_it_cannot_use_is_named(monkeypatch, caplog, value, wanted, said):
    from sparkify.operators.alerts import warnings_wanted

    monkeypatch.setenv("AIRFLOW_VAR_SPARKIFY_NOTIFY_WARNINGS", value)
    with caplog.at_level("WARNING", logger="sparkify.operators.alerts"):
        assert warnings_wanted() is wanted
    named = [r.getMessage() for r in caplog.records if "Variable sparkify_notify_warnings" in r.getMessage()]
    assert (said in named[0]) if said else named == []
