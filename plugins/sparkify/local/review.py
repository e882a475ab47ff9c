"""make review DAY=<day> DECISION=publish|hold REASON="...": decide a day held for review without
the UI, on the warehouse make run and make airflow use.

Publish moves the held run's kept audit copies into the published tables through the same
function as publish_day (operators.publish.review_day); hold publishes nothing. Either way the
decision (who, when, why) is recorded on the run's row of dq.day_publishes, and the run's entry
in build/run-summary.json is brought up to date when that summary lists the run.

When make airflow asked for the same decision (a sparkify_review run whose decide task awaits
input in the project's Airflow home), make review answers that request too, in Airflow's metadata
database, as the REST API would: the task resumes, finds the day decided, and ends, so that no
task waits forever for a day already decided.
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


def main(day: str, decision: str, reason: str, *, by: str | None = None, summary_path: Path | None = None) -> int:
    """Decide the day; exit status 0 when decided, 1 when there is nothing to decide, 2 for bad input."""
    from sparkify.operators.publish import review_day

    try:
        date.fromisoformat(day)
    except ValueError:
        say(f"make review: DAY={day!r} is not a day (YYYY-MM-DD).")
        return 2
    use_warehouse_env()
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
    say(answer_request(record["run_id"], decision, by=who, reason=reason))
    return 0


def answer_request(run_id: str, decision: str, *, by: str, reason: str) -> str:
    """Answer the held run's review requests that wait in the Airflow home's metadata database
    (sparkify_review's runs ``review__<run_id>`` and ``review__<run_id>__try<n>``, task decide):
    the same writes as Airflow's REST API (PATCH .../hitlDetails), locks in its order, then each
    task's resume. What it did, in a line."""
    from sparkify.operators.review import HOLD, PUBLISH
    from sparkify.settings import REVIEW_DAG_ID

    home = Path(os.environ.get("AIRFLOW_HOME", ""))
    if not os.environ.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN") and not (home / "airflow.db").is_file():
        return f"No Airflow metadata database in {home}: no review request to answer."
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
