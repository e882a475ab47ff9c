from __future__ import annotations

import json

import pytest
from airflow.sdk import Connection

from sparkify.warehouse.connection import dialect_for, sqlalchemy_url


def conn(**kwargs):
    return Connection(conn_id="sparkify_warehouse", **kwargs)


def test_unix_socket_url_puts_the_folder_in_the_query():
    url = sqlalchemy_url(conn(conn_type="postgres", host="/tmp/pg dir", login="postgres", schema="sparkify", port=5432))
    assert url == "postgresql+psycopg2://postgres@/sparkify?host=%2Ftmp%2Fpg+dir&port=5432"


def test_tcp_url_quotes_the_password():
    url = sqlalchemy_url(conn(conn_type="postgres", host="db.local", login="etl", password="p@ss:/word", schema="dw", port=6543))
    assert url == "postgresql+psycopg2://etl:p%40ss%3A%2Fword@db.local:6543/dw"


def test_redshift_connection_gives_the_redshift_driver_and_port():
    c = conn(conn_type="redshift", host="c.abc.eu-west-1.redshift.amazonaws.com", login="u", password="p", schema="dev")
    assert dialect_for(c) == "redshift"
    assert sqlalchemy_url(c) == "redshift+psycopg2://u:p@c.abc.eu-west-1.redshift.amazonaws.com:5439/dev"


def test_sslmode_extra_is_kept():
    c = conn(conn_type="postgres", host="h", login="u", schema="d", extra=json.dumps({"sslmode": "require"}))
    assert sqlalchemy_url(c).endswith("/d?sslmode=require")


def test_unknown_connection_type_is_named():
    with pytest.raises(ValueError, match="'mysql'"):
        dialect_for(conn(conn_type="mysql", host="h"))


def test_a_connection_not_defined_fails_a_task_at_once_naming_how_to_set_it(monkeypatch):
    """An AirflowFailException (no retry can define a connection) that is also a LookupError."""
    from airflow.sdk.exceptions import AirflowFailException

    from sparkify.warehouse.connection import connect, get_connection

    monkeypatch.delenv("AIRFLOW_CONN_SPARKIFY_NOWHERE", raising=False)
    for lookup in (get_connection, connect):
        with pytest.raises(
            LookupError, match=r"'sparkify_nowhere' is not defined: set it in the UI or as AIRFLOW_CONN_SPARKIFY_NOWHERE"
        ) as raised:
            lookup("sparkify_nowhere")
        assert isinstance(raised.value, AirflowFailException)
