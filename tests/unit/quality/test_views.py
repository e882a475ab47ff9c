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
