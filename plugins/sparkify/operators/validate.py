"""Validate a warehouse table with a committed GX checkpoint; publish Data Docs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseOperator, BaseOperatorLink

from sparkify import AWS_CONN_ID, WAREHOUSE_CONN_ID

SUITES = (
    "quarantine",
    "staging_events",
    "staging_songs",
    "users",
    "songs",
    "artists",
    "songplays",
    "time",
    "referential_integrity",
)
DOCS_LOCATION = "{{ var.value.get('sparkify_docs', '') }}"


class DataDocsLink(BaseOperatorLink):
    """Extra link from a validation task instance to its own Data Docs page.

    Airflow 3 computes it on the worker when the task ends (also when it failed) and stores it in
    XCom; it is a URL of the page in the Data Docs app of the Airflow plugin (sparkify_plugin.py).
    """

    name = "Data Docs"

    def get_link(self, operator, *, ti_key) -> str:
        from airflow.sdk.execution_time.xcom import XCom

        from sparkify.docs_app import page_url

        summary = XCom.get_value(ti_key=ti_key, key="summary") or {}
        return page_url(summary["page"]) if summary.get("page") else ""


def docs_location(value: str | None) -> str:
    """The published docs location, defaulting to build/data_docs of the project."""
    from sparkify.quality import DEFAULT_DOCS_LOCATION

    return (value or "").strip() or DEFAULT_DOCS_LOCATION


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
        day: str = "{{ ds }}",
        conn_id: str = WAREHOUSE_CONN_ID,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.day = day
        if suite not in SUITES:
            raise ValueError(f"GxValidationOperator: suite={suite!r} is not one of {', '.join(SUITES)}.")
        self.suite = suite
        self.expectation_parameters = expectation_parameters or {}
        self.docs_location = docs_location
        self.conn_id = conn_id

    def execute(self, context) -> None:
        from airflow.sdk.exceptions import AirflowFailException

        from sparkify.db import run_schema
        from sparkify.quality import failure_message, run_checkpoint

        run_name = context["run_id"]
        parameters = {k: numeric_parameter(k, v) for k, v in self.expectation_parameters.items()}
        summary = run_checkpoint(
            self.suite,
            run_name=run_name,
            conn_id=self.conn_id,
            docs_location=docs_location(self.docs_location),
            schema=run_schema(self.day),
            expectation_parameters=parameters,
        )
        summary["date"] = context["ds"]
        summary["message"] = failure_message(summary) if not summary["success"] else ""
        # One XCom, pushed before any failure is raised: the run summary and the extra link read it.
        context["ti"].xcom_push(key="summary", value=summary)
        if not summary["success"]:
            raise AirflowFailException(summary["message"])
        self.log.info(
            "Suite %s passed: %s expectations, %s warning(s). Data Docs: %s",
            self.suite,
            summary["evaluated"],
            summary["failed_warning"],
            summary["data_docs"],
        )


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
        day: str = "{{ ds }}",
        **kwargs: Any,
    ):
        kwargs.setdefault("trigger_rule", "all_done")
        super().__init__(**kwargs)
        self.day = day
        self.docs_location = docs_location
        self.conn_id = conn_id
        self.aws_conn_id = aws_conn_id

    def execute(self, context) -> dict[str, Any]:
        from sparkify.db import run_schema
        from sparkify.quality import publish_docs

        published = publish_docs(
            self.conn_id,
            docs_location(self.docs_location),
            run_name=context["run_id"],
            aws_conn_id=self.aws_conn_id,
            schema=run_schema(self.day),
        )
        self.log.info("Data Docs published: %s", published["index"])
        return published
