"""Quality SLOs per published table, declared in the committed file gx/slo.toml.

A table's objective: ``target`` (a share) of the last ``window_days`` days meet it. A day meets
it when the day's newest run published the day itself, on time, with no critical failure in that
table's checks:

* **on time**: published by the day's end plus ``sparkify_publish_deadline_hours``. A day whose
  first result was stored after that (a backfill of history, a lake loaded late) cannot be on
  time and is judged on the rest;
* a day **held for review** by its newest run counts against the budget whatever was decided
  (waiting, held, or published by a person), and so does a **waived** day;
* a day of the window with **no result at all** (never run) counts against it.

The error budget is the number of days the target allows to miss, ``floor((1 - target) ×
window)``; it is **spent** once the misses reach it (the next miss breaks the objective). Until
the store holds a whole window (its first day at least ``window_days`` back), the share is shown
over the days there are, as "not enough days yet", and no budget is judged or alerted on.

Pure: plain values in, plain values out; quality.store reads the days, the quality page shows
the outcome, and publish_data_docs alerts when a day's miss spends a budget.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

FILE = "slo.toml"
KEYS = {"target", "window_days"}


@dataclass(frozen=True)
class Objective:
    table: str
    target: float = 0.95
    window_days: int = 28

    def describe(self) -> str:
        return f"{self.target:.0%} of the last {self.window_days} days published on time with no critical failure"


def load(gx_root: Path, tables: tuple[str, ...]) -> list[Objective]:
    """gx/slo.toml, checked: a bad value names the file, the table or section, and the key."""
    path = Path(gx_root) / FILE
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []  # no SLOs declared
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"{path}: not valid TOML: {error}") from None
    unknown = sorted(f"[{key}]" for key in set(data) - {"defaults", "tables"})
    if unknown:
        raise ValueError(f"{path}: unknown section(s) {', '.join(unknown)}; it takes [defaults] and [tables].")
    defaults = _values(path, "[defaults]", data.get("defaults", {}), {})
    declared = data.get("tables", {})
    strange = sorted(set(declared) - set(tables))
    if strange:
        raise ValueError(f"{path}: [tables] {', '.join(strange)}: not a published table ({', '.join(tables)}).")
    return [Objective(table, **_values(path, f"[tables] {table}", declared[table], defaults)) for table in tables if table in declared]


def _values(path: Path, where: str, given: Any, defaults: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(given, dict):
        raise ValueError(f"{path}: {where} = {given!r}; give a table of target and window_days, e.g. {{ target = 0.95 }}.")
    unknown = sorted(set(given) - KEYS)
    if unknown:
        raise ValueError(f"{path}: {where}: unknown key(s) {', '.join(unknown)}; it takes target and window_days.")
    values = {**defaults, **given}
    target = values.get("target", Objective.target)
    if isinstance(target, bool) or not isinstance(target, (int, float)) or not 0 < target <= 1:
        raise ValueError(f"{path}: {where}: target = {target!r}; it must be a share above 0 and at most 1 (0.95 is 95%).")
    window = values.get("window_days", Objective.window_days)
    if isinstance(window, bool) or not isinstance(window, int) or window < 1:
        raise ValueError(f"{path}: {where}: window_days = {window!r}; it must be a whole number of at least 1.")
    return {"target": float(target), "window_days": window}


def day_outcome(
    table: str,
    *,
    newest_run: str | None,
    critical_tables: set[str],
    publish: dict[str, Any] | None,
    hold: dict[str, Any] | None,
    first_seen: datetime | None,
    deadline: datetime,
) -> tuple[bool, str]:
    """(met, why) of one day for one table. ``publish``, ``hold``: the day's newest publish and
    newest hold records (run_id, state, published_at); ``first_seen``: when the day's first
    result was stored; ``deadline``: the day's end plus the publish deadline (UTC, naive)."""
    if newest_run is None:
        return False, "no run"
    if hold is not None and hold["run_id"] == newest_run:
        state = hold["state"]
        return False, "published as waived" if state == "waived" else f"held for review ({state})"
    if table in critical_tables:
        return False, "a critical check of the table failed"
    if publish is None or publish["run_id"] != newest_run:
        return False, "not published by its newest run"
    if first_seen is not None and first_seen > deadline:
        return True, "published (first run after its deadline: history, not judged for time)"
    if publish["published_at"] > deadline:
        return False, f"published late ({publish['published_at']:%Y-%m-%d %H:%M} UTC, deadline {deadline:%Y-%m-%d %H:%M} UTC)"
    return True, "published on time"


def evaluate(objective: Objective, outcomes: dict[date, tuple[bool, str]]) -> dict[str, Any]:
    """The objective over the window that ends at the newest day of ``outcomes`` (the days with
    results; a day of the window without one was never run): days met, share, the budget and
    what is left of it, and each missed day with why."""
    newest, first = max(outcomes), min(outcomes)
    full = [newest - timedelta(days=n) for n in range(objective.window_days)]
    window = [day for day in full if day >= first]
    misses = {day: outcomes[day][1] if day in outcomes else "no run" for day in window if not outcomes.get(day, (False, ""))[0]}
    allowed = math.floor((1 - objective.target) * objective.window_days + 1e-9)
    met, enough = len(window) - len(misses), len(window) == len(full)
    return {
        "table": objective.table,
        "objective": objective.describe(),
        "enough": enough,
        "days": len(window),
        "window_days": objective.window_days,
        "met": met,
        "share": met / len(window),
        "allowed": allowed,
        "missed": len(misses),
        "left": allowed - len(misses),
        "spent": enough and len(misses) >= allowed and len(misses) > 0,
        "broken": enough and met / len(window) < objective.target,
        "misses": dict(sorted(misses.items(), reverse=True)),
    }


def alert_text(results: list[dict[str, Any]], day: date) -> tuple[str, str]:
    """(subject, text) of the one alert sent when ``day``'s miss spent the budgets of ``results``' tables."""
    lines = []
    for r in results:
        verb = "SLO broken" if r["broken"] else "error budget spent"
        lines += [
            f"{r['table']}: {verb}. Objective: {r['objective']}.",
            f"  Met on {r['met']} of {r['days']} days ({r['share']:.1%}); {r['missed']} missed, {r['allowed']} allowed by the budget.",
            *(f"  - {d}: {why}" for d, why in r["misses"].items()),
        ]
    tables = ", ".join(r["table"] for r in results)
    return f"[sparkify] Quality SLO: error budget spent for {tables} ({day} missed)", "\n".join(lines)


def evaluate_all(
    objectives: list[Objective],
    records: list[dict[str, Any]],
    *,
    publishes: dict,
    holds: dict,
    first_seen: dict,
    deadline_hours: float,
) -> list[dict[str, Any]]:
    """Each objective over the window that ends at the newest day with results. ``records``: the
    store's day results (each day's newest run per suite, earlier runs' marked); ``publishes``,
    ``holds``: each day's newest publish and hold; ``first_seen``: each day's first stored result."""
    days = sorted({r["day"] for r in records})
    if not days or not objectives:
        return []
    newest_run = {r["day"]: r["run_id"] for r in records if not r.get("earlier")}
    critical: dict[date, set[str]] = {}
    for r in records:
        if not r.get("earlier") and r["failed_critical"]:
            critical.setdefault(r["day"], set()).add(r["table"])
    found = []
    for objective in objectives:
        outcomes = {
            day: day_outcome(
                objective.table,
                newest_run=newest_run.get(day),
                critical_tables=critical.get(day, set()),
                publish=publishes.get(day),
                hold=holds.get(day),
                first_seen=first_seen.get(day),
                deadline=datetime(day.year, day.month, day.day) + timedelta(days=1, hours=deadline_hours),
            )
            for day in days
        }
        found.append(evaluate(objective, outcomes))
    return found
