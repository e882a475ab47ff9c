"""The Data Docs views render plain-string content blocks (data) as text."""

from __future__ import annotations

import pytest

from tests.integration.helpers import PAYLOADS


@pytest.fixture(scope="module")
def view():
    from sparkify.quality.views import CachedPageView

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
