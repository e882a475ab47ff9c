"""make backtest: what a suite would have said on each of the last days that ran, changing nothing.

Each expectation on each day is decided from the day's stored profile where the profile decides
it exactly (quality.checks.backtest), else through GX on the day's data where it still exists
(the published fact's and time's day partitions), else named "not decidable" with the reason.
Nothing is written: no table, no stored result, no Data Docs page.
"""

from __future__ import annotations

import json
import logging
import warnings
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sparkify.names import suite_table, suites
from sparkify.quality.checks import backtest as decide
from sparkify.quality.checks.profile import TableProfile
from sparkify.settings import WAREHOUSE_CONN_ID, gx_dir

# Published tables that keep each day apart: their rows of a past day are still there.
DAY_PARTITIONED = {"songplays": "start_time", "time": "start_time"}


class SuiteError(ValueError):
    """A suite that cannot be read: the message names the file or the suite."""


@dataclass
class Suite:
    name: str
    table: str
    expectations: list[dict[str, Any]]
    committed: bool
    path: Path
    meta: dict[str, Any] = field(default_factory=dict)


def load(spec: str) -> Suite:
    """A committed suite by name, or a suite JSON file (its meta "table" names the table)."""
    path = Path(spec)
    committed = spec in suites() and not path.suffix
    if committed:
        path = gx_dir() / "expectations" / f"{spec}.json"
    if not path.is_file():
        raise SuiteError(f"{spec}: neither a committed suite ({', '.join(suites())}) nor a suite JSON file")
    try:
        data = json.loads(path.read_text())
    except ValueError as err:
        raise SuiteError(f"{path}: not JSON ({err})") from None
    if not isinstance(data, dict) or not isinstance(data.get("expectations"), list):
        raise SuiteError(f"{path}: a suite JSON has a list 'expectations' (GX 1.x's format)")
    for n, expectation in enumerate(data["expectations"], start=1):
        if not isinstance(expectation, dict) or not isinstance(expectation.get("type"), str):
            raise SuiteError(f"{path}: expectation {n} has no 'type'")
    meta = data.get("meta") or {}
    table = suite_table(spec) if committed else meta.get("table")
    if not table:
        raise SuiteError(f"{path}: its meta has no 'table' (the table the suite checks)")
    return Suite(str(data.get("name") or path.stem), str(table), data["expectations"], committed, path, meta)


def label(expectation: dict[str, Any]) -> str:
    kwargs = expectation.get("kwargs") or {}
    short = expectation["type"].removeprefix("expect_").removeprefix("column_values_to_").removeprefix("column_")
    if kwargs.get("column"):
        return f"{short}({kwargs['column']})"
    description = str(expectation.get("description") or "")
    return f"{short}: {description[:60]}" if description else short


def run(suite: Suite, *, days: int = 30, conn_id: str = WAREHOUSE_CONN_ID) -> dict[str, Any]:
    """The backtest's JSON: per day, success (no critical expectation failed), the failed
    expectations with observed and expected values, and those not decidable with the reason."""
    from sparkify.quality.store import profiles as store_profiles
    from sparkify.warehouse.connection import transaction

    with transaction(conn_id) as (conn, _):
        history = store_profiles.history(conn, suite.table, days=days)
    result: dict[str, Any] = {
        "suite": suite.name,
        "table": suite.table,
        "expectations": [
            {
                "n": n,
                "expectation_type": e["type"],
                "column": (e.get("kwargs") or {}).get("column"),
                "label": label(e),
                "severity": e.get("severity") or "critical",
            }
            for n, e in enumerate(suite.expectations, start=1)
        ],
        "days": [],
    }
    for profile in history:
        result["days"].append(_day(suite, profile, conn_id))
    return result


def _day(suite: Suite, profile: TableProfile, conn_id: str) -> dict[str, Any]:
    verdicts = {n: decide.decide(e, profile) for n, e in enumerate(suite.expectations, start=1)}
    open_ = [n for n, v in verdicts.items() if v.outcome == decide.UNDECIDED]
    if open_ and suite.table in DAY_PARTITIONED and profile.failed_critical:
        for n in open_:
            verdicts[n].reason += f"; {profile.day} failed a critical check, so its rows were never published"
    elif open_ and suite.table in DAY_PARTITIONED:
        verdicts.update(on_data(suite, profile, open_, conn_id))
    elif open_:
        for n in open_:
            verdicts[
                n
            ].reason += f"; {suite.table} has no day partition, so its rows of {profile.day} are not kept (the published table is today's)"
    failed, undecided = [], []
    for n, verdict in verdicts.items():
        e = suite.expectations[n - 1]
        item = {"n": n, "expectation_type": e["type"], "column": (e.get("kwargs") or {}).get("column")}
        if verdict.outcome == decide.FAILED:
            failed.append(
                {
                    **item,
                    "severity": e.get("severity") or "critical",
                    "observed": verdict.observed,
                    "expected": verdict.expected,
                    "by": verdict.by,
                }
            )
        elif verdict.outcome == decide.UNDECIDED:
            undecided.append({**item, "reason": verdict.reason})
    success = not any(f["severity"] == "critical" for f in failed)
    return {
        "day": profile.day.isoformat(),
        "run_id": profile.run_id,
        "success": success,
        "failed": failed,
        "not_decidable": undecided,
        "passed": [n for n, v in verdicts.items() if v.outcome == decide.PASSED],
    }


def on_data(suite: Suite, profile: TableProfile, numbers: list[int], conn_id: str) -> dict[int, decide.Verdict]:
    """The expectations ``numbers`` through GX on the published rows of the profile's day."""
    import great_expectations as gx
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    batch = _day_batch(suite.table, profile.day, conn_id)
    found: dict[int, decide.Verdict] = {}
    checked = []
    for n in numbers:
        e = suite.expectations[n - 1]
        try:
            config = ExpectationConfiguration(type=e["type"], kwargs=dict(e.get("kwargs") or {}))
            checked.append((n, config.to_domain_obj()))
        except Exception as err:  # a type or argument GX refuses: named, never hidden
            found[n] = decide.Verdict(decide.UNDECIDED, reason=f"GX refused it: {err}")
    if not checked:
        return found
    results = batch.validate(
        gx.ExpectationSuite(name=f"backtest_{suite.name}", expectations=[x for _, x in checked]), result_format={"result_format": "SUMMARY"}
    ).results
    sensitive = {c.name for c in profile.columns.values() if c.sensitive}
    for (n, _), item in zip(checked, results, strict=True):
        raised = _raised(item.exception_info or {})
        if raised:
            found[n] = decide.Verdict(decide.UNDECIDED, reason=f"GX could not run it on the day's rows: {_first_line(raised)}")
            continue
        column = (suite.expectations[n - 1].get("kwargs") or {}).get("column")
        found[n] = decide.Verdict(
            decide.PASSED if item.success else decide.FAILED, observed=_observed(item.result, column in sensitive), by="data"
        )
    return found


def _raised(info: dict[str, Any]) -> dict[str, Any] | None:
    """The exception GX caught for an expectation: its info is flat, or keyed by metric."""
    if info.get("raised_exception"):
        return info
    return next((v for v in info.values() if isinstance(v, dict) and v.get("raised_exception")), None)


def _first_line(info: dict[str, Any]) -> str:
    return str(info.get("exception_message") or "").splitlines()[0][:300] if info.get("exception_message") else "an error"


def _observed(result: dict[str, Any], sensitive: bool) -> Any:
    if "observed_value" in result and not sensitive:
        return result["observed_value"]
    keep = ("element_count", "unexpected_count", "missing_count")
    shown = {k: result[k] for k in keep if k in result}
    if not sensitive and result.get("partial_unexpected_list"):
        shown["partial_unexpected_list"] = result["partial_unexpected_list"][:10]
    return shown


_contexts: dict[str, Any] = {}


def _day_batch(table: str, day: date, conn_id: str):
    """A batch of the published ``table``'s rows of ``day`` (an ephemeral GX context: nothing saved)."""
    import great_expectations as gx

    from sparkify.warehouse.connection import get_connection, sqlalchemy_url

    if conn_id not in _contexts:
        from great_expectations.data_context.types.base import ProgressBarsConfig
        from great_expectations.datasource.fluent.sql_datasource import GxDatasourceWarning

        # A generic SQL datasource on purpose: it serves PostgreSQL and Redshift alike; GX warns
        # that a dialect's own would fit better, once per day's asset.
        warnings.filterwarnings("ignore", category=GxDatasourceWarning)
        # An ephemeral context logs the temporary folder of its (unused) docs site at INFO, on a
        # logger GX sets to INFO itself.
        base = logging.getLogger("great_expectations.data_context.types.base")
        level = base.level
        base.setLevel(logging.WARNING)
        try:
            ctx = gx.get_context(mode="ephemeral")
        finally:
            base.setLevel(level)
        ctx.variables.progress_bars = ProgressBarsConfig(globally=False)  # one bar per expectation and day otherwise
        ctx.data_sources.add_sql(name="warehouse", connection_string=sqlalchemy_url(get_connection(conn_id)))
        _contexts[conn_id] = ctx
    source = _contexts[conn_id].data_sources.get("warehouse")
    column = DAY_PARTITIONED[table]
    name = f"{table}_{day:%Y%m%d}"
    try:
        asset = source.get_asset(name)
    except LookupError:
        query = (
            f"select * from public.{table} where {column} >= cast('{day.isoformat()}' as timestamp) "
            f"and {column} < cast('{(day + timedelta(days=1)).isoformat()}' as timestamp)"
        )
        asset = source.add_query_asset(name=name, query=query)
        asset.add_batch_definition_whole_table("day")
    return asset.get_batch_definition("day").get_batch()


# What make backtest prints ---------------------------------------------------------------------
def _cell(day: dict[str, Any], n: int) -> str:
    failed = next((f for f in day["failed"] if f["n"] == n), None)
    if failed:
        return "FAIL" if failed["severity"] == "critical" else "warn"
    return "?" if any(u["n"] == n for u in day["not_decidable"]) else "ok"


def grid(result: dict[str, Any]) -> str:
    """The day x expectation grid: ok, FAIL (critical), warn (warning failed), ? (not decidable)."""
    numbers = [e["n"] for e in result["expectations"]]
    lines = [f"{result['suite']} on {result['table']}: {len(result['days'])} day(s)", ""]
    lines.append(f"{'day':<11}" + "".join(f"{n:>5}" for n in numbers) + "   day")
    for day in result["days"]:
        cells = "".join(f"{_cell(day, n):>5}" for n in numbers)
        lines.append(f"{day['day']:<11}{cells}   {'would publish' if day['success'] else 'BLOCKED'}")
    lines.append("")
    for e in result["expectations"]:
        failed = [d["day"] for d in result["days"] if any(f["n"] == e["n"] for f in d["failed"])]
        undecided = sum(any(u["n"] == e["n"] for u in d["not_decidable"]) for d in result["days"])
        tail = f"failed {len(failed)} day(s){': ' + ', '.join(failed[:6]) + (' ...' if len(failed) > 6 else '') if failed else ''}"
        tail += f"; not decidable on {undecided}" if undecided else ""
        lines.append(f"{e['n']:>4}  {e['label']} [{e['severity']}]: {tail}")
        if failed:  # what the newest failing day showed
            last = next(f for d in reversed(result["days"]) for f in d["failed"] if f["n"] == e["n"])
            lines.append(f"        {failed[-1]}: observed {json.dumps(last['observed'], default=str)[:200]}")
    reasons = sorted({u["reason"] for d in result["days"] for u in d["not_decidable"]})
    lines += [f"  not decidable: {reason}" for reason in reasons[:5]]
    return "\n".join(lines)


def failing_days(result: dict[str, Any]) -> dict[tuple[str, str | None], set[str]]:
    """(type, column) -> the days it failed."""
    keys = {e["n"]: (e["expectation_type"], e["column"]) for e in result["expectations"]}
    found: dict[tuple[str, str | None], set[str]] = {k: set() for k in keys.values()}
    for day in result["days"]:
        for f in day["failed"]:
            found[keys[f["n"]]].add(day["day"])
    return found


def diff(draft: Suite, committed: Suite, draft_result: dict[str, Any], committed_result: dict[str, Any]) -> list[str]:
    """Which expectations are new, changed or removed against the committed suite, and how each
    changes the past days' outcomes. A draft under another name only adds: the committed
    expectations it lacks stay (make promote keeps them)."""
    from sparkify.quality.checks.suggest import key

    mine = {key(e): e for e in draft.expectations}
    theirs = {key(e): e for e in committed.expectations}
    fails_now, fails_then = failing_days(draft_result), failing_days(committed_result)
    lines = [f"against the committed suite {committed.name!r} ({len(committed.expectations)} expectations):"]
    for k, e in mine.items():
        days = sorted(fails_now.get(k, set()))
        if k not in theirs:
            lines.append(f"  new      {label(e)}: fails {len(days)} of {len(draft_result['days'])} day(s) {', '.join(days[:6])}".rstrip())
        elif (e.get("kwargs") or {}) != (theirs[k].get("kwargs") or {}):
            before = sorted(fails_then.get(k, set()))
            lines.append(f"  changed  {label(e)}: {json.dumps(theirs[k].get('kwargs'))} -> {json.dumps(e.get('kwargs'))}")
            lines.append(f"           failed {len(before)} day(s) before, {len(days)} with the draft; "
                         f"newly failing: {', '.join(sorted(set(days) - set(before))) or 'none'}; "
                         f"no longer failing: {', '.join(sorted(set(before) - set(days))) or 'none'}")  # fmt: skip
    gone = [k for k in theirs if k not in mine]
    if draft.name == committed.name:
        for k in gone:
            lines.append(f"  removed  {label(theirs[k])}: it failed {len(fails_then.get(k, set()))} day(s)")
    elif gone:
        lines.append(f"  {len(gone)} committed expectation(s) not in the draft stay as they are")
    return lines
