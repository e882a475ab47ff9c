"""The "Data quality" page of the Airflow UI (a FastAPI app of the Airflow plugin, shown by an
external view): days x suites as each day's newest run left them, each cell passed / warning /
critical failure / not enough history / not run (with the earlier result one click away), linked
to its Data Docs page and, for a run Airflow knows, its task instance; whether each day is
published, and by which run (dq.day_publishes); per-table trends of rows, unexpected values,
quarantined lines and validation time over the same days; when each day's file arrived after the
day's end (dq.arrivals; a day whose run came after its publish deadline is history, not late);
and each history check's value against its expected band, with its anomalies linked to their
pages (dq.day_metrics).

It reads the shared results store (quality.store) and public.quarantine through the warehouse
connection: no second copy of the data. Same login as the UI, and only for a user who may read
the DAG's task instances (quality.web.access). The page is plain HTML and inline
SVG built on the server: no script runs in it (its CSP allows none), and every value is escaped.
"""

from __future__ import annotations

import html
from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse

from sparkify.settings import DOCS_URL_PREFIX, QUALITY_URL_PREFIX

URL_PREFIX = QUALITY_URL_PREFIX
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
STATES = {
    "passed": "#2e7d32",
    "warning": "#f9a825",
    "critical": "#c62828",
    "not enough history": "#0277bd",
    "not run": "#cfd8dc",
}
REVIEW_COLOUR = "#6a1b9a"  # a day held for review (the published column), a colour no suite state uses
NOT_ENOUGH = "not enough history"  # quality.checks.history's status of a metric without its baseline
TRENDS = (
    ("row_count", "rows"),
    ("unexpected_count", "unexpected values"),
    ("quarantined", "quarantined lines"),
    ("duration_seconds", "validation seconds"),
)


def state(record: dict[str, Any] | None, statuses: set[str] | None = None) -> str:
    """A cell's state; ``statuses``: the day's history-check statuses, for the history suite."""
    if record is None or record.get("earlier"):
        return "not run"
    if not record["success"] or record["failed_critical"]:  # a waivable critical failure passed its task, and is still critical
        return "critical"
    if record["failed_warning"]:
        return "warning"
    return NOT_ENOUGH if record["suite"] == "history" and statuses == {NOT_ENOUGH} else "passed"


def _e(value) -> str:
    return html.escape(str(value), quote=True)


def sparkline(values: list[float | None], *, width: int = 220, height: int = 36) -> str:
    """An inline SVG polyline of a series (gaps where a value is missing)."""
    known = [v for v in values if v is not None]
    if not known:
        return f'<svg width="{width}" height="{height}" role="img" aria-label="no data"></svg>'
    low, high = min(known), max(known)
    span = (high - low) or 1
    step = width / max(len(values) - 1, 1)
    points = " ".join(f"{i * step:.1f},{height - 3 - (v - low) / span * (height - 6):.1f}" for i, v in enumerate(values) if v is not None)
    return (
        f'<svg width="{width}" height="{height}" role="img" aria-label="min {_e(low)}, max {_e(high)}">'
        f'<polyline fill="none" stroke="#1565c0" stroke-width="1.5" points="{points}"/></svg>'
    )


def render(
    records: list[dict[str, Any]],
    quarantined: dict,
    *,
    base: str,
    days: int,
    suites: list[str] | None = None,
    lateness: dict | None = None,
    checks: dict | None = None,
    publishes: dict | None = None,
    holds: dict | None = None,
    airflow_runs: set[str] | None = None,
    deadline_hours: float = 8.0,
    slos: list[dict[str, Any]] | None = None,
    slo_error: str | None = None,
) -> str:
    """The page's HTML from the store's records (pure: no database here); ``suites`` are the
    columns (every suite of the project, so that a suite that did not run shows as such);
    ``lateness``: each day's arrival (seconds after the day's end, when it was recorded);
    ``checks``: the history checks (store.checked_metrics); ``publishes``: each day's newest
    publish; ``holds``: each day's newest run held for review (waiting, or decided);
    ``airflow_runs``: the runs Airflow's database holds (a task link only for those; None: link
    every run); ``deadline_hours``: the publish deadline after a day's end; ``slos``: each
    table's quality SLO (checks.slo.evaluate_all), or ``slo_error`` when gx/slo.toml is wrong."""
    day_list = sorted({r["day"] for r in records})
    suites = sorted(set(suites or []) | {r["suite"] for r in records})
    head = "".join(f"<th>{'_<wbr>'.join(_e(part) for part in s.split('_'))}</th>" for s in suites)
    statuses = _history_statuses(checks or {})
    rows = _grid_rows(records, suites, day_list, base, statuses, (publishes or {}, holds or {}), airflow_runs)
    current = [r for r in records if not r.get("earlier")]
    trends = _trend_rows(current, quarantined, day_list) + _arrival_row(lateness or {}, day_list, deadline_hours)
    legend = " ".join(f'<span class="key" style="background:{c}"></span>{_e(name)}' for name, c in STATES.items())
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Data quality</title>
<style>
body {{ font: 14px system-ui, sans-serif; margin: 16px; color: #263238; }}
table {{ border-collapse: collapse; margin-bottom: 24px; }}
th, td {{ padding: 4px 6px; border: 1px solid #eceff1; text-align: left; }}
#grid thead th {{ font-size: 11px; max-width: 72px; vertical-align: bottom; }}
#grid tbody th {{ white-space: nowrap; }}
td.cell {{ min-width: 48px; font-size: 12px; }}
td.cell a {{ color: #fff; }} td.cell.not-run a {{ color: #263238; }}
td.pub {{ font-size: 12px; white-space: nowrap; }} td.pub.no {{ color: #c62828; }}
td.pub.review {{ color: {REVIEW_COLOUR}; font-weight: 600; }}
td.budget.spent, p.error {{ color: #c62828; font-weight: 600; }}
.key {{ display: inline-block; width: 12px; height: 12px; margin: 0 4px 0 12px; vertical-align: middle; }}
.label {{ font-size: 11px; color: #607d8b; }} .last {{ font-size: 11px; }}
</style></head><body>
<h1>Data quality</h1>
<p>The last {len(day_list)} day(s) with results (of up to {days}), newest first; each row is the day's newest run: a suite
that run did not validate is "not run", with the earlier result linked. {legend}</p>
<table id="grid"><thead><tr><th>day</th><th>published</th>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>
{_slo_table(slos or [], slo_error)}
<h2>Trends per table (oldest to newest)</h2>
<table id="trends"><tbody>{"".join(trends)}</tbody></table>
{_history_table(checks or {}, current, day_list, base)}
</body></html>"""


def _slo_table(slos: list[dict[str, Any]], error: str | None) -> str:
    """Each table's quality SLO (gx/slo.toml): the objective, the share met, the error budget
    left (its missed days, and why, on hover)."""
    if error:
        return f'<h2>Quality SLOs</h2><p class="error">{_e(error)}</p>'
    if not slos:
        return ""
    rows = []
    for r in slos:
        misses = "; ".join(f"{day}: {why}" for day, why in r["misses"].items()) or "no day missed"
        left = f"{r['left']} of {r['allowed']} day(s)" + (": SLO broken" if r["broken"] else ": spent" if r["spent"] else "")
        if not r["enough"]:
            left = f"not enough days yet ({r['days']} of {r['window_days']})"
        rows.append(
            f"<tr><th>{_e(r['table'])}</th><td>{_e(r['objective'])}</td><td>{r['met']} of {r['days']} days ({r['share']:.1%})</td>"
            f'<td class="budget{" spent" if r["spent"] else ""}" title="{_e(misses)}">{_e(left)}</td></tr>'
        )
    head = "<tr><th>table</th><th>objective</th><th>met</th><th>error budget left</th></tr>"
    return f'<h2>Quality SLOs (gx/slo.toml)</h2>\n<table id="slos"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>'


def slo_outcomes(found: dict[str, Any], deadline_hours: float) -> tuple[list[dict[str, Any]], str | None]:
    """The SLOs of gx/slo.toml over the page's records; or the file's error, for the page to show."""
    from sparkify.names import TABLES
    from sparkify.quality.checks import slo
    from sparkify.settings import gx_dir

    try:
        objectives = slo.load(gx_dir(), TABLES)
    except ValueError as err:
        return [], str(err)
    keys = ("publishes", "holds", "first_seen")
    return slo.evaluate_all(objectives, found["records"], **{k: found[k] for k in keys}, deadline_hours=deadline_hours), None


def render_found(found: dict[str, Any], **options: Any) -> str:
    """The page from store.page_records' answer; ``options``: render's keyword arguments."""
    rest = {key: found[key] for key in ("lateness", "checks", "publishes", "holds")}
    return render(found["records"], found["quarantined"], **rest, **options)


def _history_statuses(checks: dict) -> dict:
    """{day: the statuses of its history checks}."""
    found: dict = {}
    for by_day in checks.values():
        for day, (_, _, _, status) in by_day.items():
            found.setdefault(day, set()).add(status)
    return found


def _grid_rows(records, suites, day_list, base, statuses, published, airflow_runs) -> list[str]:
    """One row per day, newest first: whether it is published (``published``: the days' newest
    publishes and holds), then a cell per suite of its newest run."""
    publishes, holds = published
    by_key = {(r["day"], r["suite"]): r for r in records}
    rows = []
    for day in reversed(day_list):
        newest_run = next((r["run_id"] for r in records if r["day"] == day and not r.get("earlier")), None)
        hold = holds.get(day)
        cells = [_review_cell(hold) if hold and hold["run_id"] == newest_run else _published_cell(publishes.get(day), newest_run)]
        for suite in suites:
            record = by_key.get((day, suite))
            cells.append(_cell(record, suite, day, state(record, statuses.get(day)), base, airflow_runs))
        rows.append(f"<tr><th>{_e(day)}</th>{''.join(cells)}</tr>")
    return rows


def _published_cell(publish: dict | None, newest_run: str | None) -> str:
    """Whether the day's published tables hold it, and from which run (dq.day_publishes)."""
    if publish is None:
        return '<td class="pub no" title="no run published this day">not published</td>'
    at = f"{publish['published_at']:%Y-%m-%d %H:%M} UTC"
    title = _e(f"published by {publish['run_id']} at {at}: {publish['rows']:,} rows")
    if publish["run_id"] == newest_run:
        return f'<td class="pub" title="{title}">published</td>'
    return f'<td class="pub" title="{title}; the newest run did not publish">published by an earlier run</td>'


def _review_cell(hold: dict) -> str:
    """The day's newest run was held for review: waiting for a decision, or decided (by whom, why)."""
    checks = "; ".join(f"{c['table']}: {c['description'] or c['expectation']} (observed {c['observed']})" for c in hold["checks"])
    since = f"held for review since {hold['held_at']:%Y-%m-%d %H:%M} UTC (run {hold['run_id']}): {checks}"
    if hold["state"] == "waiting":
        return f'<td class="pub review" title="{_e(since)}">waiting for review</td>'
    decided = f"{hold['state']} by {hold['decided_by']} at {hold['decided_at']:%Y-%m-%d %H:%M} UTC: {hold['reason']}"
    label = {"published": f"published after review by {hold['decided_by']}", "waived": f"waived by {hold['decided_by']}"}.get(
        hold["state"], f"held by {hold['decided_by']}"
    )
    return f'<td class="pub review" title="{_e(since + "; " + decided)}">{_e(label)}</td>'


def _cell(record: dict | None, suite: str, day, label: str, base: str, airflow_runs: set[str] | None) -> str:
    """A suite's cell: its state's colour, its Data Docs page, and its task when Airflow has the run."""
    colour = STATES[label]
    if record is None:
        return f'<td class="cell not-run" style="background:{colour}" title="not run">&nbsp;</td>'
    docs = f"{base}{DOCS_URL_PREFIX}/{_e(record['page'])}" if record["page"] else ""
    if record.get("earlier"):
        title = f"{suite} on {day}: not run by the day's newest run; earlier run {record['run_id']}: {state(dict(record, earlier=False))}"
        link = f'<a href="{docs}" target="_blank" rel="noopener">earlier</a>' if docs else "earlier"
        return f'<td class="cell not-run" style="background:{colour}" title="{_e(title)}">{link}</td>'
    title = f"{suite} on {day}: {label}; unexpected {record['unexpected_count']}; {record['duration_seconds']} s; run {record['run_id']}"
    task = f"{base}/dags/sparkify/runs/{_e(record['run_id'])}/tasks/validate_{_e(suite)}"
    known = airflow_runs is None or record["run_id"] in airflow_runs
    return (
        f'<td class="cell" style="background:{colour}" title="{_e(title)}">'
        + (f'<a href="{docs}" target="_blank" rel="noopener">docs</a> ' if docs else "")
        + (f'<a href="{task}" target="_top">task</a>' if known else "")
        + "</td>"
    )


def _trend_rows(records: list[dict[str, Any]], quarantined: dict, day_list: list) -> list[str]:
    """One row per table: a sparkline per trend (rows, unexpected values, ...), oldest to newest."""
    by_table: dict[tuple, dict[str, Any]] = {}
    for r in records:
        by_table.setdefault((r["day"], r["table"]), r)  # a table is validated by one suite a day
    trends = []
    for table in sorted({r["table"] for r in records}):
        series = []
        for field, label in TRENDS:
            if field == "quarantined":
                values = [quarantined.get(day) for day in day_list] if table == "staging_summary" else None
            else:
                values = [_number(by_table.get((day, table)), field) for day in day_list]
            if values is not None:
                series.append(_trend_cell(label, values))
        trends.append(f"<tr><th>{_e(table)}</th>{''.join(series)}</tr>")
    return trends


def _arrival_row(lateness: dict, day_list: list, deadline_hours: float) -> list[str]:
    """When each day's file arrived after the day's end (negative: before it was over), in the
    unit its values need. A day whose run was recorded after its publish deadline (a backfill of
    history) is left out and named: its file's age says nothing about lateness."""
    from datetime import datetime, time, timedelta

    def history(day, at) -> bool:
        return at is not None and at > datetime.combine(day, time()) + timedelta(days=1, hours=deadline_hours)

    seconds = [lateness[day][0] if day in lateness and not history(day, lateness[day][1]) else None for day in day_list]
    backfilled = [day for day in day_list if day in lateness and history(day, lateness[day][1])]
    if not lateness:
        return []
    unit, size = lateness_unit([abs(v) for v in seconds if v is not None])
    values = [v / size if v is not None else None for v in seconds]
    label = f"day file arrived, {unit} after the day's end"
    if backfilled:
        label += f"; history (run after its deadline), not shown: {len(backfilled)} day(s), {backfilled[0]} to {backfilled[-1]}"
    return [f"<tr><th>arrival</th>{_trend_cell(label, values)}</tr>"]


def lateness_unit(seconds: list[float]) -> tuple[str, float]:
    """minutes, hours or days: the unit that keeps the largest value readable."""
    largest = max(seconds, default=0.0)
    if largest < 2 * 3600:
        return "minutes", 60.0
    return ("hours", 3600.0) if largest < 3 * 86400 else ("days", 86400.0)


def _history_table(checks: dict, records: list[dict[str, Any]], day_list: list, base: str) -> str:
    """The history checks (validate_history): per metric, the expected band (grey) and the value
    (blue), oldest to newest; an anomaly is a red dot linked to that day's history page."""
    if not checks:
        return ""
    pages = {r["day"]: r["page"] for r in records if r["suite"] == "history" and r["page"]}
    rows = []
    for metric in sorted(checks):
        by_day = checks[metric]
        links = {day: f"{base}{DOCS_URL_PREFIX}/{_e(pages[day])}" for day in day_list if day in pages}
        anomalies = [day for day in day_list if by_day.get(day, (None,) * 4)[3] == "anomaly"]
        said = ", ".join(str(day) for day in anomalies) or "none"
        rows.append(
            f"<tr><th>{_e(metric)}</th><td><div class='label'>value and expected range; anomalies: {_e(said)}</div>"
            f"{band_chart(by_day, day_list, links)}</td></tr>"
        )
    return f'<h2>History checks (oldest to newest)</h2>\n<table id="history"><tbody>{"".join(rows)}</tbody></table>'


def band_chart(by_day: dict, day_list: list, links: dict, *, width: int = 440, height: int = 48) -> str:
    """An inline SVG of one metric: the range as a band, the value as a line, anomalies as
    linked red dots (an SVG link is not a script: the page's CSP allows it)."""
    numbers = [x for day in day_list for x in by_day.get(day, (None, None, None, None))[:3] if x is not None]
    if not numbers:
        return f'<svg width="{width}" height="{height}" role="img" aria-label="no data"></svg>'
    low, high = min(numbers), max(numbers)
    span = (high - low) or 1
    step = width / max(len(day_list) - 1, 1)

    def y(value: float) -> str:
        return f"{height - 3 - (value - low) / span * (height - 6):.1f}"

    ranged = [(i, by_day[d][1], by_day[d][2]) for i, d in enumerate(day_list) if d in by_day and by_day[d][1] is not None]
    band = " ".join(
        [f"{i * step:.1f},{y(top)}" for i, _, top in ranged] + [f"{i * step:.1f},{y(bottom)}" for i, bottom, _ in reversed(ranged)]
    )
    line = " ".join(f"{i * step:.1f},{y(by_day[d][0])}" for i, d in enumerate(day_list) if d in by_day and by_day[d][0] is not None)
    dots = []
    for i, day in enumerate(day_list):
        value, minimum, maximum, status = by_day.get(day, (None, None, None, None))
        if status != "anomaly" or value is None:
            continue
        title = f"{day}: {value:,.4g} outside {minimum:,.4g} to {maximum:,.4g}"
        dot = f'<circle cx="{i * step:.1f}" cy="{y(value)}" r="3.5" fill="#c62828"><title>{_e(title)}</title></circle>'
        dots.append(f'<a href="{links[day]}" target="_blank">{dot}</a>' if day in links else dot)
    return (
        f'<svg width="{width}" height="{height}" role="img" aria-label="min {_e(low)}, max {_e(high)}">'
        + (f'<polygon fill="#cfd8dc" points="{band}"/>' if ranged else "")
        + f'<polyline fill="none" stroke="#1565c0" stroke-width="1.5" points="{line}"/>{"".join(dots)}</svg>'
    )


def _trend_cell(label: str, values: list[float | None]) -> str:
    return f"<td><div class='label'>{_e(label)}</div>{sparkline(values)}<div class='last'>{_e(_last(values))}</div></td>"


def _number(record: dict[str, Any] | None, field: str) -> float | None:
    return float(record[field]) if record is not None and record[field] is not None else None


def _last(values: list) -> str:
    known = [v for v in values if v is not None]
    if not known:
        return "-"
    last = known[-1]
    return f"{last:,.0f}" if float(last).is_integer() else f"{last:,.3f}"


def create_app() -> FastAPI:
    app = FastAPI(title="Sparkify data quality", docs_url=None, redoc_url=None, openapi_url=None)

    @app.middleware("http")
    async def headers(request: Request, call_next):
        response = await call_next(request)
        response.headers.update(HEADERS)
        return response

    @app.get("/", include_in_schema=False)
    async def page(request: Request, days: int = Query(30, ge=1, le=1000)):
        from starlette.concurrency import run_in_threadpool

        from sparkify.quality import store
        from sparkify.quality.web.access import forbidden, login, not_logged_in, readable_dags
        from sparkify.settings import DAG_ID, WAREHOUSE_CONN_ID

        user = await login(request)
        if user is None:
            return not_logged_in(request)
        # The store holds the validations of one DAG: its results are shown only to a user who
        # may read that DAG's task instances, and nothing is read from the warehouse otherwise.
        if not await run_in_threadpool(readable_dags, user.user, {DAG_ID}):
            raise forbidden(user.user, "its data quality page", {DAG_ID})
        found = await run_in_threadpool(store.page_records, WAREHOUSE_CONN_ID, days)
        from airflow.configuration import conf

        from sparkify.names import suites

        base = (conf.get("api", "base_url", fallback="") or "").rstrip("/")
        runs = await run_in_threadpool(airflow_runs, {r["run_id"] for r in found["records"]})
        hours = await run_in_threadpool(publish_deadline_hours)
        slos, slo_error = slo_outcomes(found, hours)
        options = {"airflow_runs": runs, "deadline_hours": hours, "slos": slos, "slo_error": slo_error}
        page = render_found(found, base=base, days=days, suites=list(suites()), **options)
        return HTMLResponse(page)

    return app


def airflow_runs(run_ids: set[str]) -> set[str]:
    """Which of ``run_ids`` Airflow's metadata database holds for the DAG (its task pages exist).
    Runs of make run's parallel jobs live in their own job databases: no task link for them."""
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from sqlalchemy import select

    from sparkify.settings import DAG_ID

    if not run_ids:
        return set()
    with create_session() as session:
        query = select(DagRun.run_id).where(DagRun.dag_id == DAG_ID, DagRun.run_id.in_(sorted(run_ids)))
        return set(session.scalars(query))


def publish_deadline_hours() -> float:
    """The publish deadline's hours (the Variable, else its default; a bad value: the default)."""
    from airflow.models import Variable

    from sparkify.settings import PUBLISH_DEADLINE_DEFAULT, PUBLISH_DEADLINE_VARIABLE

    value = Variable.get(PUBLISH_DEADLINE_VARIABLE, default_var=PUBLISH_DEADLINE_DEFAULT)
    try:
        return float(value)
    except (TypeError, ValueError):
        return float(PUBLISH_DEADLINE_DEFAULT)
