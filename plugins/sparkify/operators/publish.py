"""Publish a run: its audit copies into the published tables, and its Data Docs pages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseOperator

from sparkify.names import TABLES
from sparkify.settings import AWS_CONN_ID, WAREHOUSE_CONN_ID, docs_location
from sparkify.templates import DAY, DOCS_LOCATION


def published_assets() -> dict[str, Any]:
    """One Airflow Asset per published star-schema table (what downstream DAGs schedule on)."""
    from airflow.sdk import Asset

    return {table: Asset(name=f"sparkify.{table}", uri=f"sparkify://warehouse/public/{table}", group="sparkify") for table in TABLES}


class PublishDayOperator(BaseOperator):
    """Publish the run's audit copies into the published tables in one transaction (sql/publish.sql),
    then drop the run's schema and record the publish (dq.day_publishes: the day, the run, when) in
    that same transaction. Runs only when every check passed.

    Each published table is an outlet Asset; its event's extra carries the day, the rows published
    and the run's validation summary (from the shared results store). A day that failed a critical
    check never reaches this task, so it emits no event.
    """

    template_fields: Sequence[str] = ("day",)
    ui_color = "#d7f5d0"

    def __init__(self, *, day: str = DAY, conn_id: str = WAREHOUSE_CONN_ID, **kwargs: Any) -> None:
        kwargs.setdefault("outlets", list(published_assets().values()))
        super().__init__(**kwargs)
        self.day = day
        self.conn_id = conn_id

    def execute(self, context) -> dict[str, Any]:
        from sparkify.quality import store
        from sparkify.quality.store import publishes
        from sparkify.warehouse.connection import transaction
        from sparkify.warehouse.wap import publish_run

        run_id = context.get("run_id")
        with transaction(self.conn_id) as (conn, dialect):
            audit = publish_run(conn, self.day)
            validation = store.run_validations(conn, run_id) if run_id else {}
            if run_id:  # the day's publish record commits with the publish itself
                publishes.record(conn, day=self.day, run_id=run_id, rows=audit)
        for table, asset in published_assets().items():
            context["outlet_events"][asset].extra = {"day": self.day, "rows": audit[table], "validation": validation}
        self.log.info("Published day %s: rows per table %s; its schema is dropped", self.day, audit)
        return {"day": self.day, "published": audit, "validation": validation}

    def get_openlineage_facets_on_complete(self, task_instance):
        """OpenLineage: sql/publish.sql as rendered for the day, through the provider's SQL parser
        (the run's audit copies in, the published tables out)."""
        from sparkify.names import run_schema
        from sparkify.operators import lineage
        from sparkify.warehouse.scripts import sql_file

        return lineage.sql_lineage(self.conn_id, sql_file("publish.sql"), schema=run_schema(self.day), parameters={"day": self.day})


class PublishDataDocsOperator(BaseOperator):
    """Build the Data Docs site and publish it to the docs location, whatever happened upstream."""

    template_fields: Sequence[str] = ("docs_location", "day")
    ui_color = "#e0f7fa"

    def __init__(
        self,
        *,
        docs_location: str = DOCS_LOCATION,
        conn_id: str = WAREHOUSE_CONN_ID,
        aws_conn_id: str = AWS_CONN_ID,
        day: str = DAY,
        **kwargs: Any,
    ):
        kwargs.setdefault("trigger_rule", "all_done")
        super().__init__(**kwargs)
        self.day = day
        self.docs_location = docs_location
        self.conn_id = conn_id
        self.aws_conn_id = aws_conn_id

    def execute(self, context) -> dict[str, Any]:
        from sparkify.names import run_schema
        from sparkify.quality.gx.docs import publish_docs

        published = publish_docs(
            self.conn_id,
            docs_location(self.docs_location),
            run_name=context["run_id"],
            aws_conn_id=self.aws_conn_id,
            schema=run_schema(self.day),
        )
        self.log.info("Data Docs published: %s", published["index"])
        return published


def describe_events(events) -> list[dict[str, Any]]:
    """What a downstream DAG reads from the songplays events that triggered it: per event, the
    day, the rows published and whether every validation of that day passed."""
    described = []
    for event in events:
        extra = dict(event.extra or {})
        validation = extra.get("validation") or {}
        described.append(
            {
                "day": extra.get("day"),
                "rows": extra.get("rows"),
                "all_passed": bool(validation) and validation.get("passed") == validation.get("suites"),
                "warnings": validation.get("warnings", 0),
            }
        )
    return described
