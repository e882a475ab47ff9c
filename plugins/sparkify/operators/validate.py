"""Validate a run's table with a committed GX checkpoint; a critical failure fails the task (no retry)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseOperator

from sparkify.names import suites
from sparkify.operators.links import DataDocsLink
from sparkify.quality.outcome import Plan, StoreRow, Summary
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
            "preloaded by the worker process (sparkify.warm)"
            if "great_expectations" in sys.modules
            else "imported by this task process (about 5 s; sparkify.warm preloads it in the worker)",
        )

        from sparkify.names import run_schema
        from sparkify.quality import store
        from sparkify.quality.gx.run import validate
        from sparkify.settings import docs_page_url

        self._lineage_record: StoreRow | None = None
        self._lineage_profile = None
        outcome = validate(self.suite, run_name=context["run_id"], conn_id=self.conn_id, docs_location=docs_location(self.docs_location),
                           schema=run_schema(self.day), plan=self.plan(context), day=self.day)  # fmt: skip
        summary = outcome.summary
        # The shared store gets the row first, pass or fail, in its own transaction: every machine
        # (publish_data_docs on any worker, the API server, notebooks) reads results from there.
        # A table's per-day metrics (quality.store.metrics) are written in that transaction.
        self._lineage_profile = store.save(
            self.conn_id, outcome.row, schema=run_schema(self.day), checks=outcome.checks, sensitive=outcome.sensitive
        )
        self._lineage_record = outcome.row  # for the OpenLineage facets, pass or fail
        for item in summary["not_checked"]:
            self.log.info("Not checked, %s: %s", item["metric"], item["reason"])
        # One XCom, pushed before any failure is raised: the run summary reads it.
        context["ti"].xcom_push(key="summary", value=summary)
        # The extra link (links.DataDocsLink), computed as the task ends: the page in the Airflow UI.
        self.docs_page_url = docs_page_url(summary["page"]) if summary["page"] else ""
        if not summary["success"] or summary["failed_warning"] or summary["failed_review"]:
            self._alert(summary, context)
        if not summary["success"]:
            raise AirflowFailException(summary["message"])
        self.log.info("Suite %s passed: %s expectations, %s warning(s), %s for review. Data Docs: %s", self.suite,
                      summary["evaluated"], summary["failed_warning"], summary["failed_review"], summary["data_docs"])  # fmt: skip

    def plan(self, context) -> Plan:
        """The suite's run-time parameters (the templated ones, as numbers) and no mark."""
        return Plan(parameters={k: numeric_parameter(k, v) for k, v in self.expectation_parameters.items()})

    def _alert(self, summary: Summary, context) -> None:
        from sparkify.operators.alerts import notify

        # The page in the Airflow UI when the API server's base URL is known, else where it is published.
        url = self.docs_page_url or ""
        link = url if url.startswith("http") else summary.get("data_docs")
        sent = notify(summary, link=link, critical=bool(summary["failed_critical"]), context=context)
        if sent:
            self.log.info("Alert sent: %s", ", ".join(sent))

    def get_openlineage_facets_on_complete(self, task_instance):
        """OpenLineage (also on failure): the validated table, carrying the dataQualityAssertions and
        dataQualityMetrics facets of the result this task stored (none when no result was stored)."""
        from airflow.providers.openlineage.extractors import OperatorLineage

        from sparkify.names import run_schema, suite_table
        from sparkify.operators import lineage

        record, profile = getattr(self, "_lineage_record", None), getattr(self, "_lineage_profile", None)
        facets = (
            lineage.validation_facets(lineage.stored_result(record), row_count=record.get("row_count"), profile=profile) if record else None
        )
        name = record["table_name"] if record else suite_table(self.suite)
        return OperatorLineage(inputs=[lineage.table(self.conn_id, run_schema(self.day), name, input_facets=facets)])


class HistoryValidationOperator(GxValidationOperator):
    """validate_history: the day's metrics (dq.day_metrics, stored by the table validations)
    against the days published before it, with the settings of gx/history.toml.

    Each checked metric's range comes from quality.checks.history and reaches the committed suite
    ``history`` as its run-time parameters; the run's values are written to the run schema's
    one-row table ``day_metrics``, which the suite validates. A metric without enough history is
    reported as not checked (never as passed). A value outside its range fails its expectation at
    the metric's severity (gx/history.toml): a warning reports, a critical one blocks publishing.
    Each metric's outcome is stored on its dq.day_metrics row with the validation's row.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(suite="history", **kwargs)

    def plan(self, context) -> Plan:
        from datetime import date

        from sparkify.names import run_schema
        from sparkify.quality import store
        from sparkify.quality.checks import history
        from sparkify.quality.gx.marks import history_marker
        from sparkify.quality.store import run_tables
        from sparkify.settings import gx_dir
        from sparkify.warehouse.connection import transaction

        settings = history.load(gx_dir())
        day = date.fromisoformat(self.day)
        with transaction(self.conn_id) as (conn, _):
            observed = store.run_metrics(conn, context["run_id"])
            missing = [metric for metric in settings.metrics if metric not in observed]
            if missing:  # a configuration error: no retry would find them
                from airflow.sdk.exceptions import AirflowFailException

                raise AirflowFailException(
                    f"validate_history: run {context['run_id']} stored no value of {', '.join(missing)} (gx/{history.FILE}); "
                    "each is written by its table's validation task (sparkify/quality/store/metrics.py names the metrics)."
                )
            past = store.metric_history(conn, day, list(settings.metrics))
            run_tables.write_day_metrics(conn, run_schema(self.day), {metric: observed[metric] for metric in settings.metrics})
        checks = {
            metric: history.bounds(metric, day, past[metric], settings, rows=observed.get(f"{metric.split('.')[0]}.rows"))
            if observed[metric] is not None
            else history.Bounds(metric, False, note="no value (its table is empty)")
            for metric in settings.metrics
        }
        parameters = {**super().plan(context).parameters, **history.expectation_parameters(checks, observed)}
        return Plan(parameters=parameters, mark=history_marker(checks, settings, observed))


class LakeFieldsValidationOperator(GxValidationOperator):
    """validate_lake_fields: schema drift in the lake. The top-level JSON fields that stage_events
    and stage_songs counted (dq.lake_fields) against those of the published days before
    (quality.checks.drift; window and minimum from gx/history.toml): each new field by name and count,
    each field gone. The run's fields go to the run schema's table ``lake_fields``, which the
    committed suite ``lake_fields`` validates with the baseline's field sets as parameters."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(suite="lake_fields", **kwargs)

    def plan(self, context) -> Plan:
        from datetime import date

        from sparkify.names import run_schema
        from sparkify.quality import store
        from sparkify.quality.checks import drift, history
        from sparkify.quality.gx.marks import lake_fields_marker
        from sparkify.quality.store import run_tables
        from sparkify.settings import gx_dir
        from sparkify.warehouse.connection import transaction

        settings = history.load(gx_dir())
        day = date.fromisoformat(self.day)
        with transaction(self.conn_id) as (conn, _):
            today = store.run_lake_fields(conn, context["run_id"])
            checks = {
                source: drift.check(source, today.get(source), store.lake_field_history(conn, day, source, limit=settings.window_days),
                                    settings)
                for source in drift.SOURCES
            }  # fmt: skip
            run_tables.write_lake_fields(conn, run_schema(self.day), checks)
        parameters = {**super().plan(context).parameters, **drift.expectation_parameters(checks)}
        return Plan(parameters=parameters, mark=lake_fields_marker(checks))
