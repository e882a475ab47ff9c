"""A day held for review, decided by a person through Airflow's human-in-the-loop (HITL).

publish_day holds a day whose review-severity (or waivable critical) checks failed, and ends
skipped. ``request_review`` runs after it: for a held day it triggers one run of the DAG
``sparkify_review`` (conf: the day and the held run) and ends, so the day's own run finishes and
frees its slot of ``max_active_runs``; a held day never stalls the days after it. That run's one
task, ``decide`` (ReviewDecisionOperator), waits in Airflow's AWAITING_INPUT state, holding no
worker slot, until a person answers on the UI's "Required actions" page or through the REST API
(PATCH .../hitlDetails): Publish or Hold, with a reason. Who may answer is Airflow's to say (PUT
on the DAG's HITL details), narrowed to the usernames of the Variable ``sparkify_review_owners``
when it is set (``owners``; under FAB this needs ``sparkify.auth.FabAuthManager``, which matches
them by username). The Variable ``sparkify_review_timeout_hours`` bounds the wait: when it passes,
the scheduler answers Hold. Both are read when a request is made. The answer is applied with
``review_day``, the function make review uses; a day make review decided first is left as
decided, and make review answers a request still waiting (``sparkify.local.review``).

make run never waits for a person: its runner turns the requests off (``REVIEW_REQUESTS_ENV``)
and prints the make review command instead.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from airflow.providers.standard.operators.hitl import HITLOperator
from airflow.sdk import BaseOperator, Param

from sparkify.settings import REVIEW_DAG_ID, REVIEW_OWNERS_VARIABLE, REVIEW_REQUESTS_ENV, REVIEW_TIMEOUT_VARIABLE, WAREHOUSE_CONN_ID

PUBLISH, HOLD = "Publish", "Hold"
PUBLISH_TASK = "publish_day"
TIMED_OUT = "the review timeout"  # who decided a request nobody answered in time

log = logging.getLogger(__name__)


def owners(value: Any) -> list[dict[str, str]] | None:
    """The HITL request's assigned users from the Variable's usernames (comma-separated), or None
    (no narrowing) when it names nobody. Each user's id is the username: SimpleAuthManager's ids
    are usernames; under FAB, sparkify.auth.FabAuthManager matches the name instead of the
    numeric id."""
    names = sorted({name.strip() for name in str(value or "").split(",") if name.strip()})
    return [{"id": name, "name": name} for name in names] or None


def review_timeout(value: Any) -> timedelta | None:
    """The Variable's hours as the request's response timeout; None when unset. A value that is
    not a number > 0 is logged, naming the Variable, and the request waits without a limit: the
    day stays held either way, nothing is published by a bad setting."""
    if value is None or not str(value).strip():
        return None
    try:
        hours = float(value)
    except ValueError:
        hours = -1.0
    if not hours > 0:
        advice = "give the hours a review request waits, a number > 0. This request waits without a limit."
        log.error("Variable %s=%r: %s", REVIEW_TIMEOUT_VARIABLE, value, advice)
        return None
    return timedelta(hours=hours)


def review_run_id(run_id: str, publish_try: int) -> str:
    """The review run of a held run: ``review__<run id>``; a later try of publish_day (the run was
    cleared and held anew) asks anew, ``review__<run id>__try<n>``."""
    return f"review__{run_id}" + (f"__try{publish_try}" if publish_try > 1 else "")


class RequestReviewOperator(BaseOperator):
    """After publish_day: a held day's review run of ``sparkify_review``; skipped for a day that
    was published (or under make run). It triggers the run as TriggerDagRunOperator does on
    Airflow 3 (DagRunTriggerException, handled by the task runner) without importing that
    operator's module, which costs every task process parsing the DAG about 0.2 s."""

    ui_color = "#ead7f5"

    def __init__(self, **kwargs: Any) -> None:
        # Only a skipped publish_day (a held day) runs it; after a published day the scheduler
        # skips it without starting a process (a task ending skipped took Airflow 3.3.2's
        # LocalExecutor about 5 s to finish, on every clean day's critical path).
        kwargs.setdefault("trigger_rule", "all_skipped")
        super().__init__(**kwargs)
        self.trigger_dag_id = REVIEW_DAG_ID

    def execute(self, context) -> None:
        from airflow.sdk.exceptions import AirflowSkipException, DagRunTriggerException

        held = context["ti"].xcom_pull(task_ids=PUBLISH_TASK, key="review")
        if not held:
            raise AirflowSkipException("The day was not held for review: nothing to ask.")
        if os.environ.get(REVIEW_REQUESTS_ENV) == "off":
            raise AirflowSkipException("No review request under make run: it prints the make review command instead.")
        day, run_id = context["ds"], review_run_id(context["run_id"], held.get("try", 1))
        self.log.info("Day %s held for review: run %s of %s asks for a decision (Required actions)", day, run_id, REVIEW_DAG_ID)
        raise DagRunTriggerException(
            trigger_dag_id=REVIEW_DAG_ID,
            dag_run_id=run_id,
            conf={"day": day, "run_id": context["run_id"], "held_at": held.get("held_at")},  # held_at: this hold
            logical_date=None,
            run_after=datetime.now(UTC),
            reset_dag_run=False,
            skip_when_already_exists=True,  # a retry of this task asks once
            wait_for_completion=False,
            allowed_states=["success"],
            failed_states=["failed"],
            poke_interval=60,
            deferrable=False,
        )


class ReviewDecisionOperator(HITLOperator):
    """Ask for Publish or Hold (with a reason) on the held day of the run's conf, and apply the
    answer. A timeout (``response_timeout``) answers Hold. A Publish ends in success: the
    published tables' Asset events (extra: the day, its rows, the review) and the OpenLineage
    publish event (the decision as the run's tags) go out as publish_day's would. Hold, or an
    answer that changed nothing (make review decided first), ends skipped: nothing published."""

    def __init__(self, **kwargs: Any) -> None:
        from sparkify.operators.publish import published_assets

        kwargs.setdefault("outlets", list(published_assets().values()))
        kwargs.setdefault("subject", "Sparkify: day {{ dag_run.conf['day'] }} is held for review")
        kwargs.setdefault("options", [PUBLISH, HOLD])
        kwargs.setdefault("defaults", [HOLD])
        kwargs.setdefault("params", {"reason": Param("", type="string", title="Reason", description="Why (kept with the decision)")})
        super().__init__(**kwargs)

    def execute(self, context):
        from sparkify.quality.store import publishes
        from sparkify.warehouse.connection import transaction

        conf = context["dag_run"].conf or {}
        day, run_id, held_at = conf.get("day"), conf.get("run_id"), conf.get("held_at")
        with transaction(WAREHOUSE_CONN_ID) as (conn, _):
            held = publishes.newest_hold(conn, day) if day else None
        stale = held is not None and held_at is not None and held["held_at"] != datetime.fromisoformat(held_at)
        if held is None or held["run_id"] != run_id or held["state"] != publishes.WAITING or stale:
            from airflow.sdk.exceptions import AirflowSkipException

            state = f"{held['run_id']} {held['state']}, held at {held['held_at']}" if held else "no hold"
            raise AirflowSkipException(f"Run {run_id} of {day} is not waiting for a decision ({state}): nothing to ask.")
        from airflow.sdk import Variable

        self.body = request_body(day, held)
        self.assigned_users = owners(Variable.get(REVIEW_OWNERS_VARIABLE, default=""))
        self.response_timeout = review_timeout(Variable.get(REVIEW_TIMEOUT_VARIABLE, default=""))
        if self.response_timeout:
            by = datetime.now(UTC) + self.response_timeout
            self.body += f"\n\nNo answer by {by:%Y-%m-%d %H:%M} UTC is Hold ({REVIEW_TIMEOUT_VARIABLE})."
        if self.assigned_users:
            self.body += "\n\nWho may decide: " + ", ".join(u["name"] for u in self.assigned_users) + f" ({REVIEW_OWNERS_VARIABLE})."
        return super().execute(context)

    def execute_complete(self, context, event: dict[str, Any]) -> Any:
        from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

        from sparkify.operators.publish import published_assets, review_day
        from sparkify.quality.store.publishes import review_of

        answer = super().execute_complete(context, event)
        chosen = answer["chosen_options"][0]
        reason = str((answer["params_input"] or {}).get("reason") or "").strip()
        user = answer.get("responded_by_user") or {}
        by = str(user.get("name") or user.get("id") or TIMED_OUT)
        if event.get("timedout") or not user:
            reason = f"no answer before the review timeout ({REVIEW_TIMEOUT_VARIABLE}): held"
        conf = context["dag_run"].conf or {}
        day = conf["day"]
        if chosen == PUBLISH and not reason:
            raise AirflowFailException(f"Publish needs a reason; {day} still waits: answer again with make review (DAY={day}).")
        try:
            record = review_day(WAREHOUSE_CONN_ID, day, chosen.lower(), by=by, reason=reason, held_at=conf.get("held_at"))
        except LookupError as err:  # make review decided it first, or the run was held anew
            raise AirflowSkipException(f"Not applied: {err}") from None
        rows = record["rows_per_table"]
        self.log.info("Day %s: %s by %s (%s); rows %s", day, record["state"], by, reason, rows)
        self.log.info("%s", _redocument(record["run_id"]))
        if rows is None:
            raise AirflowSkipException(f"Day {day} {record['state']} by {by}: nothing published")
        self.review = {"day": day, **(review_of(record) or {})}
        for table, asset in published_assets().items():
            context["outlet_events"][asset].extra = {"day": day, "rows": rows[table], "review": review_of(record)}
        return {"day": day, "state": record["state"], "by": by, "rows": rows}

    def get_openlineage_facets_on_complete(self, task_instance):
        """OpenLineage of a Publish: the day's publish (as publish_day's), the decision as tags."""
        from airflow.providers.openlineage.extractors import OperatorLineage

        from sparkify.operators.publish import publish_lineage

        review = getattr(self, "review", None)  # set by a Publish in execute_complete
        return publish_lineage(WAREHOUSE_CONN_ID, review["day"], review) if review else OperatorLineage()


def _redocument(run_id: str) -> str:
    """The held run's Data Docs pages again, with the decision, at the docs location of the Variable."""
    from airflow.sdk import Variable

    from sparkify.operators.publish import redocument
    from sparkify.settings import AWS_CONN_ID, DOCS_VARIABLE, docs_location

    return redocument(WAREHOUSE_CONN_ID, run_id, docs_location(Variable.get(DOCS_VARIABLE, default="")), aws_conn_id=AWS_CONN_ID)


def request_body(day: str, held: dict[str, Any]) -> str:
    """The request's text (Markdown): the checks as plain text in a code block (their values come
    from the data, masked where sensitive, and must stay text), then links to their pages and to
    the Data quality page."""
    from sparkify.quality.gx.summary import review_text
    from sparkify.settings import QUALITY_URL_PREFIX, docs_page_url

    text = review_text(day, held["checks"]).replace("`", "'")
    links = [
        f"- [{c['table']} (suite {c['suite']})]({quote(docs_page_url(c['page']), safe='/:')})" for c in held["checks"] if c.get("page")
    ]
    return "\n".join(
        [
            f"Run `{held['run_id']}` held since {held['held_at']:%Y-%m-%d %H:%M} UTC.",
            "",
            "```text",
            text,
            "```",
            "",
            "Data Docs:",
            *links,
            f"- [Data quality page]({QUALITY_URL_PREFIX}/)",
            "",
            "Publish moves the kept audit copies into the published tables; Hold publishes nothing. Give a reason either way.",
        ]
    )
