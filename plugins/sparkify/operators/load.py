"""Operators that run SQL files from sql/ against the warehouse, each in one transaction.

Write-audit-publish: every run has its own schema (wap_YYYYMMDD, from the run's day only).
prepare_warehouse creates it empty; staging and loads write there (the audit copies); GX
validates those; publish_day moves them into the published tables in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseOperator

from sparkify import WAREHOUSE_CONN_ID

TABLES = ("songplays", "users", "songs", "artists", "time")
DAY = "{{ ds }}"


class PrepareWarehouseOperator(BaseOperator):
    """Create the published tables (DDL of the connection's dialect) and the run's empty schema."""

    template_fields: Sequence[str] = ("day",)
    ui_color = "#e8f0fe"

    def __init__(self, *, day: str = DAY, conn_id: str = WAREHOUSE_CONN_ID, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.day = day
        self.conn_id = conn_id

    def execute(self, context) -> dict[str, str]:
        from sparkify.db import prepare_run, transaction

        with transaction(self.conn_id) as (conn, dialect):
            schema = prepare_run(conn, dialect, self.day)
        self.log.info("Warehouse ready (%s dialect); run day %s in schema %s", dialect, self.day, schema)
        return {"day": self.day, "schema": schema}


class LoadTableOperator(BaseOperator):
    """Load the run's audit copy of one star-schema table with sql/load/<table>.sql, in one transaction.

    Identifiers come from code only: ``table`` must be one of TABLES; the schema comes from the
    run's day.
    """

    template_fields: Sequence[str] = ("sql", "day")
    template_ext: Sequence[str] = (".sql",)
    template_fields_renderers = {"sql": "sql"}
    ui_color = "#f0e4ff"

    def __init__(self, *, table: str, sql: str | None = None, day: str = DAY, conn_id: str = WAREHOUSE_CONN_ID, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if table not in TABLES:
            raise ValueError(f"LoadTableOperator: table={table!r} is not one of {', '.join(TABLES)}.")
        self.table = table
        self.sql = sql or f"load/{table}.sql"
        self.day = day
        self.conn_id = conn_id

    def execute(self, context) -> dict[str, int]:
        from sparkify.db import run_schema, run_script, transaction

        schema = run_schema(self.day)
        with transaction(self.conn_id, schema=schema) as (conn, dialect):
            run_script(conn, self.sql, {"day": self.day})
            with conn.cursor() as cur:
                if dialect == "postgres":
                    # Fresh statistics for the checks' plans (the copy was empty a moment ago).
                    cur.execute(f"analyze {schema}.{self.table}")
                cur.execute(f"select count(*) from {schema}.{self.table}")
                rows = cur.fetchone()[0]
        self.log.info("Loaded %s.%s (audit copy): %s rows", schema, self.table, rows)
        return {"audit_rows": rows}


class PublishDayOperator(BaseOperator):
    """Publish the run's audit copies into the published tables in one transaction (sql/publish.sql),
    then drop the run's schema in that same transaction. Runs only when every check passed."""

    template_fields: Sequence[str] = ("day",)
    ui_color = "#d7f5d0"

    def __init__(self, *, day: str = DAY, conn_id: str = WAREHOUSE_CONN_ID, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.day = day
        self.conn_id = conn_id

    def execute(self, context) -> dict[str, Any]:
        from sparkify.db import publish_run, transaction

        with transaction(self.conn_id) as (conn, _):
            audit = publish_run(conn, self.day)
        self.log.info("Published day %s: rows per table %s; its schema is dropped", self.day, audit)
        return {"day": self.day, "published": audit}
