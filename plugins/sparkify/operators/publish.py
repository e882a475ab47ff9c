"""Publish a run: its audit copies into the published tables, and its Data Docs pages."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from airflow.sdk import BaseOperator

from sparkify.names import TABLES
from sparkify.settings import AWS_CONN_ID, WAREHOUSE_CONN_ID, docs_location
from sparkify.templates import DAY, DOCS_LOCATION

log = logging.getLogger(__name__)


def published_assets() -> dict[str, Any]:
    """One Airflow Asset per published star-schema table (what downstream DAGs schedule on)."""
    from airflow.sdk import Asset

    return {table: Asset(name=f"sparkify.{table}", uri=f"sparkify://warehouse/public/{table}", group="sparkify") for table in TABLES}


class PublishDayOperator(BaseOperator):
    """Publish the run's audit copies into the published tables in one transaction (sql/publish.sql),
    then drop the run's schema and record the publish (dq.day_publishes: the day, the run, when) in
    that same transaction. Runs only when every critical check passed.

    A failed review-severity check (an expectation's meta, or gx/history.toml) holds the day
    instead: its record says "waiting" with the checks, the audit copies stay in the run's schema,
    nothing is published, an alert goes out, and the task ends skipped so that the run finishes.
    A person then decides (``review_day``, make review).

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
            validation = store.run_validations(conn, run_id) if run_id else {}
            # Only a suite that stored a failure can hold a review check (the store counts them with
            # the warnings) or a waivable critical one: a day without one reads no XCom here.
            checks = self._review_checks(context, validation.get("suites_with_failures", []))
            if checks:  # the day's hold commits alone: nothing of it is published
                held_at = publishes.hold(conn, day=self.day, run_id=run_id, checks=checks)
            else:
                audit = publish_run(conn, self.day)
                if run_id:  # the day's publish record commits with the publish itself
                    publishes.record(conn, day=self.day, run_id=run_id, rows=audit)
        if checks:
            self._held(context, checks, held_at)
        for table, asset in published_assets().items():
            context["outlet_events"][asset].extra = {"day": self.day, "rows": audit[table], "validation": validation}
        self.log.info("Published day %s: rows per table %s; its schema is dropped", self.day, audit)
        return {"day": self.day, "published": audit, "validation": validation}

    def _review_checks(self, context, suites: list[str]) -> list[dict[str, Any]]:
        """The failed review-severity expectations of ``suites``' validations in this run (their
        XCom summaries, values masked)."""
        from sparkify.quality.gx.summary import review_checks

        tasks = sorted(f"validate_{suite}" for suite in suites if f"validate_{suite}" in self.upstream_task_ids)
        pulled = context["ti"].xcom_pull(task_ids=tasks, key="summary") if tasks else []  # a list: task_ids is one
        return review_checks([summary for summary in pulled if summary])

    def _held(self, context, checks: list[dict[str, Any]], held_at: datetime) -> None:
        """After the hold committed: the alerts' channels hear of it, make run reads it from XCom,
        and the task ends skipped (``end`` with it), so that the run finishes and frees its slot."""
        from airflow.sdk.exceptions import AirflowSkipException

        from sparkify.operators.alerts import deliver
        from sparkify.quality.gx.summary import review_text
        from sparkify.quality.store import publishes

        text = review_text(self.day, checks) + "\n" + decide_hint(self.day)
        # The hold's time and this try tell the request from one of an earlier try (a cleared run).
        held = {"state": publishes.WAITING, "checks": checks, "held_at": held_at.isoformat(), "try": context["ti"].try_number}
        context["ti"].xcom_push(key="review", value=held)
        sent = deliver(f"[sparkify] Day {self.day} held for review", text, context)
        self.log.warning("%s%s", text, f"\nAlert sent: {', '.join(sent)}" if sent else "")
        raise AirflowSkipException(f"Day {self.day} held for review: nothing published; its audit copies are kept")

    def get_openlineage_facets_on_complete(self, task_instance):
        """OpenLineage: sql/publish.sql as rendered for the day, through the provider's SQL parser
        (the run's audit copies in, the published tables out)."""
        return publish_lineage(self.conn_id, self.day)


def publish_lineage(conn_id: str, day: str, review: dict[str, Any] | None = None):
    """OpenLineage of a day's publish: sql/publish.sql as rendered for the day, through the
    provider's SQL parser (the run's audit copies in, the published tables out); a person's
    decision on a held day (``review``, as publishes.review_of gives it) as the run's tags."""
    from sparkify.names import run_schema
    from sparkify.operators import lineage
    from sparkify.warehouse.scripts import sql_file

    found = lineage.sql_lineage(conn_id, sql_file("publish.sql"), schema=run_schema(day), parameters={"day": day})
    if review:
        found.run_facets["tags"] = lineage.review_tags(review)
    return found


def review_day(conn_id: str, day: str, decision: str, *, by: str, reason: str, held_at: str | None = None) -> dict[str, Any]:
    """A person's decision on the day's run that waits for review: publish moves its kept audit
    copies into the published tables exactly as publish_day does (the same function, one
    transaction with the decision's record); hold publishes nothing and keeps them. Returns the
    record as it now reads, with the rows published per table. ``held_at`` (a request's): the
    decision is for that hold only; a newer hold of the run (it was cleared and held anew) is
    refused with LookupError."""
    from sparkify.quality.store import publishes
    from sparkify.warehouse.connection import transaction
    from sparkify.warehouse.wap import publish_run

    if decision not in publishes.DECISIONS:
        raise ValueError(f"decision {decision!r}: it is publish or hold")
    if not reason.strip():
        raise ValueError("a reason is required: it is recorded with the decision")
    with transaction(conn_id) as (conn, _):
        found = publishes.newest_hold(conn, day)
        if found is None:
            raise LookupError(f"no run of {day} was held for review (dq.day_publishes)")
        if found["state"] != publishes.WAITING:
            raise LookupError(
                f"the newest held run of {day} ({found['run_id']}) is not waiting for a decision: it was {found['state']} by "
                f"{found['decided_by']} at {found['decided_at']:%Y-%m-%d %H:%M} UTC ({found['reason']}); "
                "run the day again to review it anew"
            )
        if held_at is not None and found["held_at"] != datetime.fromisoformat(held_at):
            anew = f"{found['held_at']:%Y-%m-%d %H:%M:%S}"
            raise LookupError(f"run {found['run_id']} of {day} was held anew at {anew}: this answer was for its hold of {held_at}")
        rows = publish_run(conn, day) if decision == "publish" else None
        # Publishing over a waivable critical failure is a waiver: the day reads "waived".
        state = publishes.WAIVED if rows is not None and any(c.get("waivable") for c in found["checks"]) else publishes.DECISIONS[decision]
        record = publishes.decide(conn, run_id=found["run_id"], state=state, by=by, reason=reason.strip(), rows=rows)
    _announce(day, record, rows)
    return {**record, "rows_per_table": rows}


def _announce(day: str, record: dict[str, Any], rows: dict[str, int] | None) -> None:
    """After the decision committed: the alerts' channels hear of it (the day's hold went to them)."""
    from sparkify.operators.alerts import deliver

    done = "published: " + ", ".join(f"{t} {n:,}" for t, n in rows.items()) if rows is not None else "nothing published"
    text = (
        f"Day {day} (run {record['run_id']}, held for review since {record['held_at']:%Y-%m-%d %H:%M} UTC): "
        f"{record['state']} by {record['decided_by']} at {record['decided_at']:%Y-%m-%d %H:%M} UTC.\n"
        f"Reason: {record['reason']}\n{done}."
    )
    sent = deliver(f"[sparkify] Day {day} {record['state']} after review by {record['decided_by']}", text)
    log.info("Decision on %s announced on: %s", day, ", ".join(sent) or "no channel (none configured)")


def redocument(conn_id: str, run_id: str, docs: str, *, aws_conn_id: str | None = None) -> str:
    """After a decision: the held run's Data Docs pages rendered again, saying who decided what
    and why (their Review line), and published to ``docs``. The decision has committed already:
    a publish that fails is logged, and what it says is returned."""
    from sparkify.quality.gx.docs import publish_docs

    try:
        published = publish_docs(conn_id, docs, run_name=run_id, aws_conn_id=aws_conn_id)
    except Exception as err:  # the decision stands; the pages say "waiting" until the next publish of the docs
        log.warning("Data Docs of run %s not published again after its decision (%s: %s)", run_id, type(err).__name__, err)
        return f"Data Docs: not published again ({type(err).__name__}: {err}); its pages still say it waits."
    return f"Data Docs: run {run_id}'s {published['pages']} page(s) published again with the decision ({published['location']})."


def check_slos(conn_id: str, day: str, context=None, *, log=log) -> list[dict[str, Any]]:
    """The tables' quality SLOs (gx/slo.toml) after the day's run: each one's standing in the log,
    and an alert on the alerts' channels for each budget that ``day``'s miss spent. A wrong
    gx/slo.toml is logged, naming the file and key; it never fails the run."""
    from airflow.sdk import Variable

    from sparkify.operators.alerts import deliver
    from sparkify.operators.deadline import deadline_hours
    from sparkify.quality import store
    from sparkify.quality.checks import slo
    from sparkify.settings import PUBLISH_DEADLINE_DEFAULT, PUBLISH_DEADLINE_VARIABLE, gx_dir

    try:
        objectives = slo.load(gx_dir(), TABLES)
    except ValueError as err:
        log.error("Quality SLOs not checked: %s", err)
        return []
    if not objectives:
        return []
    found = store.slo_records(conn_id, max(o.window_days for o in objectives))
    try:
        hours = deadline_hours(Variable.get(PUBLISH_DEADLINE_VARIABLE, default=PUBLISH_DEADLINE_DEFAULT))
    except Exception as err:  # not in a task (make review), or the API server did not answer: the default
        log.info("Variable %s not read (%s); the SLOs use %s h", PUBLISH_DEADLINE_VARIABLE, type(err).__name__, PUBLISH_DEADLINE_DEFAULT)
        hours = float(PUBLISH_DEADLINE_DEFAULT)
    keys = ("publishes", "holds", "first_seen")
    results = slo.evaluate_all(objectives, found["records"], **{k: found[k] for k in keys}, deadline_hours=hours)
    the_day = date.fromisoformat(day)
    for result in results:
        met, budget = f"{result['met']} of {result['days']} days met", f"budget left {result['left']} of {result['allowed']}"
        log.info("Quality SLO of %s: %s; %s%s", result["table"], met, budget, "" if result["enough"] else " (not enough days yet)")
    spent = [result for result in results if result["spent"] and the_day in result["misses"]]
    if spent:
        subject, text = slo.alert_text(spent, the_day)
        sent = deliver(subject, text, context)
        log.warning("%s\n%s\nAlert sent on: %s", subject, text, ", ".join(sent) or "no channel (none configured)")
    return results


def decide_hint(day: str) -> str:
    """How a person decides a held day without the UI."""
    return f'Decide it: make review DAY={day} DECISION=publish|hold REASON="..."'


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
        check_slos(self.conn_id, self.day, context, log=self.log)
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
