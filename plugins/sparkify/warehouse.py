"""The warehouse: dialect choice and connection URLs, decided in this one place."""

from __future__ import annotations

from urllib.parse import quote, urlencode

DIALECTS = ("postgres", "redshift")

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
    dialect = dialect_for(conn)
    driver = "redshift+psycopg2" if dialect == "redshift" else "postgresql+psycopg2"
    user = quote(conn.login or "", safe="")
    password = quote(conn.password or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    database = quote(conn.schema or "", safe="")
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
        netloc = auth
    else:
        default_port = 5439 if dialect == "redshift" else 5432
        netloc = f"{auth}{host}:{conn.port or default_port}"
    suffix = f"?{urlencode(query)}" if query else ""
    return f"{driver}://{netloc}/{database}{suffix}"


def get_connection(conn_id: str):
    """The Airflow connection, with an error that names the id and how to set it."""
    from airflow.sdk import Connection

    try:
        return Connection.get(conn_id)
    except Exception as err:  # the SDK raises its own not-found type per version
        raise LookupError(
            f"Airflow connection {conn_id!r} is not defined: set it in the UI or as AIRFLOW_CONN_{conn_id.upper()} ({err})."
        ) from err
