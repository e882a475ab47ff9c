"""make review DAY=<day> DECISION=publish|hold REASON="...": decide a day held for review without
the UI, on the warehouse make run and make airflow use.

Publish moves the held run's kept audit copies into the published tables through the same
function as publish_day (operators.publish.review_day); hold publishes nothing. Either way the
decision (who, when, why) is recorded on the run's row of dq.day_publishes, and the run's entry
in build/run-summary.json is brought up to date when that summary lists the run.
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
    return 0


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
