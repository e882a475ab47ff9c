"""The Data Docs site as published to a folder, opened from disk in headless Chromium: lake values
carrying markup and script (PAYLOADS) show as text and never run, whatever serves the files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser.test_airflow_ui import CHROMIUM, FLAGS, GX_TITLE
from tests.integration.helpers import PAYLOADS, lake_with_payloads, reset_warehouse, run_pipeline
from tests.session import SESSION_DIR

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium: `make test` installs Debian's chromium with apt")
DAY = "2018-11-03"


@pytest.fixture(scope="module")
def published(socket_warehouse):
    lake = lake_with_payloads(SESSION_DIR / "lake-payloads", DAY)
    reset_warehouse(socket_warehouse)
    code, summary = run_pipeline(socket_warehouse, lake, DAY, DAY, fresh=False, tag="payloads")
    assert code == 1
    pages = {v["suite"]: Path(v["data_docs"]) for v in summary["validations"] if v["data_docs"]}
    assert Path(os.environ["AIRFLOW_VAR_SPARKIFY_DOCS"]) in pages["staging_events"].parents
    return summary, pages


def test_the_failed_checks_report_the_payloads(published):
    summary, _ = published
    by_suite = {v["suite"]: v for v in summary["validations"]}
    assert by_suite["staging_events"]["state"] == "failed"
    assert by_suite["staging_songs"]["success"]  # the duplicate song_id is a warning
    assert by_suite["staging_songs"]["failed_warning"] == 1


@pytest.mark.parametrize("suite, shown", [("staging_events", list(PAYLOADS)), ("staging_songs", ["quotes"])])
def test_published_pages_show_payloads_as_text(published, suite, shown):
    from playwright.sync_api import sync_playwright

    _, pages = published
    source = pages[suite].read_text()
    for name in shown:
        assert PAYLOADS[name] not in source, name  # never raw in the file, whoever serves it
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page()
        # Playwright's 30 s default ran out once under make test's load (four workers on two cores).
        page.set_default_timeout(120_000)
        dialogs = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        page.goto(pages[suite].as_uri())
        page.wait_for_timeout(1000)
        text = page.locator("body").inner_text()
        assert all(PAYLOADS[name] in text for name in shown), [n for n in shown if PAYLOADS[n] not in text]
        assert page.title() == GX_TITLE
        assert page.locator("img[src=x], img[src=y], svg[onload], #xss-link").count() == 0
        assert page.evaluate("[...document.scripts].filter(script => script.textContent.includes('XSS')).length") == 0
        assert dialogs == []
        browser.close()


def test_the_published_site_is_self_contained(published):
    """No request leaves the site: CDN assets and GX's logo come from the site's static/ folder; the
    index builds its table (one row per stored result) and the pages are styled."""
    from playwright.sync_api import sync_playwright

    summary, pages = published
    index = pages["staging_events"].parents[4] / "index.html"
    assert (index.parent / "static" / "vendor" / "jquery-3.7.1" / "dist" / "jquery.min.js").is_file()
    for html in (index, pages["staging_events"]):
        text = html.read_text()
        assert "https://cdn" not in text and "unpkg.com" not in text and "amazonaws.com" not in text and "bootstrapcdn" not in text
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page()
        # Playwright's 30 s default ran out once under make test's load (four workers on two cores).
        page.set_default_timeout(120_000)
        outside = []
        page.on("request", lambda request: outside.append(request.url) if not request.url.startswith("file://") else None)
        page.goto(index.as_uri())
        page.wait_for_load_state("networkidle")
        rows = page.locator("#validation-results-table tbody tr, table tbody tr:has(td)")
        ran = [v for v in summary["validations"] if v["state"] != "not run"]
        assert page.locator("text=Showing 1 to").first.inner_text().endswith(f"of {len(ran)} rows")
        assert rows.count() >= len(ran)
        # The Day column names the run's day; the warnings-only result (the duplicate song_id) has
        # the warning icon, not GX's failure cross.
        assert "Day" in page.locator("table thead").first.inner_text()
        assert page.locator(f"tbody tr:has(td:text-is('{DAY}'))").count() == len(ran)
        songs = page.locator("tbody tr:has(a[href='expectations/staging_songs.html'])").first
        assert songs.locator("i.fa-exclamation-triangle.text-warning").count() == 1 and songs.locator("i.fa-times").count() == 0
        page.goto(pages["staging_events"].as_uri())
        page.wait_for_load_state("networkidle")
        assert page.evaluate("getComputedStyle(document.querySelector('nav.navbar')).position") == "sticky"  # Bootstrap's CSS applied
        assert page.evaluate("getComputedStyle(document.querySelector('.fas, .fa, [class*=fa-]')).fontFamily").startswith('"Font Awesome')
        assert outside == []
        browser.close()
