"""The "Data quality" page of the Airflow UI (a FastAPI app of the Airflow plugin, shown by an
external view): days x suites, each cell passed / warning / critical failure / not run, linked to
its Data Docs page and its task instance; per-table trends of rows, unexpected values, quarantined
lines and validation time over the same days, when each day's file arrived (hours after the
day's end, from dq.arrivals), and each history check's value against its expected band with its
anomalies linked to their pages (dq.day_metrics).

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
STATES = {"passed": "#2e7d32", "warning": "#f9a825", "critical": "#c62828", "not run": "#cfd8dc"}
TRENDS = (
    ("row_count", "rows"),
    ("unexpected_count", "unexpected values"),
    ("quarantined", "quarantined lines"),
    ("duration_seconds", "validation seconds"),
)


def state(record: dict[str, Any] | None) -> str:
    if record is None:
        return "not run"
    if not record["success"]:
        return "critical"
    return "warning" if record["failed_warning"] else "passed"


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
) -> str:
    """The page's HTML from the store's records (pure: no database here); ``suites`` are the
    columns (every suite of the project, so that a suite that did not run shows as such);
    ``lateness`` is each day's arrival lateness in seconds; ``checks`` the history checks
    (store.checked_metrics)."""
    day_list = sorted({r["day"] for r in records})
    suites = sorted(set(suites or []) | {r["suite"] for r in records})
    head = "".join(f"<th>{_e(s)}</th>" for s in suites)
    rows = _grid_rows(records, suites, day_list, base)
    trends = _trend_rows(records, quarantined, day_list) + _arrival_row(lateness or {}, day_list)
    legend = " ".join(f'<span class="key" style="background:{c}"></span>{_e(name)}' for name, c in STATES.items())
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Data quality</title>
<style>
body {{ font: 14px system-ui, sans-serif; margin: 16px; color: #263238; }}
table {{ border-collapse: collapse; margin-bottom: 24px; }}
th, td {{ padding: 4px 6px; border: 1px solid #eceff1; text-align: left; }}
td.cell {{ min-width: 64px; font-size: 12px; }}
td.cell a {{ color: #fff; }}
.key {{ display: inline-block; width: 12px; height: 12px; margin: 0 4px 0 12px; vertical-align: middle; }}
.label {{ font-size: 11px; color: #607d8b; }} .last {{ font-size: 11px; }}
</style></head><body>
<h1>Data quality</h1>
<p>The last {len(day_list)} day(s) with results (of up to {days}), newest first; each cell is the newest validation of that
suite on that day. {legend}</p>
<table id="grid"><thead><tr><th>day</th>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>
<h2>Trends per table (oldest to newest)</h2>
<table id="trends"><tbody>{"".join(trends)}</tbody></table>
{_history_table(checks or {}, records, day_list, base)}
</body></html>"""


def _grid_rows(records: list[dict[str, Any]], suites: list[str], day_list: list, base: str) -> list[str]:
    """One row per day, newest first: a cell per suite, coloured by its state, with its links."""
    by_key = {(r["day"], r["suite"]): r for r in records}
    rows = []
    for day in reversed(day_list):
        cells = []
        for suite in suites:
            record = by_key.get((day, suite))
            label = state(record)
            if record is None:
                cells.append(f'<td class="cell" style="background:{STATES[label]}" title="not run">&nbsp;</td>')
                continue
            docs = f"{base}{DOCS_URL_PREFIX}/{_e(record['page'])}" if record["page"] else ""
            task = f"{base}/dags/sparkify/runs/{_e(record['run_id'])}/tasks/validate_{_e(suite)}"
            title = f"{suite} on {day}: {label}; unexpected {record['unexpected_count']}; {record['duration_seconds']} s"
            cells.append(
                f'<td class="cell" style="background:{STATES[label]}" title="{_e(title)}">'
                + (f'<a href="{docs}" target="_blank" rel="noopener">docs</a> ' if docs else "")
                + f'<a href="{task}" target="_top">task</a></td>'
            )
        rows.append(f"<tr><th>{_e(day)}</th>{''.join(cells)}</tr>")
    return rows


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


def _arrival_row(lateness: dict, day_list: list) -> list[str]:
    """The day file's arrival, in hours after the day's end (negative: before it was over)."""
    values = [lateness[day] / 3600 if lateness.get(day) is not None else None for day in day_list]
    if all(v is None for v in values):
        return []
    label = "day file arrived, hours after the day's end"
    return [f"<tr><th>arrival</th>{_trend_cell(label, values)}</tr>"]


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
        records, quarantined, lateness, checks = await run_in_threadpool(store.page_records, WAREHOUSE_CONN_ID, days)
        from airflow.configuration import conf

        base = (conf.get("api", "base_url", fallback="") or "").rstrip("/")
        from sparkify.names import suites

        page = render(records, quarantined, base=base, days=days, suites=list(suites()), lateness=lateness, checks=checks)
        return HTMLResponse(page)

    return app
