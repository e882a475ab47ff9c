"""Data Docs views and index builder: data shown as text, and a site that stays fast.

Escaping: GX escapes the parameters of its string templates, but emits plain-string content
blocks (the cells of the unexpected-values and unexpected-rows tables, list items, observed values)
as raw HTML, and puts bootstrap-table data into a <script> as a Python literal. Values from the
lake are attacker-controlled (user names, agents, titles), so these views HTML-escape every
plain-string block, quotes included: what the data says appears as text, and cannot close a
<script> or an attribute.

Speed: GX compiles its page templates anew in every process, which is most of the cost of writing
one validation page. These views add Jinja's bytecode cache (a per-machine temp folder).

The index lists the shared results store (quality.store), not this machine's files.
"""

from __future__ import annotations

import html
import os
import tempfile
from datetime import UTC, datetime

from great_expectations.core.run_identifier import RunIdentifier
from great_expectations.render.renderer.site_builder import FALSEY_YAML_STRINGS, DefaultSiteIndexBuilder
from great_expectations.render.view import DefaultJinjaIndexPageView, DefaultJinjaPageView
from jinja2 import FileSystemBytecodeCache, pass_context


class _AtomicBytecodeCache(FileSystemBytecodeCache):
    """Jinja's file cache, each entry written to a private file first and renamed into place, so
    processes that render at the same time never read half a file."""

    def dump_bytecode(self, bucket) -> None:
        name = self._get_cache_filename(bucket)
        fd, partial = tempfile.mkstemp(dir=self.directory, prefix=".partial-")
        try:
            with os.fdopen(fd, "wb") as handle:
                bucket.write_bytecode(handle)
            os.replace(partial, name)
        except BaseException:
            os.unlink(partial)
            raise


def _bytecode_cache() -> FileSystemBytecodeCache:
    """A per-machine cache of compiled page templates (GX's templates are the same everywhere)."""
    folder = os.path.join(tempfile.gettempdir(), f"sparkify-jinja-{os.getuid()}")
    os.makedirs(folder, mode=0o700, exist_ok=True)
    return _AtomicBytecodeCache(folder)


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
    """GX's index builder, listing the results of the shared store instead of a local folder.

    publish_docs sets ``entries`` (rows of quality.store.index_entries: the newest results of every
    run, whichever machine validated them) for the duration of one build. Without entries (a
    notebook's local build) it lists the local store as GX does.
    """

    entries: list[dict] | None = None

    def _add_validations_to_index_links(self, index_links_dict, validation_and_profiling_result_site_keys) -> None:
        if self.entries is None:
            return super()._add_validations_to_index_links(index_links_dict, validation_and_profiling_result_site_keys)
        config = self.site_section_builders_config.get("validations", "None")
        if not config or config in FALSEY_YAML_STRINGS:
            return None
        for entry in self.entries:
            run_id = RunIdentifier(run_name=entry["run_name"], run_time=_run_time(entry["run_time"]))
            self.add_resource_info_to_index_links_dict(
                index_links_dict=index_links_dict,
                expectation_suite_name=entry["suite"],
                section_name="validations",
                batch_identifier=entry["batch_identifier"],
                run_id=run_id,
                validation_success=entry["gx_success"],
                run_time=run_id.run_time,
                run_name=entry["run_name"],
                asset_name=entry["asset_name"],
                batch_kwargs={},
                batch_spec={},
            )
        return None


def _run_time(text: str) -> datetime:
    """GX's run_time key part (20181105T000000.000000Z) as the datetime it was made from."""
    return datetime.strptime(text, "%Y%m%dT%H%M%S.%fZ").replace(tzinfo=UTC)
