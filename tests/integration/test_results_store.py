"""The results store of an older release (its day column named logical_date) is renamed in place
by the next prepare_warehouse: its rows stay, and the quality history reads them by day."""

from __future__ import annotations

import datetime

import psycopg2

from sparkify.quality import store
from sparkify.warehouse.scripts import run_script, sql_file


def older_store_script() -> str:
    """The store's DDL as it was before the day column got its name (only that name differed, and
    dq.arrivals came later still)."""
    script = sql_file("postgres/results_store.sql").split("-- When each run's day file arrived")[0]
    index = "validation_results_{} on dq.validation_results ({} desc"
    older = script.replace("    day date not null,", "    logical_date date not null,")
    older = older.replace(index.format("day", "day"), index.format("logical_date", "logical_date"))
    assert older.count("logical_date") == 3  # the column and the index: what the older release created
    return older


def test_an_older_store_is_renamed_and_keeps_its_rows(socket_warehouse):
    conn = psycopg2.connect(socket_warehouse.dsn())
    try:  # one transaction, rolled back: other tests of this server never see it
        with conn.cursor() as cur:
            cur.execute("drop schema if exists dq cascade")
            run_script(conn, older_store_script(), None)
            cur.execute(
                "insert into dq.validation_results (run_id, logical_date, suite, table_name, success, gx_success, evaluated, "
                "failed_critical, failed_warning, run_time, batch_identifier, result_json) "
                "values ('r1', '2018-11-05', 'users', 'users', true, true, 4, 0, 0, 't', 'b', '{}')"
            )
        store.ensure(conn, "postgres")
        with conn.cursor() as cur:
            cur.execute(
                "select column_name from information_schema.columns where table_schema = 'dq' and table_name = 'validation_results' "
                "and column_name in ('day', 'logical_date')"
            )
            assert cur.fetchall() == [("day",)]
            cur.execute("select indexname from pg_indexes where schemaname = 'dq' and indexdef like '%(day DESC, suite)%'")
            assert cur.fetchall() == [("validation_results_day",)]  # renamed, not a second index beside the old one
        assert [(r["day"], r["suite"], r["run_id"]) for r in store.day_results(conn, days=5)] == [
            (datetime.date(2018, 11, 5), "users", "r1")
        ]
        with conn.cursor() as cur:
            cur.execute("select count(*) from dq.arrivals")  # the table added since: created, empty
            assert cur.fetchone() == (0,)
        store.ensure(conn, "postgres")  # the renamed store is current: nothing more to do
    finally:
        conn.rollback()
        conn.close()
