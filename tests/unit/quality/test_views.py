"""The Data Docs views render plain-string content blocks (data) as text."""

from __future__ import annotations

import re

import pytest

from tests.integration.helpers import PAYLOADS


@pytest.fixture(scope="module")
def view():
    from sparkify.quality.gx.private import CachedPageView

    return CachedPageView()


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_a_string_block_is_text(view, name):
    rendered = view.render_content_block({}, PAYLOADS[name])
    assert "<" not in rendered and '"' not in rendered and "'" not in rendered
    assert (
        rendered.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&#x27;", "'").replace("&amp;", "&")
        == PAYLOADS[name]
    )


def test_list_items_and_table_cells_are_text_and_templates_still_render(view):
    assert view.render_content_block({}, ["<b>x</b>", 3]) == "<span>&lt;b&gt;x&lt;/b&gt;</span><span>3</span>"
    row = {"value": "<svg onload=alert(1)>", "count": 2}
    assert view.render_bootstrap_table_data({}, [row]) == [{"value": "&lt;svg onload=alert(1)&gt;", "count": 2}]
    template = {"template": "$v values", "params": {"v": "<i>"}, "styling": {"default": {"classes": ["badge"]}}}
    rendered = view.render_string_template(template)
    assert "&lt;i&gt;" in rendered and "badge" in rendered  # GX's own markup (the styling span) stays markup


def _index_links(n: int) -> dict:
    from datetime import UTC, datetime, timedelta

    suites = ("songs", "artists", "songplays")
    return {
        "validations_links": [
            {
                "validation_success": i % 4 != 0,
                "run_time": datetime(2018, 11, 1, tzinfo=UTC) + timedelta(days=i // 3),
                "run_name": f"run_{i // 3}",
                "batch_identifier": f"sparkify_warehouse-{suites[i % 3]}",
                "batch_kwargs": {},
                "batch_spec": {},
                "expectation_suite_name": suites[i % 3],
                "expectation_suite_filepath": f"expectations/{suites[i % 3]}.html",
                "filepath": f"validations/{suites[i % 3]}/run_{i // 3}/x.html",
                "asset_name": suites[i % 3],
            }
            for i in range(n)
        ],
        "expectations_links": [],
        "profiling_links": [],
    }


def test_the_fast_index_renderer_gives_gx_s_own_page():
    """Each distinct index cell rendered once gives the same page, byte for byte, as GX's renderer."""
    from great_expectations.render.renderer.site_index_page_renderer import SiteIndexPageRenderer

    from sparkify.quality.gx.private import CachedIndexPageView, FastSiteIndexPageRenderer

    view = CachedIndexPageView()
    gx_page = view.render(SiteIndexPageRenderer.render(_index_links(40)))
    fast_page = view.render(FastSiteIndexPageRenderer.render(_index_links(40)))
    assert "fa-times" in gx_page and "run_13" in gx_page  # the table holds the rows
    # The page carries the time it was rendered (GX's data-timestamp); everything else is the same.
    stamp = re.compile(r"\d{8}T\d{6}\.\d{6}Z")
    assert len(stamp.findall(gx_page)) == 1
    assert stamp.sub("T", fast_page) == stamp.sub("T", gx_page)


def test_the_index_names_each_result_s_day_and_a_warnings_only_result_is_not_a_failure():
    from sparkify.quality.gx.private import CachedIndexPageView, FastSiteIndexPageRenderer

    links = _index_links(6)
    for i, link in enumerate(links["validations_links"]):
        link["sparkify_day"] = f"2018-11-0{1 + i // 3}"
        link["sparkify_status"] = ("passed", "warnings", "failed")[i % 3]
    table = FastSiteIndexPageRenderer._generate_validation_results_link_table(links)
    assert table.table_columns[1] == {"field": "day", "title": "Day", "sortable": "true", "filterControl": "select"}
    rows = table.table_data
    assert [row["day"] for row in rows] == ["2018-11-01"] * 3 + ["2018-11-02"] * 3
    assert [row["_validation_success_text"] for row in rows[:3]] == ["Success", "Passed with warnings", "Failed"]
    assert "fa-exclamation-triangle" in rows[1]["validation_success"] and "text-warning" in rows[1]["validation_success"]
    assert "fa-times" in rows[2]["validation_success"] and "fa-check-circle" in rows[0]["validation_success"]
    page = CachedIndexPageView().render(FastSiteIndexPageRenderer.render(links))
    assert "'title': 'Day'" in page and "'day': '2018-11-02'" in page
