"""What make run reports: final table counts, the run summary (build/run-summary.json), the console."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sparkify.names import PAST_DAYS_SUITES, TABLES

NOT_RUN = "not run"  # a validation's state in the run summary when its task never started
_CONTROL = {c: f"\\x{c:02x}" for c in (*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0))}


def printable(text: str) -> str:
    """Text safe for a terminal: control characters from data (ESC sequences that move the cursor,
    recolour or retitle the terminal, carriage returns that overwrite a line) shown as \\xNN."""
    return str(text).translate(_CONTROL)


def say(message: str) -> None:
    print(printable(message), flush=True)


def table_counts(conn_id: str) -> dict[str, Any]:
    """Rows in each published table; None for a table not created yet (a new warehouse whose
    first day failed before prepare_warehouse)."""
    from sparkify.warehouse.connection import transaction

    counts: dict[str, Any] = {}
    with transaction(conn_id) as (conn, _), conn.cursor() as cur:
        cur.execute("select table_name from information_schema.tables where table_schema = current_schema()")
        existing = {row[0] for row in cur.fetchall()}
        for table in TABLES:
            counts[table] = None
            if table in existing:
                cur.execute(f"select count(*) from {table}")
                counts[table] = cur.fetchone()[0]
        counts["songplays_with_song"] = 0
        if "songplays" in existing:
            cur.execute("select count(*) from songplays where song_id is not null")
            counts["songplays_with_song"] = cur.fetchone()[0]
    return counts


def publish_records(conn_id: str, run_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Each run's publish record, as the results store keeps it (dq.day_publishes): published,
    or held for review and what was decided."""
    from sparkify.quality.store import ensure, publishes
    from sparkify.warehouse.connection import transaction

    with transaction(conn_id) as (conn, dialect):
        ensure(conn, dialect)  # a new warehouse whose first day failed before prepare_warehouse has no store yet
        return publishes.of_runs(conn, run_ids)


def summarise(results: list[dict[str, Any]], counts: dict[str, Any], records: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """The run summary of DESIGN.md: staged rows, final table counts, every validation;
    ``records``: each run's publish record in the store (None: read from publish_day's state)."""
    from sparkify.quality.store.publishes import PUBLISHED_STATES, review_of

    staged_events = 0
    staged_songs = 0
    validations: list[dict[str, Any]] = []
    for day in results:
        xcom = day["xcom"]
        staged_events += (xcom.get("stage_events", {}).get("return_value") or {}).get("loaded", 0)
        # Each day stages only the song files new or changed since the published catalog: the sum is the run's.
        staged_songs += (xcom.get("stage_songs", {}).get("return_value") or {}).get("loaded", 0)
        validations.extend(
            _validation(day, task_id, state) for task_id, state in sorted(day["tasks"].items()) if task_id.startswith("validate_")
        )
    tables = {t: counts[t] or 0 for t in TABLES}
    return {
        "staged": {"events": staged_events, "songs": staged_songs},
        "tables": tables,
        "tables_not_created": [t for t in TABLES if counts[t] is None],
        "songplays_with_song": counts["songplays_with_song"],
        "runs": [
            {
                "date": d["date"],
                "run_id": d["run_id"],
                "state": d["state"],
                "seconds": d["seconds"],
                # Published only when the run's rows are in the published tables (dq.day_publishes).
                "published": (records.get(d["run_id"]) or {}).get("state") in PUBLISHED_STATES
                if records is not None
                else d["tasks"].get("publish_day") == "success",
                # null, or the hold: waiting (for a decision), published or held, by whom, when, why.
                "review": review_of(records.get(d["run_id"])) if records is not None else None,
                "quarantined": sum(
                    (d["xcom"].get(t, {}).get("return_value") or {}).get("quarantined", 0) for t in ("stage_events", "stage_songs")
                ),
                # The catalog's manifest: song files staged (new or changed) and skipped (unchanged).
                "song_files": {
                    "staged": (d["xcom"].get("stage_songs", {}).get("return_value") or {}).get("files", 0),
                    "unchanged": (d["xcom"].get("stage_songs", {}).get("return_value") or {}).get("unchanged_files", 0),
                },
            }
            for d in results
        ],
        "root_causes": root_causes(results),
        "validations": validations,
    }


def _validation(day: dict[str, Any], task_id: str, state: str) -> dict[str, Any]:
    """One validation task of a day in the run summary."""
    xcom = day["xcom"]
    summary = xcom.get(task_id, {}).get("summary") or {}
    # A validation that never started (upstream_failed, skipped) is "not run", with no
    # success either way; one that ran has its task state and its outcome.
    ran = bool(summary) or state in ("success", "failed")
    return {
        "date": day["date"],
        "suite": summary.get("suite", task_id.removeprefix("validate_")),
        "task_id": task_id,
        "state": state if ran else NOT_RUN,
        "success": (bool(summary.get("success")) and state == "success") if ran else None,
        "failed_critical": summary.get("failed_critical"),
        "failed_warning": summary.get("failed_warning"),
        "data_docs": summary.get("data_docs"),
        # The task's extra link, as Airflow stored it when the task ended.
        "link": xcom.get(task_id, {}).get("_link_DataDocsLink"),
        "message": summary.get("message") or "",
        "warnings": warnings(summary),
        # History checks without a range (quality.checks.history): metric and reason.
        "not_checked": summary.get("not_checked") or [],
    }


def warnings(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """A validation's failed warning-level expectations: the expectation, its column, the observed
    value and the expected range (the bounds it ran with), and its description."""
    out = []
    for failure in summary.get("failures") or []:
        if failure.get("severity") != "warning":
            continue
        kwargs = failure.get("kwargs") or {}
        values = [value for value in failure.get("values") or [] if value is not None]
        observed = failure.get("observed")
        if observed is None and failure.get("unexpected_count") is not None and failure.get("element_count"):
            observed = f"{failure['unexpected_count']} unexpected of {failure['element_count']}"
        if observed is None and values:
            observed = values[0] if len(values) == 1 else values
        expected = {k: kwargs[k] for k in ("min_value", "max_value", "mostly", "value_set") if k in kwargs}
        out.append(
            {
                "expectation": failure.get("expectation"),
                "column": kwargs.get("column"),
                "observed": observed,
                "expected": expected,
                "description": failure.get("description") or "",
            }
        )
    return out


def root_causes(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per failed day, the tasks that failed themselves (not those upstream_failed because of them),
    each with the first lines of its error and, for a validation, its failure message and page."""
    causes = []
    for day in results:
        if day["state"] == "success":
            continue
        blocked = sorted(t for t, s in day["tasks"].items() if s == "upstream_failed")
        for task_id, state in sorted(day["tasks"].items()):
            if state != "failed":
                continue
            xcom = day["xcom"].get(task_id, {})
            summary = xcom.get("summary") or {}
            causes.append(
                {
                    "date": day["date"],
                    "task_id": task_id,
                    "error": xcom.get("error") or "(no error recorded: see the task's log)",
                    "message": summary.get("message") or "",
                    "data_docs": summary.get("data_docs"),
                    "blocked": blocked,
                }
            )
    return causes


def waiting_days(summary: dict[str, Any]) -> list[str]:
    """The days of the run held for review and still waiting for a decision."""
    return [r["date"] for r in summary["runs"] if (r.get("review") or {}).get("state") == "waiting"]


def _say_reviews(summary: dict[str, Any]) -> None:
    """Each day held for review: its checks, and the command that decides it."""
    from sparkify.operators.publish import decide_hint
    from sparkify.quality.gx.summary import review_text

    for r in summary["runs"]:
        review = r.get("review")
        if review and review["state"] == "waiting":
            for line in review_text(r["date"], review["checks"]).splitlines():
                say(f"  {line}")
            say(f"  {decide_hint(r['date'])}")
        elif review:
            say(f"  {r['date']} was held for review; {review['state']} by {review['by']} at {review['at']}: {review['reason']}")


def print_summary(summary: dict[str, Any], path: Path) -> None:
    from sparkify.settings import docs_location

    say("")
    say(f"Staged rows: events {summary['staged']['events']:,}, songs {summary['staged']['songs']:,}")
    say("Tables:")
    not_created = summary.get("tables_not_created") or []
    for table, count in summary["tables"].items():
        say(f"  {table:<10} {count:>10,}" + ("  (not created yet: no day reached prepare_warehouse)" if table in not_created else ""))
    say(f"  songplays with a matched song: {summary['songplays_with_song']:,}")
    published = [r["date"] for r in summary["runs"] if r["published"]]
    held = [r["date"] for r in summary["runs"] if not r["published"]]
    say(f"Published days: {len(published)} of {len(summary['runs'])}" + (f"; NOT published: {', '.join(held)}" if held else ""))
    _say_reviews(summary)
    quarantined = {r["date"]: r["quarantined"] for r in summary["runs"] if r["quarantined"]}
    if quarantined:
        say("Quarantined lines/files: " + ", ".join(f"{d}: {n}" for d, n in quarantined.items()) + " (table quarantine)")
    if summary["root_causes"]:
        say("Root causes (the tasks that failed themselves, with their errors):")
        for date in dict.fromkeys(cause["date"] for cause in summary["root_causes"]):
            causes = [cause for cause in summary["root_causes"] if cause["date"] == date]
            for cause in causes:
                say(f"  {date} {cause['task_id']} FAILED")
                for line in (cause["message"] or cause["error"]).splitlines():
                    say(f"      {line}")
            if causes[0]["blocked"]:
                say(f"  {date} not run because of them (upstream_failed): {', '.join(causes[0]['blocked'])}")
    passed = sum(v["success"] is True for v in summary["validations"])
    not_run = sum(v["state"] == NOT_RUN for v in summary["validations"])
    say(f"Validations: {passed} passed of {len(summary['validations'])}" + (f" ({not_run} not run)" if not_run else ""))
    for v in summary["validations"]:
        if v["success"] is False:
            say(f"  FAILED {v['date']} {v['suite']} ({v['state']}) {v['data_docs'] or ''}")
        if v["suite"] in PAST_DAYS_SUITES:  # each out-of-range metric, new or gone field: what, and against which days
            for w in v.get("warnings") or []:
                say(f"  warning {v['date']} {v['suite']}: {w['description']}")
    # Fixed-rule warnings repeat day after day: one line per expectation, with its days.
    repeated: dict[tuple[str, str], list[str]] = {}
    for v in summary["validations"]:
        for w in v.get("warnings") or [] if v["suite"] not in PAST_DAYS_SUITES else []:
            repeated.setdefault((v["suite"], w["description"] or f"{w['expectation']} on {w['column']}"), []).append(v["date"])
    for (suite, said), dates in repeated.items():
        say(f"  warning {suite}: {said} on {len(dates)} day(s), {dates[0]} to {dates[-1]}")
    unchecked = sorted(
        {
            v["date"]
            for v in summary["validations"]
            for item in v.get("not_checked") or []
            if item["reason"].startswith("not enough history")
        }
    )
    if unchecked:
        say(f"History checks: not enough history yet on {len(unchecked)} day(s), {unchecked[0]} to {unchecked[-1]} (gx/history.toml)")
    say(f"Data Docs: {docs_location(os.environ.get('AIRFLOW_VAR_SPARKIFY_DOCS'))}/index.html")
    say(f"Summary: {path}  ({summary['seconds']}s)")
