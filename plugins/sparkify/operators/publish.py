"""Publish a run: its audit copies into the published tables, and its Data Docs pages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseOperator

from sparkify.operators.validate import DAY, DOCS_LOCATION, docs_location
from sparkify.settings import AWS_CONN_ID, WAREHOUSE_CONN_ID


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
        from sparkify.warehouse.connection import transaction
        from sparkify.warehouse.wap import publish_run

        with transaction(self.conn_id) as (conn, _):
            audit = publish_run(conn, self.day)
        self.log.info("Published day %s: rows per table %s; its schema is dropped", self.day, audit)
        return {"day": self.day, "published": audit}


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
        from sparkify.quality.docs import publish_docs

        published = publish_docs(
            self.conn_id,
            docs_location(self.docs_location),
            run_name=context["run_id"],
            aws_conn_id=self.aws_conn_id,
            schema=run_schema(self.day),
        )
        self.log.info("Data Docs published: %s", published["index"])
        return published
