"""Write-audit-publish: a run's own schema (wap_YYYYMMDD), created empty, then published.

prepare_run creates the published tables (idempotent DDL) and the day's empty schema; staging
and loads write there; GX validates those copies; publish_run moves them into the published
tables and drops the schema, on the caller's single transaction.
"""

from __future__ import annotations

from sparkify.names import AUDITED, run_schema
from sparkify.warehouse.connection import use_schema
from sparkify.warehouse.scripts import run_script, sql_file


def warehouse_ddl(dialect: str) -> str:
    """The published tables' DDL of a dialect (schema public)."""
    return sql_file(f"{dialect}/create_tables.sql")


def run_ddl(dialect: str) -> str:
    """The DDL of a run's own schema: its tables in the dialect, then the shared views."""
    return sql_file(f"{dialect}/run_tables.sql") + "\n" + sql_file("views.sql")


def prepare_run(conn, dialect: str, day: str) -> str:
    """Published tables (idempotent DDL) and the day's run schema, created empty; returns its name."""
    schema = run_schema(day)
    run_script(conn, warehouse_ddl(dialect), None)
    with conn.cursor() as cur:
        # A retry or re-run of the day starts from an empty schema of its own.
        cur.execute(f"drop schema if exists {schema} cascade")
        cur.execute(f"create schema {schema}")
    use_schema(conn, schema)
    run_script(conn, run_ddl(dialect), None)
    run_script(conn, sql_file("run_context.sql"), {"day": day})
    return schema


def publish_run(conn, day: str) -> dict[str, int]:
    """Move the day's audit copies into the published tables (sql/publish.sql) and drop the run's
    schema, on the caller's transaction; returns the rows published per table."""
    schema = run_schema(day)
    with conn.cursor() as cur:
        cur.execute("select count(*) from information_schema.schemata where schema_name = %s", (schema,))
        if cur.fetchone()[0] == 0:
            raise RuntimeError(f"Schema {schema} does not exist: run the day again from prepare_warehouse (clear the whole run).")
        audit = {}
        for table in AUDITED:
            cur.execute(f"select count(*) from {schema}.{table}")
            audit[table] = cur.fetchone()[0]
    use_schema(conn, schema)
    run_script(conn, sql_file("publish.sql"), {"day": day})
    with conn.cursor() as cur:
        cur.execute(f"drop schema {schema} cascade")
    return audit


def drop_run_schemas(conn) -> list[str]:
    """Drop every run schema the warehouse keeps (days that did not publish); returns their names."""
    from sparkify.names import RUN_SCHEMA

    with conn.cursor() as cur:
        cur.execute("select schema_name from information_schema.schemata where schema_name like 'wap\\_%'")
        dropped = [schema for (schema,) in cur.fetchall() if RUN_SCHEMA.fullmatch(schema)]
        for schema in dropped:
            cur.execute(f"drop schema {schema} cascade")
    return dropped
