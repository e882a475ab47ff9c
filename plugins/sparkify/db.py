"""Warehouse sessions for operators: one connection, one transaction, clear errors."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager

from sparkify.warehouse import dialect_for, get_connection

log = logging.getLogger(__name__)


RUN_SCHEMA = re.compile(r"wap_\d{8}")


def warehouse_ddl(dialect: str) -> str:
    """The published tables' DDL of a dialect (schema public)."""
    from sparkify import SQL_DIR

    return (SQL_DIR / dialect / "create_tables.sql").read_text()


def run_ddl(dialect: str) -> str:
    """The DDL of a run's own schema: its tables in the dialect, then the shared views."""
    from sparkify import SQL_DIR

    return (SQL_DIR / dialect / "run_tables.sql").read_text() + "\n" + (SQL_DIR / "views.sql").read_text()


def run_schema(day) -> str:
    """The schema of the run for ``day`` (YYYY-MM-DD): wap_YYYYMMDD (write-audit-publish).

    Made from the run's logical date only, never from conf, params or Variables; anything that
    is not a calendar date is refused.
    """
    from datetime import date

    try:
        parsed = date.fromisoformat(str(day))
    except ValueError:
        raise ValueError(f"The run's day must be a date YYYY-MM-DD, got {day!r}.") from None
    return f"wap_{parsed:%Y%m%d}"


def use_schema(conn, schema: str) -> None:
    """Resolve unqualified names in the run's schema first, then in public."""
    if not RUN_SCHEMA.fullmatch(schema):
        raise ValueError(f"{schema!r} is not a run schema (wap_YYYYMMDD).")
    with conn.cursor() as cur:
        cur.execute(f"set search_path to {schema}, public")


def split_statements(sql: str) -> list[str]:
    """Split a SQL script into statements, dropping empty ones and comment-only ones."""
    import sqlparse

    statements = []
    for statement in sqlparse.split(sql):
        stripped = sqlparse.format(statement, strip_comments=True).strip().rstrip(";").strip()
        if stripped:
            statements.append(stripped)
    return statements


def connect(conn_info):
    """A psycopg2 connection from an Airflow connection (TCP host or Unix-socket folder)."""
    import psycopg2

    extra = conn_info.extra_dejson or {}
    params = {
        "host": conn_info.host or None,
        "port": conn_info.port or None,
        "user": conn_info.login or None,
        "password": conn_info.password or None,
        "dbname": conn_info.schema or None,
        "connect_timeout": int(extra.get("connect_timeout", 10)),
        "application_name": "sparkify",
    }
    for key in ("sslmode", "sslrootcert", "options", "keepalives_idle"):
        if key in extra:
            params[key] = extra[key]
    return psycopg2.connect(**{k: v for k, v in params.items() if v is not None})


@contextmanager
def transaction(conn_id: str, *, schema: str | None = None) -> Iterator[tuple[object, str]]:
    """(DB-API connection, dialect) inside one transaction: committed on success, else rolled back.

    With ``schema`` (a run schema), unqualified names resolve there first, then in public.
    """
    conn_info = get_connection(conn_id)
    dialect = dialect_for(conn_info)
    try:
        conn = connect(conn_info)
    except Exception as err:
        where = conn_info.host or "(no host)"
        raise ConnectionError(
            f"Cannot connect to the warehouse connection {conn_id!r} at {where}:{conn_info.port or ''}: {str(err).strip()}"
        ) from err
    conn.autocommit = False
    try:
        if schema:
            use_schema(conn, schema)
        yield conn, dialect
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    finally:
        conn.close()


def run_script(conn, sql: str, parameters: dict | None) -> list[int]:
    """Run every statement of a script on one connection; returns each statement's rowcount."""
    counts = []
    with conn.cursor() as cur:
        for statement in split_statements(sql):
            uses_params = "%(" in statement
            cur.execute(statement, parameters if uses_params else None)
            counts.append(cur.rowcount)
    return counts


def prepare_run(conn, dialect: str, day: str) -> str:
    """Published tables (idempotent DDL) and the day's run schema, created empty; returns its name."""
    from sparkify import SQL_DIR

    schema = run_schema(day)
    run_script(conn, warehouse_ddl(dialect), None)
    with conn.cursor() as cur:
        # A retry or re-run of the day starts from an empty schema of its own.
        cur.execute(f"drop schema if exists {schema} cascade")
        cur.execute(f"create schema {schema}")
    use_schema(conn, schema)
    run_script(conn, run_ddl(dialect), None)
    run_script(conn, (SQL_DIR / "run_context.sql").read_text(), {"day": day})
    return schema


AUDITED = ("songplays", "users", "songs", "artists", "time", "quarantine")


def publish_run(conn, day: str) -> dict[str, int]:
    """Move the day's audit copies into the published tables (sql/publish.sql) and drop the run's
    schema, on the caller's transaction; returns the rows published per table."""
    from sparkify import SQL_DIR

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
    run_script(conn, (SQL_DIR / "publish.sql").read_text(), {"day": day})
    with conn.cursor() as cur:
        cur.execute(f"drop schema {schema} cascade")
    return audit
