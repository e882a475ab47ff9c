"""Prepare a run's schema and load its audit copies with SQL files from sql/, each in one transaction.

Write-audit-publish: every run has its own schema (wap_YYYYMMDD, from the run's day only).
prepare_warehouse creates it empty; staging and loads write there (the audit copies); GX
validates those; publish_day moves them into the published tables in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseOperator

from sparkify.names import TABLES
from sparkify.settings import WAREHOUSE_CONN_ID
from sparkify.templates import DAY


class PrepareWarehouseOperator(BaseOperator):
    """Create the published tables (DDL of the connection's dialect), the shared results store the
    day's validations write to, and the run's empty schema; record when the day's file arrived
    (``arrival_task``'s result) in the store's ``dq.arrivals``."""

    template_fields: Sequence[str] = ("day",)
    ui_color = "#e8f0fe"

    def __init__(self, *, day: str = DAY, conn_id: str = WAREHOUSE_CONN_ID, arrival_task: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.day = day
        self.conn_id = conn_id
        self.arrival_task = arrival_task

    def execute(self, context) -> dict[str, str]:
        from sparkify.quality import store
        from sparkify.quality.store import publishes
        from sparkify.warehouse.connection import transaction
        from sparkify.warehouse.wap import prepare_run

        arrival = context["ti"].xcom_pull(task_ids=self.arrival_task) if self.arrival_task else None
        with transaction(self.conn_id) as (conn, dialect):
            store.ensure(conn, dialect)
            if arrival:
                store.save_arrival(conn, context["run_id"], self.day, arrival)
            # A run of the day still waiting for a review loses its audit copies to this run's
            # schema: its record says it was replaced, and the log says so too.
            replaced = publishes.supersede(conn, day=self.day, run_id=context["run_id"])
            schema = prepare_run(conn, dialect, self.day)
        for found in replaced:
            self.log.warning("Run %s of %s, held for review since %s, is replaced by this run: this run is the one reviewed "
                             "(its kept audit copies in %s are dropped; dq.day_publishes marks it superseded).",
                             found["run_id"], self.day, found["held_at"], schema)  # fmt: skip
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
        from sparkify.names import run_schema
        from sparkify.warehouse.connection import transaction
        from sparkify.warehouse.scripts import run_script

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

    def get_openlineage_facets_on_complete(self, task_instance):
        """OpenLineage: the tables the rendered load reads and writes, from the provider's SQL parser,
        plus the reads it misses in `insert ... with` (lineage.CTE_READS)."""
        from sparkify.names import run_schema
        from sparkify.operators import lineage

        schema = run_schema(self.day)
        found = lineage.sql_lineage(self.conn_id, self.sql, schema=schema, parameters={"day": self.day})
        names = {d.name for d in found.inputs}
        for name in lineage.CTE_READS.get(self.table, ()):
            missed = lineage.table(self.conn_id, schema, name)
            if missed.name not in names:
                found.inputs.append(missed)
        return found
