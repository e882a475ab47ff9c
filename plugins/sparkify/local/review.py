"""make review DAY=<day> DECISION=publish|hold REASON="...": decide a day held for review without
the UI, on the warehouse make run and make airflow use.

Publish moves the held run's kept audit copies into the published tables through the same
function as publish_day (operators.publish.review_day); hold publishes nothing. Either way the
decision (who, when, why) is recorded on the run's row of dq.day_publishes, and the run's entry
in build/run-summary.json is brought up to date when that summary lists the run.

When make airflow asked for the same decision (a sparkify_review run whose decide task awaits
input in the project's Airflow home), make review answers that request too, in Airflow's metadata
database, as the REST API would: the task resumes, finds the day decided, and ends skipped, so
that no task waits forever for a day already decided.

A publish also sends what publish_day's would: the published tables' Asset events, written to
that metadata database as the REST API's POST /assets/events writes them (so asset-scheduled DAGs
run), and the day's OpenLineage publish event (job sparkify_review.make_review, the decision as
its run's tags) where a transport is configured (LINEAGE=file|console, or
AIRFLOW__OPENLINEAGE__TRANSPORT).
"""

from __future__ import annotations

import getpass
import json
import os
from datetime import date
from pathlib import Path

from sparkify.local.airflow_home import use_warehouse_env
from sparkify.local.report import say, table_counts
from sparkify.settings import WAREHOUSE_CONN_ID, build_dir

REVIEWER_ENV = "SPARKIFY_REVIEWER"  # who decides (BY=...); default: the operating-system user
DOCS_ENV = "AIRFLOW_VAR_SPARKIFY_DOCS"  # the Data Docs location, as Airflow's tasks read it (default build/data_docs)


def _airflow_db() -> str | None:
    """Why there is no Airflow metadata database to write to, or None when there is one: the
    environment names one, or the Airflow home (the project's .airflow/) has its SQLite file."""
    home = Path(os.environ.get("AIRFLOW_HOME", ""))
    if os.environ.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN") or (home / "airflow.db").is_file():
        return None
    return f"No Airflow metadata database in {home}"


def main(day: str, decision: str, reason: str, *, by: str | None = None, summary_path: Path | None = None) -> int:
    """Decide the day; exit status 0 when decided, 1 when there is nothing to decide (or a step after
    the decision failed, which it says), 2 for bad input."""
    try:
        date.fromisoformat(day)
    except ValueError:
        say(f"make review: DAY={day!r} is not a day (YYYY-MM-DD).")
        return 2
    # The project's Airflow home and warehouse before Airflow is imported: Airflow reads its
    # configuration (AIRFLOW_HOME, its metadata database) once, at its first import.
    use_warehouse_env()
    from sparkify.operators.publish import redocument, review_day
    from sparkify.settings import docs_location

    who = by or os.environ.get(REVIEWER_ENV) or getpass.getuser()
    try:
        record = review_day(WAREHOUSE_CONN_ID, day, decision, by=who, reason=reason)
    except ValueError as err:
        say(f'make review: {err} (make review DAY={day} DECISION=publish|hold REASON="...").')
        return 2
    except LookupError as err:
        say(f"make review: {err}.")
        return 1
    if record["rows_per_table"] is not None:
        rows = record["rows_per_table"]
        say(f"{day}: {record['state']} (run {record['run_id']}), decided by {who}: " + ", ".join(f"{t} {n:,}" for t, n in rows.items()))
    else:
        say(f"{day}: held (run {record['run_id']}), decided by {who}; nothing published, its audit copies stay for inspection.")
    path = summary_path or build_dir() / "run-summary.json"
    say(_update_summary(path, record))
    after = [lambda: answer_request(record["run_id"], decision, by=who, reason=reason),
             lambda: redocument(WAREHOUSE_CONN_ID, record["run_id"], docs_location(os.environ.get(DOCS_ENV)))]  # fmt: skip
    if record["rows_per_table"] is not None:
        after += [lambda: asset_events(day, record), lambda: lineage_event(day, record)]
    failed = 0
    for step in after:
        try:
            say(step())
        except Exception as err:  # the decision has committed: say what did not follow it, and go on
            failed += 1
            say(f"make review: the decision is recorded, but a step after it failed: {type(err).__name__}: {str(err).splitlines()[0]}")
    return 1 if failed else 0


def asset_events(day: str, record: dict) -> str:
    """The published tables' Asset events (extra: the day, its rows, the review), registered in the
    Airflow metadata database as Airflow's REST API registers an event; what it did, in a line."""
    missing = _airflow_db()
    if missing:
        return f"{missing}: no Asset events (an Airflow that runs the DAGs needs one to hear of this publish)."
    from airflow.assets.manager import asset_manager
    from airflow.models.asset import AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    from sparkify.operators.publish import published_assets
    from sparkify.quality.store.publishes import review_of

    sent = []
    with create_session() as session:
        for table, asset in published_assets().items():
            model = session.scalar(select(AssetModel).where(AssetModel.name == asset.name, AssetModel.uri == asset.uri))
            extra = {"day": day, "rows": record["rows_per_table"][table], "review": review_of(record)}
            if model is not None and asset_manager.register_asset_change(asset=model, extra=extra, source_is_api=True, session=session):
                sent.append(asset.name)
    if not sent:
        return "No Asset events: the Airflow metadata database has none of the published tables' Assets (no DAG was parsed there)."
    return f"Asset events: {', '.join(sent)}."


def lineage_event(day: str, record: dict) -> str:
    """The day's OpenLineage publish event, where a transport is configured; what it did, in a line."""
    from sparkify.local.airflow_home import TRANSPORT_SETTING

    configured = os.environ.get(TRANSPORT_SETTING)
    if not configured:
        return f"OpenLineage: no transport configured (LINEAGE=file|console, or {TRANSPORT_SETTING}); no event."
    from datetime import UTC, datetime

    from airflow.providers.openlineage.utils.utils import _PRODUCER
    from openlineage.client import OpenLineageClient
    from openlineage.client.event_v2 import Job, Run, RunEvent, RunState
    from openlineage.client.uuid import generate_new_uuid

    from sparkify.operators.publish import publish_lineage
    from sparkify.quality.store.publishes import review_of
    from sparkify.settings import REVIEW_DAG_ID

    found = publish_lineage(WAREHOUSE_CONN_ID, day, review_of(record))
    namespace = os.environ.get("AIRFLOW__OPENLINEAGE__NAMESPACE", "default")
    event = RunEvent(
        eventType=RunState.COMPLETE,
        eventTime=datetime.now(UTC).isoformat(),
        run=Run(runId=str(generate_new_uuid()), facets=found.run_facets),
        job=Job(namespace=namespace, name=f"{REVIEW_DAG_ID}.make_review", facets=found.job_facets),
        inputs=found.inputs,
        outputs=found.outputs,
        producer=_PRODUCER,
    )
    OpenLineageClient(config={"transport": json.loads(configured)}).emit(event)
    return f"OpenLineage: publish event of {day} sent ({json.loads(configured).get('type')} transport)."


def answer_request(run_id: str, decision: str, *, by: str, reason: str) -> str:
    """Answer the held run's review requests that wait in the Airflow home's metadata database
    (sparkify_review's runs ``review__<run_id>`` and ``review__<run_id>__try<n>``, task decide):
    the same writes as Airflow's REST API (PATCH .../hitlDetails), locks in its order, then each
    task's resume. What it did, in a line."""
    from sparkify.operators.review import HOLD, PUBLISH
    from sparkify.settings import REVIEW_DAG_ID

    home = Path(os.environ.get("AIRFLOW_HOME", ""))
    missing = _airflow_db()
    if missing:
        return f"{missing}: no review request to answer."
    from airflow._shared.timezones import timezone
    from airflow.models.hitl import HITLDetail
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.trigger import handle_event_submit
    from airflow.triggers.base import TriggerEvent
    from airflow.utils.session import create_session
    from airflow.utils.state import TaskInstanceState
    from sqlalchemy import select

    review_run = f"review__{run_id}"
    answered = []
    with create_session() as session:
        tis = session.scalars(
            select(TaskInstance)
            .where(TaskInstance.dag_id == REVIEW_DAG_ID, TaskInstance.task_id == "decide")
            .where((TaskInstance.run_id == review_run) | TaskInstance.run_id.startswith(f"{review_run}__try", autoescape=True))
            .order_by(TaskInstance.run_id)
            .with_for_update(of=TaskInstance)
        ).all()
        for ti in tis:
            detail = session.scalar(select(HITLDetail).where(HITLDetail.ti_id == ti.id).with_for_update(of=HITLDetail))
            if detail is None or detail.response_received:
                continue
            detail.chosen_options = [PUBLISH if decision == "publish" else HOLD]
            detail.params_input = {"reason": reason}
            detail.responded_by = {"id": by, "name": by}
            detail.responded_at = timezone.utcnow()
            if ti.state in (TaskInstanceState.AWAITING_INPUT, TaskInstanceState.DEFERRED):
                handle_event_submit(TriggerEvent(detail.as_resume_event_payload()), task_instance=ti, session=session)
            answered.append(ti.run_id)
    if not answered:
        return f"No review request of run {run_id} waits in Airflow ({home}): nothing to answer."
    return f"Answered the review request of run {run_id} in Airflow ({REVIEW_DAG_ID} run {', '.join(answered)}): {decision} by {by}."


def _update_summary(path: Path, record: dict) -> str:
    """The run's entry of run-summary.json with the decision, and the tables' final counts."""
    from sparkify.quality.store.publishes import PUBLISHED_STATES, review_of

    try:
        summary = json.loads(path.read_text())
    except (OSError, ValueError):
        return f"{path}: no run summary to update."
    entries = [r for r in summary.get("runs", []) if r.get("run_id") == record["run_id"]]
    if not entries:
        return f"{path}: does not list run {record['run_id']}; not changed."
    for entry in entries:
        entry["review"] = review_of(record)
        entry["published"] = record["state"] in PUBLISHED_STATES
    counts = table_counts(WAREHOUSE_CONN_ID)
    summary["tables"] = {t: counts[t] or 0 for t in summary.get("tables", {})}
    summary["songplays_with_song"] = counts["songplays_with_song"]
    path.write_text(json.dumps(summary, indent=2) + "\n")
    return f"{path}: updated."
