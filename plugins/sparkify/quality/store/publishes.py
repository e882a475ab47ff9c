"""Each day's publish record (``dq.day_publishes``): which run's audit copies became the day's
published rows, and when. publish_day writes it in the transaction that publishes; the quality
page and make run's summary read "published" from here."""

from __future__ import annotations

from datetime import date
from typing import Any


def record(conn, *, day: str, run_id: str, rows: dict[str, int]) -> None:
    """The day's publish by ``run_id`` (``rows``: rows published per table), on the caller's
    transaction: it commits with the publish itself, or not at all. A retried publish of the same
    run replaces its row."""
    with conn.cursor() as cur:
        cur.execute("delete from dq.day_publishes where run_id = %(run_id)s", {"run_id": run_id})
        cur.execute(
            "insert into dq.day_publishes (day, run_id, rows_published) values (cast(%(day)s as date), %(run_id)s, %(rows)s)",
            {"day": day, "run_id": run_id, "rows": sum(rows.values())},
        )


def newest(conn, days: list[date]) -> dict[date, dict[str, Any]]:
    """The newest publish of each of ``days`` that has one: {day: {"run_id", "published_at", "rows"}}."""
    if not days:
        return {}
    with conn.cursor() as cur:
        cur.execute(
            "select day, run_id, published_at, rows_published from dq.day_publishes "
            "where day between %(first)s and %(last)s order by day, published_at",
            {"first": min(days), "last": max(days)},
        )
        found = {day: {"run_id": run_id, "published_at": at, "rows": int(rows)} for day, run_id, at, rows in cur}  # the newest wins
    return {day: found[day] for day in days if day in found}


def published_runs(conn, run_ids: list[str]) -> set[str]:
    """Which of ``run_ids`` published their day."""
    if not run_ids:
        return set()
    names = {f"r{i}": run_id for i, run_id in enumerate(run_ids)}  # one placeholder each: both dialects' drivers
    with conn.cursor() as cur:
        cur.execute(f"select run_id from dq.day_publishes where run_id in ({', '.join(f'%({n})s' for n in names)})", names)
        return {run_id for (run_id,) in cur.fetchall()}
