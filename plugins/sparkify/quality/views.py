"""Data Docs views and index builder: data shown as text, and a site that stays fast.

Escaping: GX escapes the parameters of its string templates, but emits plain-string content
blocks (the cells of the unexpected-values and unexpected-rows tables, list items, observed values)
as raw HTML, and puts bootstrap-table data into a <script> as a Python literal. Values from the
lake are attacker-controlled (user names, agents, titles), so these views HTML-escape every
plain-string block, quotes included: what the data says appears as text, and cannot close a
<script> or an attribute.

Speed: GX compiles its page templates anew in every process, which is most of the cost of writing
one validation page. These views add Jinja's bytecode cache (under gx/uncommitted/).
"""

from __future__ import annotations

import html
import json

from great_expectations.core.expectation_validation_result import ExpectationSuiteValidationResult
from great_expectations.render.renderer.site_builder import (
    FALSEY_YAML_STRINGS,
    DefaultSiteIndexBuilder,
    _resolve_asset_name,
    resource_key_passes_run_name_filter,
)
from great_expectations.render.view import DefaultJinjaIndexPageView, DefaultJinjaPageView
from jinja2 import FileSystemBytecodeCache, pass_context

from sparkify.settings import gx_dir


def _bytecode_cache() -> FileSystemBytecodeCache:
    folder = gx_dir() / "uncommitted" / "jinja_cache"
    folder.mkdir(parents=True, exist_ok=True)
    return FileSystemBytecodeCache(str(folder))


def _text(value):
    """A plain string as HTML text (quotes too); anything else unchanged."""
    return html.escape(value, quote=True) if isinstance(value, str) else value


class _EscapingViewMixin:
    """Plain strings reaching the page as content blocks are data: render them as text."""

    @pass_context
    def render_content_block(self, jinja_context, content_block, index=None, content_block_id=None, render_to_markdown=False):
        if not render_to_markdown:
            if isinstance(content_block, str):
                return _text(content_block)
            if isinstance(content_block, list):
                content_block = [_text(item) for item in content_block]
        return super().render_content_block(jinja_context, content_block, index, content_block_id, render_to_markdown)

    def render_string_template(self, template):
        # GX passes a non-template value through unchanged; a string there is data too.
        if isinstance(template, str):
            return _text(template)
        return super().render_string_template(template)


class CachedPageView(_EscapingViewMixin, DefaultJinjaPageView):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.env.bytecode_cache = _bytecode_cache()


class CachedIndexPageView(_EscapingViewMixin, DefaultJinjaIndexPageView):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.env.bytecode_cache = _bytecode_cache()


class CachedSiteIndexBuilder(DefaultSiteIndexBuilder):
    """GX's index builder, remembering what the index shows of each stored result.

    GX re-reads every listed validation result (up to validation_results_limit) on every index
    build, so each publish costs more as results accumulate. The few fields the index shows of a
    result never change once it is stored, so they are kept in gx/uncommitted/index_cache.json
    and only new results are read.
    """

    def _add_validations_to_index_links(self, index_links_dict, validation_and_profiling_result_site_keys) -> None:
        config = self.site_section_builders_config.get("validations", "None")
        if not config or config in FALSEY_YAML_STRINGS:
            return
        name_filter = config["run_name_filter"]
        keys = [k for k in validation_and_profiling_result_site_keys if resource_key_passes_run_name_filter(k, name_filter)]
        keys.sort(key=lambda k: k.run_id.run_time, reverse=True)
        if self.validation_results_limit:
            keys = keys[: self.validation_results_limit]
        cache_path = gx_dir() / "uncommitted" / "index_cache.json"
        try:
            cache = json.loads(cache_path.read_text())
        except (OSError, ValueError):
            cache = {}
        fresh = {}
        for key in keys:
            cache_key = "/".join(str(part) for part in key.to_tuple())
            entry = cache.get(cache_key)
            if entry is None:
                result = self.data_context.get_validation_result(
                    batch_identifier=key.batch_identifier,
                    expectation_suite_name=key.expectation_suite_identifier.name,
                    run_id=key.run_id,
                    validation_results_store_name=self.source_stores.get("validations"),
                )
                if not isinstance(result, ExpectationSuiteValidationResult):
                    continue
                entry = {
                    "success": result.success,
                    "asset_name": _resolve_asset_name(result),
                    "batch_kwargs": _plain(result.meta.get("batch_kwargs", {})),
                    "batch_spec": _plain(result.meta.get("batch_spec", {})),
                }
            fresh[cache_key] = entry
            self.add_resource_info_to_index_links_dict(
                index_links_dict=index_links_dict,
                expectation_suite_name=key.expectation_suite_identifier.name,
                section_name="validations",
                batch_identifier=key.batch_identifier,
                run_id=key.run_id,
                validation_success=entry["success"],
                run_time=key.run_id.run_time,
                run_name=key.run_id.run_name,
                asset_name=entry["asset_name"],
                batch_kwargs=entry["batch_kwargs"],
                batch_spec=entry["batch_spec"],
            )
        partial = cache_path.with_suffix(".partial")
        partial.write_text(json.dumps(fresh))
        partial.replace(cache_path)


def _plain(value) -> dict:
    return json.loads(json.dumps(dict(value or {}), default=str))
