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
    colors = [re.search(r"background:(#\w+)", c).group(1) for c in re.findall(r"<td class=\"cell.*?</td>", cells["2018-11-15"])]
    assert colors == [STATES["not run"], STATES["critical"], STATES["not run"]]
    colors = [re.search(r"background:(#\w+)", c).group(1) for c in re.findall(r"<td class=\"cell.*?</td>", cells["2018-11-14"])]
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


def test_the_arrival_row_draws_lateness_in_its_unit_and_leaves_backfilled_history_out():
    from datetime import datetime

    d1, d2, d3 = date(2018, 11, 14), date(2018, 11, 15), date(2018, 11, 16)
    records = [record(d, "users") for d in (d1, d2, d3)]
    assert "<th>arrival</th>" not in render(records, {}, base="", days=30)  # no arrival recorded: no row
    on_time = {d1: (-1800.0, datetime(2018, 11, 15, 1)), d3: (5400.0, datetime(2018, 11, 17, 2))}
    row = re.search(r"<tr><th>arrival</th>(.*?)</tr>", render(records, {}, base="", days=30, lateness=on_time)).group(1)
    # Two known days of three: a point each (oldest left), the gap left out; minutes (under 2 hours).
    assert "minutes after the day&#x27;s end" in row and 'aria-label="min -30.0, max 90.0"' in row and 'points="0.0,33.0 220.0,3.0"' in row
    assert "<div class='last'>90</div>" in row
    # Day 2's run was recorded years later, after its 8-hour deadline: history, not 70,000 hours late.
    late = {**on_time, d2: (8 * 365 * 86400.0, datetime(2026, 12, 6, 23, 55))}
    row = re.search(r"<tr><th>arrival</th>(.*?)</tr>", render(records, {}, base="", days=30, lateness=late)).group(1)
    assert "history (run after its deadline), not shown: 1 day(s), 2018-11-15 to 2018-11-15" in row and "max 90.0" in row
    # A day three hours late on time's terms: hours.
    row = re.search(
        r"<tr><th>arrival</th>(.*?)</tr>", render(records, {}, base="", days=30, lateness={d1: (10800.0, datetime(2018, 11, 15, 4))})
    ).group(1)
    assert "hours after the day&#x27;s end" in row and "<div class='last'>3</div>" in row


def test_a_failed_rerun_shows_its_own_cells_and_the_day_stays_published_by_the_earlier_run():
    from datetime import datetime

    day = date(2018, 11, 20)
    first = [dict(record(day, s), run_id="clean") for s in ("staging_events", "users", "history")]
    rerun = dict(record(day, "staging_events", success=False, page="validations/staging_events/rerun/t/p.html"), run_id="rerun")
    # day_results' shape: the newest run's results, and the earlier result of each suite it did not validate.
    records = [rerun] + [dict(r, earlier=True) for r in first if r["suite"] != "staging_events"]
    publishes = {day: {"run_id": "clean", "published_at": datetime(2018, 11, 21, 1, 2), "rows": 1234}}
    html = render(records, {}, base="", days=30, publishes=publishes, airflow_runs={"rerun"})
    cells = re.findall(r"<td class=\"(cell[^\"]*|pub[^\"]*)\" (?:style=\"background:(#\w+)\" )?title=\"([^\"]*)\">(.*?)</td>", html)
    assert [c[0] for c in cells] == ["pub", "cell not-run", "cell", "cell not-run"]
    assert cells[0][3] == "published by an earlier run" and "published by clean at 2018-11-21 01:02 UTC: 1,234 rows" in cells[0][2]
    # Columns: history, staging_events, users. The rerun's failure; the others not run, the earlier result linked.
    assert cells[1][1] == STATES["not run"] and "earlier run clean: passed" in cells[1][2] and ">earlier</a>" in cells[1][3]
    assert cells[2][1] == STATES["critical"] and "/dags/sparkify/runs/rerun/tasks/validate_staging_events" in cells[2][3]
    assert cells[3][1] == STATES["not run"]
    # A run Airflow does not hold (make run's parallel jobs): no task link.
    html = render(records, {}, base="", days=30, publishes=publishes, airflow_runs=set())
    assert "/tasks/" not in html and ">docs</a>" in html
    assert ">not published<" in render(records, {}, base="", days=30)


def test_a_day_held_for_review_reads_waiting_then_who_decided_in_a_colour_of_its_own():
    from datetime import datetime

    from sparkify.quality.web.quality_page import REVIEW_COLOUR

    day = date(2018, 11, 28)
    records = [dict(record(day, "history", warnings=1), run_id="held")]
    check = {"table": "day_metrics", "description": "songplays.rows = 610, expected between 900 and 1,500", "expectation": "e",
             "observed": 610}  # fmt: skip
    hold = {"run_id": "held", "state": "waiting", "held_at": datetime(2018, 11, 29, 6, 0), "checks": [check],
            "decided_by": None, "decided_at": None, "reason": None}  # fmt: skip
    earlier = {day: {"run_id": "clean", "published_at": datetime(2018, 11, 29, 1, 0), "rows": 9}}
    html = render(records, {}, base="", days=30, publishes=earlier, holds={day: hold})
    (cell,) = re.findall(r'<td class="pub review" title="([^"]*)">(.*?)</td>', html)
    assert cell[1] == "waiting for review" and f"color: {REVIEW_COLOUR}" in html
    assert "held for review since 2018-11-29 06:00 UTC (run held): day_metrics: songplays.rows = 610" in cell[0]
    decided = dict(hold, state="published", decided_by="dana", decided_at=datetime(2018, 11, 29, 9, 30), reason="a holiday")
    (cell,) = re.findall(r'<td class="pub review" title="([^"]*)">(.*?)</td>', render(records, {}, base="", days=30, holds={day: decided}))
    assert cell[1] == "published after review by dana" and cell[0].endswith("published by dana at 2018-11-29 09:30 UTC: a holiday")
    assert ">waived by dana</td>" in render(records, {}, base="", days=30, holds={day: dict(decided, state="waived")})
    held = dict(decided, state="held")
    assert ">held by dana</td>" in render(records, {}, base="", days=30, holds={day: held})
    # A hold of an older run: the page tells the newest run's story.
    assert (
        "review"
        not in re.findall(r'<td class="(pub[^"]*)"', render(records, {}, base="", days=30, holds={day: dict(hold, run_id="old")}))[0]
    )


def test_history_is_its_own_state_while_its_baseline_is_short():
    d1, d2 = date(2018, 11, 3), date(2018, 11, 12)
    records = [record(d, "history") for d in (d1, d2)]
    checks = {"songplays.rows": {d1: (100.0, None, None, "not enough history"), d2: (101.0, 80.0, 120.0, "ok")}}
    html = render(records, {}, base="", days=30, checks=checks)
    colours = dict(re.findall(r"<tr><th>(2018-11-\d+)</th>.*?background:(#\w+)", html))
    assert colours == {"2018-11-03": STATES["not enough history"], "2018-11-12": STATES["passed"]}


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
