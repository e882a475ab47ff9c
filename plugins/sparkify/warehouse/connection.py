"""Warehouse connections: the dialect, the GX URL and DB-API sessions, decided in this one place.

Sessions come from the Postgres provider's ``PostgresHook``, which reaches both PostgreSQL and
Redshift; the Airflow connection's extras (sslmode, options, ``iam``) apply. The hook returns a
psycopg 3 connection when psycopg 3 is installed (as the provider requires) and psycopg2
otherwise; sessions here bind parameters on the client in both cases (psycopg 3's ClientCursor),
because Redshift's COPY takes its source and credentials only as literals, and ``copy_in`` is
the one COPY ... FROM STDIN of the project for either driver.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from airflow.sdk.exceptions import AirflowFailException

from sparkify.names import check_run_schema

# Airflow connection types that map to each SQL dialect of the project.
_CONN_TYPE_DIALECT = {"postgres": "postgres", "postgresql": "postgres", "redshift": "redshift"}


def dialect_for(conn) -> str:
    """SQL dialect of an Airflow connection, from its conn_type (postgres or redshift)."""
    conn_type = (conn.conn_type or "").lower()
    host = conn.host or ""
    if conn_type == "postgres" and host.endswith(".redshift.amazonaws.com"):
        return "redshift"
    try:
        return _CONN_TYPE_DIALECT[conn_type]
    except KeyError:
        raise ValueError(
            f"Connection {conn.conn_id!r} has type {conn.conn_type!r}; the warehouse must be one of {sorted(_CONN_TYPE_DIALECT)}."
        ) from None


def sqlalchemy_url(conn, *, search_path: str | None = None) -> str:
    """SQLAlchemy URL for GX, built from an Airflow connection (Unix socket or TCP host).

    ``search_path`` (a run's schema) is put first on the session's search path, so GX's
    unqualified table assets read that run's audit copies.
    """
    from sqlalchemy.engine import URL

    dialect = dialect_for(conn)
    driver = "redshift+psycopg2" if dialect == "redshift" else "postgresql+psycopg2"
    host = conn.host or ""
    query: dict[str, str] = {}
    extra = conn.extra_dejson or {}
    if extra.get("sslmode"):
        query["sslmode"] = str(extra["sslmode"])
    if search_path:
        query["options"] = f"-csearch_path={search_path},public"
    if host.startswith("/"):
        # A Unix-socket directory cannot sit in the URL's host part; libpq takes it as ?host=.
        query["host"] = host
        if conn.port:
            query["port"] = str(conn.port)
        address: dict = {}
    else:
        address = {"host": host, "port": conn.port or (5439 if dialect == "redshift" else 5432)}
    url = URL.create(
        driver, username=conn.login or None, password=conn.password or None, database=conn.schema or None, query=query, **address
    )
    return url.render_as_string(hide_password=False)


class ConnectionNotDefined(AirflowFailException, LookupError):
    """A connection that is not defined: a task fails at once (no retry can define it)."""


def _lookup_error(conn_id: str, err: Exception) -> LookupError:
    """The error for a connection that cannot be read: not defined (no retry), or another failure."""
    from airflow.sdk.exceptions import AirflowNotFoundException

    text = f"Airflow connection {conn_id!r} is not defined: set it in the UI or as AIRFLOW_CONN_{conn_id.upper()} ({err})."
    if isinstance(err, AirflowNotFoundException):
        return ConnectionNotDefined(text)
    return LookupError(text)


def get_connection(conn_id: str):
    """The Airflow connection, with an error that names the id and how to set it."""
    from airflow.sdk import Connection

    try:
        return Connection.get(conn_id)
    except Exception as err:  # the SDK raises its own not-found type per version
        raise _lookup_error(conn_id, err) from err


def find_connection(conn_id: str):
    """The Airflow connection, or None when it is not defined (an optional channel, switched off)."""
    try:
        return get_connection(conn_id)
    except LookupError:
        return None


def connect(conn_id: str):
    """(DB-API connection, dialect) through the provider's PostgresHook, with an error naming the
    connection and the host when the server cannot be reached."""
    from airflow.providers.postgres.hooks.postgres import PostgresHook

    hook = PostgresHook(postgres_conn_id=conn_id)
    try:
        conn_info = hook.connection
    except Exception as err:  # the SDK raises its own not-found type per version
        raise _lookup_error(conn_id, err) from err
    dialect = dialect_for(conn_info)
    # Defaults the connection's own extras may override: give up on an unreachable server after
    # 10 s, and name the client in pg_stat_activity.
    extra = {"connect_timeout": 10, "application_name": "sparkify", **(conn_info.extra_dejson or {})}
    conn_info.extra = json.dumps(extra)
    try:
        conn = hook.get_conn()
    except Exception as err:
        where = conn_info.host or "(no host)"
        raise ConnectionError(
            f"Cannot connect to the warehouse connection {conn_id!r} at {where}:{conn_info.port or ''}: {str(err).strip()}"
        ) from err
    if hasattr(conn, "cursor_factory") and not hasattr(conn, "get_dsn_parameters"):  # psycopg 3
        import psycopg

        conn.cursor_factory = psycopg.ClientCursor
    return conn, dialect


def copy_in(cursor, sql: str, stream, *, size: int = 1 << 20) -> int:
    """Run ``COPY ... FROM STDIN`` reading ``stream`` (anything with read(size)); the rows stored."""
    if hasattr(cursor, "copy_expert"):  # psycopg2
        cursor.copy_expert(sql, stream, size=size)
        return cursor.rowcount
    with cursor.copy(sql) as copy:
        while data := stream.read(size):
            copy.write(data)
    return cursor.rowcount


def use_schema(conn, schema: str) -> None:
    """Resolve unqualified names in the run's schema first, then in public."""
    check_run_schema(schema)
    with conn.cursor() as cur:
        cur.execute(f"set search_path to {schema}, public")


@contextmanager
def transaction(conn_id: str, *, schema: str | None = None) -> Iterator[tuple[Any, str]]:
    """(DB-API connection, dialect) inside one transaction: committed on success, else rolled back.

    With ``schema`` (a run schema), unqualified names resolve there first, then in public.
    """
    conn, dialect = connect(conn_id)
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
