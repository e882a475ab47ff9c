"""The Data quality page's HTML, from store records (pure: no database, no server)."""

from __future__ import annotations

import re
from datetime import date

from sparkify.quality.web.quality_page import STATES, render, sparkline, state


def record(day, suite, *, success=True, warnings=0, page="validations/x.html", rows=10, unexpected=0, seconds=0.5, table=None):
    return {"day": day, "suite": suite, "table": table or suite, "success": success, "failed_critical": 0 if success else 1,
            "failed_warning": warnings, "unexpected_count": unexpected, "row_count": rows, "duration_seconds": seconds,
            "page": page, "run_id": f"run_{day}"}  # fmt: skip


def test_cells_show_each_state_and_link_to_docs_and_the_task():
    d1, d2 = date(2018, 11, 14), date(2018, 11, 15)
    records = [
        record(d1, "users"), record(d1, "songs", warnings=1), record(d1, "staging_events"),
        record(d2, "staging_events", success=False, page="validations/staging_events/run_2018-11-15/t/b.html"),
    ]  # fmt: skip
    html = render(records, {d1: 3}, base="http://airflow.test", days=30)
    rows = re.findall(r"<tr><th>(2018-11-1\d)</th>(.*?)</tr>", html)
    assert [day for day, _ in rows] == ["2018-11-15", "2018-11-14"]  # newest first
    cells = dict(rows)
    # Columns are sorted suites: songs, staging_events, users.
    colors = [re.search(r"background:(#\w+)", c).group(1) for c in re.findall(r"<td class=\"cell\".*?</td>", cells["2018-11-15"])]
    assert colors == [STATES["not run"], STATES["critical"], STATES["not run"]]
    colors = [re.search(r"background:(#\w+)", c).group(1) for c in re.findall(r"<td class=\"cell\".*?</td>", cells["2018-11-14"])]
    assert colors == [STATES["warning"], STATES["passed"], STATES["passed"]]
    assert 'href="http://airflow.test/sparkify-docs/validations/staging_events/run_2018-11-15/t/b.html"' in cells["2018-11-15"]
    assert 'href="http://airflow.test/dags/sparkify/runs/run_2018-11-15/tasks/validate_staging_events" target="_top"' in cells["2018-11-15"]
    assert "<script" not in html
    # Trends: rows, unexpected values and seconds per table; quarantined lines only for staging_summary.
    assert html.count("<svg") == 3 * 3
    with_quarantine = render([*records, record(d1, "quarantine", table="staging_summary")], {d1: 3}, base="", days=30)
    trend = re.search(r"<tr><th>staging_summary</th>(.*?)</tr>", with_quarantine).group(1)
    assert trend.count("<svg") == 4 and "quarantined lines" in trend


def test_values_are_escaped_and_states_named():
    evil = record(date(2018, 11, 1), "<img src=x onerror=alert(1)>")
    html = render([evil], {}, base="", days=30)
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert state(None) == "not run" and state(record(date(2018, 11, 1), "s", warnings=2)) == "warning"


def test_sparkline_scales_and_skips_gaps():
    svg = sparkline([1, None, 3], width=100, height=20)
    assert 'points="0.0,17.0 100.0,3.0"' in svg
    assert "no data" in sparkline([None, None])


def test_the_arrival_row_draws_hours_after_the_days_end_with_gaps():
    d1, d2, d3 = date(2018, 11, 14), date(2018, 11, 15), date(2018, 11, 16)
    records = [record(d, "users") for d in (d1, d2, d3)]
    assert "<th>arrival</th>" not in render(records, {}, base="", days=30)  # no arrival recorded: no row
    html = render(records, {}, base="", days=30, lateness={d1: -1800.0, d3: 5400.0})
    row = re.search(r"<tr><th>arrival</th>(.*?)</tr>", html).group(1)
    # Two known days of three: a point each (oldest left), the gap left out; the last value in hours.
    assert 'aria-label="min -0.5, max 1.5"' in row and 'points="0.0,33.0 220.0,3.0"' in row
    assert "<div class='last'>1.500</div>" in row


def test_history_checks_draw_the_band_the_value_and_link_each_anomaly_to_its_page():
    d1, d2, d3 = date(2018, 11, 14), date(2018, 11, 15), date(2018, 11, 16)
    records = [record(d, "history", page=f"validations/history/run_{d}/t/p.html") for d in (d1, d2, d3)]
    assert 'id="history"' not in render(records, {}, base="", days=30)  # nothing checked: no section
    checks = {
        "songplays.rows": {
            d1: (100.0, 80.0, 120.0, "ok"),
            d2: (40.0, 80.0, 120.0, "anomaly"),
            d3: (101.0, None, None, "not enough history"),
        }
    }
    html = render(records, {}, base="http://airflow.test", days=30, checks=checks)
    row = re.search(r"<tr><th>songplays.rows</th>(.*?)</tr>", html).group(1)
    assert "anomalies: 2018-11-15" in row
    # The band spans the two ranged days (top edge then bottom edge), the value every day.
    # 440 px wide, 3 days: x 0 and 220; values 40..120 over 48 px: 120 at y 3, 80 at y 24.
    assert '<polygon fill="#cfd8dc" points="0.0,3.0 220.0,3.0 220.0,24.0 0.0,24.0"/>' in row
    assert row.count("<circle") == 1
    link = 'href="http://airflow.test/sparkify-docs/validations/history/run_2018-11-15/t/p.html"'
    assert link in row and "2018-11-15: 40 outside 80 to 120" in row
