"""Each day's publish record (``dq.day_publishes``), one row per run that reached publish_day:
which run's audit copies became the day's published rows and when, or why they were held.

A run's ``state``:

- ``published``: its rows are the day's published rows (after a review, ``decided_by``, ``reason``);
- ``waiting``: a review-severity check failed; its audit copies are kept in its run schema,
  nothing of it is published, and a person decides (make review, or Airflow's HITL);
- ``waived``: a person published it over a waivable critical failure (with a reason);
- ``held``: a person decided Hold; nothing of it was published;
- ``superseded``: a newer run of the day replaced it while it waited (its schema was dropped by
  that run's prepare_warehouse, which says so in its log).

publish_day writes the row in the transaction that publishes or holds; the quality page, make
run's summary and make review read the day's state from here, not from task states.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

PUBLISHED, WAIVED, WAITING, HELD, SUPERSEDED = "published", "waived", "waiting", "held", "superseded"
DECISIONS = {"publish": PUBLISHED, "hold": HELD}
PUBLISHED_STATES = (PUBLISHED, WAIVED)  # the run's rows are the day's published rows
_COLUMNS = "day, run_id, state, recorded_at, held_at, published_at, rows_published, decided_by, decided_at, reason, checks"


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)  # the store's timestamps are UTC without a zone, in both dialects


def record(conn, *, day: str, run_id: str, rows: dict[str, int]) -> None:
    """The day's publish by ``run_id`` (``rows``: rows published per table), on the caller's
    transaction: it commits with the publish itself, or not at all. A retried publish of the same
    run replaces its row."""
    _write(conn, day=day, run_id=run_id, state=PUBLISHED, stamp="published_at", rows_published=sum(rows.values()))


def hold(conn, *, day: str, run_id: str, checks: list[dict[str, Any]]) -> datetime:
    """The run ``run_id`` of ``day`` held for review because of ``checks`` (its failed
    review-severity expectations, values masked as in every report), on the caller's transaction.
    Returns the hold's time (``held_at``), which tells this hold from an earlier one of the same run."""
    return _write(conn, day=day, run_id=run_id, state=WAITING, stamp="held_at", checks=json.dumps(checks))


def _write(conn, *, day: str, run_id: str, stamp: str, **columns: Any) -> datetime:
    """The run's row, replacing an earlier attempt's (a retry of publish_day); ``stamp`` is the
    column that gets the time it is recorded at (published_at or held_at), which is returned.
    A person's decision on the earlier attempt (the run was cleared after it) is kept: its row
    stays, under the run id with ``#decided-<when>`` appended."""
    now = _now()
    values = {"day": day, "run_id": run_id, "recorded_at": now, stamp: now, **columns}
    names = ", ".join(values)
    placeholders = ", ".join("cast(%(day)s as date)" if name == "day" else f"%({name})s" for name in values)
    with conn.cursor() as cur:
        cur.execute(
            "update dq.day_publishes set run_id = run_id || %(suffix)s where run_id = %(run_id)s and decided_by is not null",
            {"run_id": run_id, "suffix": f"#decided-{now:%Y%m%dT%H%M%S}"},
        )
        cur.execute("delete from dq.day_publishes where run_id = %(run_id)s", {"run_id": run_id})
        cur.execute(f"insert into dq.day_publishes ({names}) values ({placeholders})", values)
    return now


def supersede(conn, *, day: str, run_id: str) -> list[dict[str, Any]]:
    """A new run ``run_id`` of ``day`` replaces the day's runs still waiting for a decision (its
    prepare_warehouse drops their run schema): they become ``superseded``; returns them."""
    waiting = _rows(conn, "day = cast(%(day)s as date) and state = %(state)s and run_id <> %(run_id)s",
                    {"day": day, "state": WAITING, "run_id": run_id})  # fmt: skip
    with conn.cursor() as cur:
        for found in waiting:
            cur.execute(
                "update dq.day_publishes set state = %(state)s, reason = %(reason)s where run_id = %(run_id)s",
                {"state": SUPERSEDED, "reason": f"replaced by run {run_id} before a decision", "run_id": found["run_id"]},
            )
    return waiting


def decide(conn, *, run_id: str, state: str, by: str, reason: str, rows: dict[str, int] | None = None) -> dict[str, Any]:
    """A person's decision on a waiting run (``state``: published, waived or held), on the
    caller's transaction (the one that publishes its audit copies); returns the record as it now
    reads."""
    now = _now()
    with conn.cursor() as cur:
        cur.execute(
            "update dq.day_publishes set state = %(state)s, decided_by = %(by)s, decided_at = %(now)s, reason = %(reason)s, "
            "published_at = %(published_at)s, rows_published = %(rows)s where run_id = %(run_id)s and state = %(waiting)s",
            {"state": state, "by": by, "now": now, "reason": reason, "run_id": run_id, "waiting": WAITING,
             "published_at": now if state in PUBLISHED_STATES else None, "rows": sum(rows.values()) if rows else None},
        )  # fmt: skip
        if cur.rowcount != 1:
            raise LookupError(f"run {run_id} is not waiting for a decision (dq.day_publishes)")
    (found,) = _rows(conn, "run_id = %(run_id)s", {"run_id": run_id})
    return found


def newest_hold(conn, day: str) -> dict[str, Any] | None:
    """The day's newest record that was held for review (waiting, held, or published after a
    decision); None when no run of the day was held."""
    the_day = date.fromisoformat(day)
    return holds(conn, [the_day]).get(the_day)


def of_runs(conn, run_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The records of ``run_ids`` that have one: {run_id: record}."""
    if not run_ids:
        return {}
    names = {f"r{i}": run_id for i, run_id in enumerate(run_ids)}  # one placeholder each: both dialects' drivers
    return {r["run_id"]: r for r in _rows(conn, f"run_id in ({', '.join(f'%({n})s' for n in names)})", names)}


def newest(conn, days: list[date]) -> dict[date, dict[str, Any]]:
    """The newest publish of each of ``days`` that has one: {day: {"run_id", "published_at", "rows"}}."""
    if not days:
        return {}
    found = _rows(conn, "day between %(first)s and %(last)s and published_at is not null", {"first": min(days), "last": max(days)})
    found.sort(key=lambda r: r["published_at"])  # the newest publish of a day wins
    by_day = {r["day"]: {"run_id": r["run_id"], "published_at": r["published_at"], "rows": r["rows"]} for r in found}
    return {day: by_day[day] for day in days if day in by_day}


def holds(conn, days: list[date]) -> dict[date, dict[str, Any]]:
    """The newest held record of each of ``days`` that has one (see ``newest_hold``)."""
    if not days:
        return {}
    found = _rows(conn, "day between %(first)s and %(last)s and held_at is not null and state <> %(gone)s",
                  {"first": min(days), "last": max(days), "gone": SUPERSEDED})  # fmt: skip
    by_day = {r["day"]: r for r in found}  # ordered by recorded_at: the newest wins
    return {day: by_day[day] for day in days if day in by_day}


def review_of(record: dict[str, Any] | None) -> dict[str, Any] | None:
    """A run's review as run-summary.json gives it: None for a run never held, else its state
    (waiting, published, waived or held), who decided, when, why, and the checks that held it."""
    if record is None or record["held_at"] is None:
        return None
    at = record["decided_at"]
    return {
        "state": record["state"],
        "by": record["decided_by"],
        "at": f"{at:%Y-%m-%dT%H:%M:%S}Z" if at else None,
        "reason": record["reason"],
        "checks": record["checks"],
        "held_at": f"{record['held_at']:%Y-%m-%dT%H:%M:%S}Z",
    }


def review_line(record: dict[str, Any] | None) -> str | None:
    """A run's review in one line (its Data Docs pages show it); None for a run never held."""
    if record is None or record["held_at"] is None:
        return None
    held = f"held for review at {record['held_at']:%Y-%m-%d %H:%M} UTC"
    if record["state"] == WAITING:
        return f"waiting for review: {held}; nothing of the day is published until a person decides"
    if record["state"] == SUPERSEDED:
        return f"{held}; superseded: {record['reason']}"
    verb = {PUBLISHED: "published after review", WAIVED: "published as waived", HELD: "held (not published)"}[record["state"]]
    return f"{verb} by {record['decided_by']} at {record['decided_at']:%Y-%m-%d %H:%M} UTC: {record['reason']} ({held})"


def _rows(conn, where: str, parameters: dict[str, Any]) -> list[dict[str, Any]]:
    """Records matching ``where``, oldest first."""
    with conn.cursor() as cur:
        cur.execute(f"select {_COLUMNS} from dq.day_publishes where {where} order by recorded_at", parameters)
        found = cur.fetchall()
    names = [c.strip() for c in _COLUMNS.split(",")]
    out = []
    for values in found:
        r = dict(zip(names, values, strict=True))
        r["rows"] = None if r["rows_published"] is None else int(r["rows_published"])
        r["checks"] = json.loads(r["checks"]) if r["checks"] else []
        out.append(r)
    return out
