"""Operators: rendered templates, the SQL they run, and argument errors."""

from __future__ import annotations

import pendulum
import pytest
from airflow.dag_processing.dagbag import DagBag

from sparkify.db import split_statements
from sparkify.operators import GxValidationOperator, LoadTableOperator, StageJsonOperator
from tests.conftest import ROOT


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
    assert "md5(" in statements[1] and "%(day)s" in statements[0]
    assert task.parameters == {"day": "2018-11-05"}


@pytest.mark.parametrize("table, first_words", [
    ("users", ["create", "delete", "insert", "drop"]),
    ("songs", ["create", "delete", "insert", "drop"]),
    ("artists", ["create", "delete", "insert", "drop"]),
    ("time", ["delete", "insert"]),
])  # fmt: skip
def test_each_load_is_one_script_without_truncate(dag, table, first_words):
    task = render(dag.get_task(f"load_{table}"), dag)
    statements = split_statements(task.sql)
    assert [s.split()[0].lower() for s in statements] == first_words
    assert "truncate" not in task.sql.lower()


def test_validation_passes_the_file_line_count(dag):
    task = dag.get_task("validate_staging_events")
    assert "xcom_pull(task_ids='stage_events')['lines']" in task.expectation_parameters["file_lines"]
    assert "expectation_parameters" in GxValidationOperator.template_fields


def test_argument_errors_name_the_argument_and_the_choices():
    with pytest.raises(ValueError, match=r"table='songplays; drop table users' is not one of songplays, users"):
        LoadTableOperator(task_id="x", table="songplays; drop table users")
    with pytest.raises(ValueError, match=r"table='events' is not one of staging_events, staging_songs"):
        StageJsonOperator(task_id="x", table="events", key="k")
    with pytest.raises(ValueError, match=r"record_format='csv' is not one of ndjson, document"):
        StageJsonOperator(task_id="x", table="staging_events", key="k", record_format="csv")
    with pytest.raises(ValueError, match=r"suite='nope' is not one of staging_events"):
        GxValidationOperator(task_id="x", suite="nope")


def test_load_rejects_a_day_that_is_not_a_date():
    from sparkify.operators.load import _check_day

    with pytest.raises(ValueError, match=r"parameters\['day'\] must be a date YYYY-MM-DD, got '1; drop'"):
        _check_day("1; drop")


def test_split_statements_drops_comments_and_empties():
    assert split_statements("-- a\nselect 1;\n\n;  -- b\nselect 2") == ["select 1", "select 2"]
