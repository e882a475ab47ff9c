"""Operators that run SQL files from sql/ against the warehouse, each in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseOperator

from sparkify import SQL_DIR, WAREHOUSE_CONN_ID

TABLES = ("songplays", "users", "songs", "artists", "time")
FACTS = ("songplays",)


class PrepareWarehouseOperator(BaseOperator):
    """Create the warehouse tables (DDL of the connection's dialect) and record the run's day."""

    template_fields: Sequence[str] = ("day",)
    ui_color = "#e8f0fe"

    def __init__(self, *, day: str = "{{ ds }}", conn_id: str = WAREHOUSE_CONN_ID, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.day = day
        self.conn_id = conn_id

    def execute(self, context) -> str:
        from sparkify.db import run_script, transaction, warehouse_ddl

        with transaction(self.conn_id) as (conn, dialect):
            run_script(conn, warehouse_ddl(dialect), None)
            run_script(conn, (SQL_DIR / "run_context.sql").read_text(), {"day": self.day})
        self.log.info("Warehouse ready (%s dialect); run day %s", dialect, self.day)
        return self.day


class LoadTableOperator(BaseOperator):
    """Load one star-schema table from staging with its sql/load/<table>.sql, in one transaction.

    The fact replaces the day's partition; dimensions upsert. Identifiers come from code only:
    ``table`` must be one of TABLES.
    """

    template_fields: Sequence[str] = ("sql", "parameters")
    template_ext: Sequence[str] = (".sql",)
    template_fields_renderers = {"sql": "sql", "parameters": "json"}
    ui_color = "#f0e4ff"

    def __init__(
        self,
        *,
        table: str,
        sql: str | None = None,
        parameters: dict[str, Any] | None = None,
        conn_id: str = WAREHOUSE_CONN_ID,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if table not in TABLES:
            raise ValueError(f"LoadTableOperator: table={table!r} is not one of {', '.join(TABLES)}.")
        self.table = table
        self.sql = sql or f"load/{table}.sql"
        self.parameters = parameters if parameters is not None else {"day": "{{ ds }}"}
        self.conn_id = conn_id

    def execute(self, context) -> dict[str, int]:
        from sparkify.db import run_script, transaction

        if "day" in self.parameters:
            _check_day(self.parameters["day"])
        with transaction(self.conn_id) as (conn, _):
            run_script(conn, self.sql, self.parameters)
            with conn.cursor() as cur:
                cur.execute(f"select count(*) from {self.table}")
                total = cur.fetchone()[0]
        self.log.info("Loaded %s: %s rows in the table", self.table, total)
        return {"table_rows": total}


def _check_day(day: Any) -> None:
    from datetime import date

    try:
        date.fromisoformat(str(day))
    except ValueError:
        raise ValueError(f"parameters['day'] must be a date YYYY-MM-DD, got {day!r}.") from None
