"""A day held for review, decided by a person through Airflow's human-in-the-loop (HITL).

publish_day holds a day whose review-severity (or waivable critical) checks failed, and ends
skipped. ``request_review`` runs after it: for a held day it triggers one run of the DAG
``sparkify_review`` (conf: the day and the held run) and ends, so the day's own run finishes and
frees its slot of ``max_active_runs``; a held day never stalls the days after it. That run's one
task, ``decide`` (ReviewDecisionOperator), waits in Airflow's AWAITING_INPUT state, holding no
worker slot, until a person answers on the UI's "Required actions" page or through the REST API
(PATCH .../hitlDetails): Publish or Hold, with a reason. Who may answer is Airflow's to say (PUT
on the DAG's HITL details). The answer is applied with ``review_day``, the function make review
uses; a day make review decided first is left as decided.

make run never waits for a person: its runner turns the requests off (``REVIEW_REQUESTS_ENV``)
and prints the make review command instead.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from airflow.providers.standard.operators.hitl import HITLOperator
from airflow.sdk import BaseOperator, Param

from sparkify.settings import REVIEW_DAG_ID, REVIEW_REQUESTS_ENV, WAREHOUSE_CONN_ID

PUBLISH, HOLD = "Publish", "Hold"
PUBLISH_TASK = "publish_day"


class RequestReviewOperator(BaseOperator):
    """After publish_day: a held day's review run of ``sparkify_review``; skipped for a day that
    was published (or under make run). It triggers the run as TriggerDagRunOperator does on
    Airflow 3 (DagRunTriggerException, handled by the task runner) without importing that
    operator's module, which costs every task process parsing the DAG about 0.2 s."""

    ui_color = "#ead7f5"

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("trigger_rule", "none_failed")  # publish_day skipped is a held day
        super().__init__(**kwargs)
        self.trigger_dag_id = REVIEW_DAG_ID

    def execute(self, context) -> None:
        from airflow.sdk.exceptions import AirflowSkipException, DagRunTriggerException

        held = context["ti"].xcom_pull(task_ids=PUBLISH_TASK, key="review")
        if not held:
            raise AirflowSkipException("The day was not held for review: nothing to ask.")
        if os.environ.get(REVIEW_REQUESTS_ENV) == "off":
            raise AirflowSkipException("No review request under make run: it prints the make review command instead.")
        day, run_id = context["ds"], f"review__{context['run_id']}"
        self.log.info("Day %s held for review: run %s of %s asks for a decision (Required actions)", day, run_id, REVIEW_DAG_ID)
        raise DagRunTriggerException(
            trigger_dag_id=REVIEW_DAG_ID,
            dag_run_id=run_id,
            conf={"day": day, "run_id": context["run_id"]},
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
    answer. A timeout (``response_timeout``) answers Hold."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("subject", "Sparkify: day {{ dag_run.conf['day'] }} is held for review")
        kwargs.setdefault("options", [PUBLISH, HOLD])
        kwargs.setdefault("defaults", [HOLD])
        kwargs.setdefault("params", {"reason": Param("", type="string", title="Reason", description="Why (kept with the decision)")})
        super().__init__(**kwargs)

    def execute(self, context):
        from sparkify.quality.store import publishes
        from sparkify.warehouse.connection import transaction

        conf = context["dag_run"].conf or {}
        day, run_id = conf.get("day"), conf.get("run_id")
        with transaction(WAREHOUSE_CONN_ID) as (conn, _):
            held = publishes.newest_hold(conn, day) if day else None
        if held is None or held["run_id"] != run_id or held["state"] != publishes.WAITING:
            from airflow.sdk.exceptions import AirflowSkipException

            state = f"{held['run_id']} {held['state']}" if held else "no hold"
            raise AirflowSkipException(f"Run {run_id} of {day} is not waiting for a decision ({state}): nothing to ask.")
        self.body = request_body(day, held)
        return super().execute(context)

    def execute_complete(self, context, event: dict[str, Any]) -> Any:
        from airflow.sdk.exceptions import AirflowFailException

        from sparkify.operators.publish import review_day

        answer = super().execute_complete(context, event)
        chosen = answer["chosen_options"][0]
        reason = str((answer["params_input"] or {}).get("reason") or "").strip()
        user = answer.get("responded_by_user") or {}
        by = str(user.get("name") or user.get("id") or "the review timeout")
        if not reason and not user:
            reason = "no answer before the review timeout: held"
        day = (context["dag_run"].conf or {})["day"]
        if chosen == PUBLISH and not reason:
            raise AirflowFailException(f"Publish needs a reason; {day} still waits: answer again with make review (DAY={day}).")
        try:
            record = review_day(WAREHOUSE_CONN_ID, day, chosen.lower(), by=by, reason=reason)
        except LookupError as err:  # make review decided it first
            self.log.warning("Not applied: %s", err)
            return {"day": day, "applied": False}
        self.log.info("Day %s: %s by %s (%s); rows %s", day, record["state"], by, reason, record["rows_per_table"])
        return {"day": day, "applied": True, "state": record["state"], "by": by}


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
