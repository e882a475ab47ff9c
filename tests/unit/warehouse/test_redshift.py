"""The Redshift dialect, checked without a cluster: every statement parses as Redshift SQL,
the COPY text is exact, credentials stay bind parameters, and the GX URL is right."""

from __future__ import annotations

import json
import re

import pytest
import sqlglot
from airflow.dag_processing.dagbag import DagBag
from airflow.sdk import Connection

from sparkify.staging.redshift import copy_auth, render_copy
from sparkify.warehouse.connection import dialect_for, sqlalchemy_url
from sparkify.warehouse.scripts import split_statements, sql_file
from sparkify.warehouse.wap import run_ddl, warehouse_ddl
from tests.session import ROOT
from tests.unit.operators.test_operators import render
from tools.redshift_check import expectation_queries

PARAMS = {"day": "2018-11-05"}


def with_literals(sql: str, params: dict) -> str:
    """The statement as the server receives it (psycopg2 quotes each bind value as a literal)."""
    return re.sub(r"%\((\w+)\)s", lambda m: "'" + str(params[m.group(1)]).replace("'", "''") + "'", sql)


def parse_redshift(sql: str):
    return sqlglot.parse_one(sql, read="redshift", error_level=sqlglot.ErrorLevel.RAISE)


def redshift_statements():
    dag = DagBag(str(ROOT / "dags")).dags["sparkify"]
    found = [("ddl", s) for s in split_statements(warehouse_ddl("redshift"))]
    found += [("run_ddl", s) for s in split_statements(run_ddl("redshift"))]
    found += [("run_context", with_literals(s, PARAMS)) for s in split_statements(sql_file("run_context.sql"))]
    for table in ("songs", "artists", "users", "songplays", "time"):
        task = render(dag.get_task(f"load_{table}"), dag)
        found += [(f"load_{table}", with_literals(s, {"day": task.day})) for s in split_statements(task.sql)]
    found += [("publish", with_literals(s, PARAMS)) for s in split_statements(sql_file("publish.sql"))]
    quarantine_params = {**PARAMS, "source": "events", "file": "s3://lake/log_data/2018/11/2018-11-05-events.json"}
    for name in ("quarantine_copy_errors", "quarantine_events"):
        text = sql_file(f"redshift/{name}.sql")
        found += [(name, with_literals(s, quarantine_params)) for s in split_statements(text)]
    for table in ("staging_events", "staging_songs"):
        found.append((table, f"delete from {table}"))
    # Every UnexpectedRowsExpectation query, {batch} substituted by GX's own code.
    found += expectation_queries()
    return found


@pytest.mark.parametrize("name, sql", redshift_statements())
def test_every_statement_parses_as_redshift(name, sql):
    assert parse_redshift(sql) is not None, name


def test_ddl_uses_the_distribution_design():
    ddl = sql_file("redshift/create_tables.sql")
    for table in ("songplays", "time"):
        assert re.search(rf"create table if not exists public.{table} \(.*?\)\ndistkey \(start_time\)\nsortkey \(start_time\);", ddl, re.S)
    for table in ("users", "songs", "artists"):
        assert re.search(rf"create table if not exists public.{table} \(.*?\)\ndiststyle all\n", ddl, re.S)
    assert "truncate" not in ddl.lower() and "create index" not in ddl.lower()


def test_copy_events_text_with_an_iam_role():
    sql, params = render_copy(
        "staging_events", source="s3://lake/log_data/2018/11/2018-11-05-events.json",
        jsonpaths="s3://lake/log_json_path.json", region="eu-west-1",
        auth_clause="iam_role %(iam_role)s", auth_params={"iam_role": "arn:aws:iam::123456789012:role/sparkify"},
    )  # fmt: skip
    body = "\n".join(line for line in sql.splitlines() if not line.startswith("--"))
    assert body == (
        "copy staging_events\nfrom %(source)s\niam_role %(iam_role)s\nformat as json %(jsonpaths)s\n"
        "timeformat 'epochmillisecs'\nregion %(region)s\nmaxerror 100000\ncompupdate off\nstatupdate off"
    )
    final = with_literals(body, params)
    assert "from 's3://lake/log_data/2018/11/2018-11-05-events.json'" in final
    assert "iam_role 'arn:aws:iam::123456789012:role/sparkify'" in final
    assert "format as json 's3://lake/log_json_path.json'" in final
    parse_redshift(final)


def test_copy_songs_is_auto_by_field_name():
    sql, params = render_copy("staging_songs", source="s3://lake/song_data", jsonpaths=None, region="us-west-2",
                              auth_clause="iam_role %(iam_role)s", auth_params={"iam_role": "arn:aws:iam::1:role/r"})  # fmt: skip
    assert "format as json 'auto'" in sql and "jsonpaths" not in params
    parse_redshift(with_literals(sql, params))


def test_auth_comes_from_the_aws_connection(monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_AWS_ROLE",
        json.dumps({"conn_type": "aws", "extra": {"role_arn": "arn:aws:iam::1:role/copy", "region_name": "eu-west-1"}}),
    )
    assert copy_auth("aws_role") == ("iam_role %(iam_role)s", {"iam_role": "arn:aws:iam::1:role/copy"})
    monkeypatch.setenv("AIRFLOW_CONN_AWS_KEYS", json.dumps({"conn_type": "aws", "login": "AKIAEXAMPLE", "password": "s3cr3t"}))
    clause, params = copy_auth("aws_keys")
    assert clause == "credentials %(credentials)s"
    assert params == {"credentials": "aws_access_key_id=AKIAEXAMPLE;aws_secret_access_key=s3cr3t"}
    # The key never enters the statement text, only its bind value.
    sql, _ = render_copy("staging_events", source="s3://b/k", jsonpaths="s3://b/j", region="r", auth_clause=clause, auth_params=params)
    assert "s3cr3t" not in sql and "AKIA" not in sql


def test_gx_url_for_a_redshift_connection():
    conn = Connection.from_json(
        json.dumps(
            {
                "conn_type": "redshift",
                "host": "dw.abc123.eu-west-1.redshift.amazonaws.com",
                "port": 5439,
                "login": "etl",
                "password": "pw/1",
                "schema": "sparkify",
            }
        ),  # fmt: skip
        conn_id="sparkify_warehouse",
    )
    assert dialect_for(conn) == "redshift"
    assert sqlalchemy_url(conn) == "redshift+psycopg2://etl:pw%2F1@dw.abc123.eu-west-1.redshift.amazonaws.com:5439/sparkify"
