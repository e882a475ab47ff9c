"""Validate a run's table with a committed GX checkpoint; a critical failure fails the task (no retry)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseOperator

from sparkify.names import suites
from sparkify.operators.links import DataDocsLink
from sparkify.settings import WAREHOUSE_CONN_ID, docs_location
from sparkify.templates import DAY, DOCS_LOCATION


def numeric_parameter(name: str, value: Any) -> int | float:
    """A suite parameter as a number. Templated values (XCom, Variables) render as text; anything
    that is not a plain number is refused with the parameter's name, never passed on."""
    if isinstance(value, bool):
        raise ValueError(f"Expectation parameter {name!r} must be a number, got {value!r}.")
    if isinstance(value, (int, float)):
        return value
    text = str(value).strip()
    if text.lstrip("-").isdigit():
        return int(text)
    try:
        number = float(text)
    except ValueError:
        number = float("nan")
    if number != number or number in (float("inf"), float("-inf")):
        raise ValueError(f"Expectation parameter {name!r} must be a number, got {_clip(text)!r}.")
    return number


def _clip(text: str) -> str:
    return text if len(text) <= 80 else text[:77] + "..."


class GxValidationOperator(BaseOperator):
    """Run the GX checkpoint of one suite on the warehouse; fail (no retry) on a critical failure.

    The summary (JSON) goes to XCom before failing; warning-level failures only report.
    """

    template_fields: Sequence[str] = ("expectation_parameters", "docs_location", "day")
    template_fields_renderers = {"expectation_parameters": "json"}
    operator_extra_links = (DataDocsLink(),)
    ui_color = "#fff4d6"

    def __init__(
        self,
        *,
        suite: str,
        expectation_parameters: dict[str, Any] | None = None,
        docs_location: str = DOCS_LOCATION,
        day: str = DAY,
        conn_id: str = WAREHOUSE_CONN_ID,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.day = day
        known = suites()
        if suite not in known:
            raise ValueError(
                f"GxValidationOperator: suite={suite!r} has no checkpoint gx/checkpoints/{suite}.json; the suites are {', '.join(known)}."
            )
        self.suite = suite
        self.expectation_parameters = expectation_parameters or {}
        self.docs_location = docs_location
        self.conn_id = conn_id

    def execute(self, context) -> None:
        import sys

        self.docs_page_url = None  # set once this run's page is known (read by links.DataDocsLink)

        from airflow.sdk.exceptions import AirflowFailException

        self.log.info(
            "Great Expectations: %s",
            "preloaded by the worker process (sparkify.warm)" if "great_expectations" in sys.modules
            else "imported by this task process (about 5 s; sparkify.warm preloads it in the worker)",
        )  # fmt: skip

        from sparkify.names import run_schema
        from sparkify.quality import store
        from sparkify.quality.checkpoint import validate
        from sparkify.quality.summary import failure_message
        from sparkify.settings import docs_page_url

        run_name = context["run_id"]
        parameters = {k: numeric_parameter(k, v) for k, v in self.expectation_parameters.items()}
        self._lineage_record: dict[str, Any] | None = None
        summary, record = validate(
            self.suite,
            run_name=run_name,
            conn_id=self.conn_id,
            docs_location=docs_location(self.docs_location),
            schema=run_schema(self.day),
            expectation_parameters=parameters,
            day=self.day,
        )
        # The shared store gets the row first, pass or fail, in its own transaction: every machine
        # (publish_data_docs on any worker, the API server, notebooks) reads results from there.
        store.save(self.conn_id, record)
        self._lineage_record = record  # for the OpenLineage facets, pass or fail
        summary["day"] = self.day
        summary["message"] = failure_message(summary) if not summary["success"] else ""
        # One XCom, pushed before any failure is raised: the run summary reads it.
        context["ti"].xcom_push(key="summary", value=summary)
        # The extra link (links.DataDocsLink), computed as the task ends: the page in the Airflow UI.
        self.docs_page_url = docs_page_url(summary["page"]) if summary.get("page") else ""
        if not summary["success"] or summary["failed_warning"]:
            from sparkify.operators.alerts import notify

            # The page in the Airflow UI when the API server's base URL is known, else where it is published.
            url = self.docs_page_url
            link = url if url.startswith("http") else summary.get("data_docs")
            sent = notify(summary, link=link, critical=not summary["success"], context=context)
            if sent:
                self.log.info("Alert sent: %s", ", ".join(sent))
        if not summary["success"]:
            raise AirflowFailException(summary["message"])
        self.log.info(
            "Suite %s passed: %s expectations, %s warning(s). Data Docs: %s",
            self.suite,
            summary["evaluated"],
            summary["failed_warning"],
            summary["data_docs"],
        )

    def get_openlineage_facets_on_complete(self, task_instance):
        """OpenLineage (also on failure): the validated table, carrying the dataQualityAssertions and
        dataQualityMetrics facets of the result this task stored (none when no result was stored)."""
        from airflow.providers.openlineage.extractors import OperatorLineage

        from sparkify.names import run_schema, suite_table
        from sparkify.quality import lineage

        record = getattr(self, "_lineage_record", None)
        facets = lineage.validation_facets(lineage.stored_result(record), row_count=record.get("row_count")) if record else None
        name = record["table_name"] if record else suite_table(self.suite)
        return OperatorLineage(inputs=[lineage.table(self.conn_id, run_schema(self.day), name, input_facets=facets)])
