"""Every use of GX's private API, in one module, checked on great-expectations GX_CHECKED.

tests/unit/quality/test_gx_private.py fails when the installed GX is another version or when the
code of any private name used here changed: then read GX's new code and check each use again.

- Data Docs views (gx/great_expectations.yml names them): data shown as text, a site that stays fast.
  GX escapes the parameters of its string templates, but emits plain-string content blocks (the
  cells of the unexpected-values and unexpected-rows tables, list items, observed values) as raw
  HTML, and puts bootstrap-table data into a <script> as a Python literal. Values from the lake are
  attacker-controlled (user names, agents, titles), so these views HTML-escape every plain-string
  block, quotes included: what the data says appears as text, and cannot close a <script> or an
  attribute. GX compiles its page templates anew in every process, which is most of the cost of
  writing one validation page: these views add Jinja's bytecode cache (a per-machine temp folder).
- The pages name the day: a validation page shows the logical day its result is for (the
  result's meta ``logical_day``, which quality.gx.run writes) in its title, overview and info
  table; the index has a Day column (sortable, filtered by a list of days). Status says what
  happened: a result whose failed expectations are all warnings (the day was not blocked) reads
  "Passed with warnings", on its page and in the index; a passing expectation that the checkpoint
  evaluated pass/fail only (BOOLEAN_ONLY) reads "passed" where GX would show "--" or "unknown";
  a failed one lists its offending keys, which GX shows only with the COMPLETE format.
- The index lists the shared results store (quality.store), not this machine's files: its rows
  reach GX's index builder, which GX makes itself from great_expectations.yml, through the
  context variable that ``index_listing`` sets for one build (no argument can carry them).
- A stored result's JSON is put into the validations store's backend as GX wrote it.
- A committed checkpoint's one validation definition runs directly (run_validation).
"""

from __future__ import annotations

import html
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from great_expectations.core.run_identifier import RunIdentifier
from great_expectations.render.components import RenderedStringTemplateContent
from great_expectations.render.renderer.content_block import ValidationResultsTableContentBlockRenderer
from great_expectations.render.renderer.page_renderer import ValidationResultsPageRenderer
from great_expectations.render.renderer.site_builder import FALSEY_YAML_STRINGS, DefaultSiteIndexBuilder
from great_expectations.render.renderer.site_index_page_renderer import SiteIndexPageRenderer
from great_expectations.render.view import DefaultJinjaIndexPageView, DefaultJinjaPageView
from jinja2 import FileSystemBytecodeCache, pass_context

GX_CHECKED = "1.24.1"  # the great-expectations version every private use below was read against
DAY_KEY = "logical_day"  # the result meta's entry for the day the result is for (quality.gx.run writes it)
REVIEW_KEY = "sparkify_review"  # the run's review, one line (quality.gx.docs adds it when it renders the pages)
STATUS_TEXT = {"passed": "Passed", "warnings": "Passed with warnings", "failed": "Failed"}
_ICONS = {
    "passed": ["fas", "fa-check-circle", "text-success", "ge-success-icon"],
    "warnings": ["fas", "fa-exclamation-triangle", "text-warning", "ge-warning-icon"],
    "failed": ["fas", "fa-times", "text-danger", "ge-failed-icon"],
}


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


class _Html(str):
    """HTML this module rendered itself (through GX's own view): passed on as it is, never copied."""

    def __deepcopy__(self, memo):
        return self


def _text(value):
    """A plain string as HTML text (quotes too); anything else unchanged."""
    return html.escape(value, quote=True) if isinstance(value, str) else value


class _EscapingViewMixin:
    """Plain strings reaching the page as content blocks are data: render them as text."""

    @pass_context
    def render_content_block(self, jinja_context, content_block, index=None, content_block_id=None, render_to_markdown=False):
        if not render_to_markdown:
            if isinstance(content_block, _Html):
                return content_block
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


class FastSiteIndexPageRenderer(SiteIndexPageRenderer):
    """GX's index renderer, with each distinct cell of the validations table rendered once.

    GX builds three template objects per listed result (status, batch, suite link), deep-copies
    them and renders each through Jinja: with 1,000 results that was most of a publish. The
    cells take few distinct values (two statuses, a batch and a link per suite), so each distinct
    one is rendered once, by GX's own templates, and the same HTML is reused; the page is
    identical (tests/unit/quality/test_views.py compares it with GX's).
    """

    @classmethod
    def _generate_validation_results_link_table(cls, index_links_dict):
        links = index_links_dict.get("validations_links", [])
        table = super()._generate_validation_results_link_table({"validations_links": []})  # columns, options, styling
        view = CachedIndexPageView()
        jinja_context = view.env.from_string("").new_context({})
        rendered: dict[tuple, _Html] = {}

        def cell(key: tuple, make, *args) -> _Html:
            if key not in rendered:
                rendered[key] = _Html(view.render_content_block(jinja_context, make(*args).to_json_dict()))
            return rendered[key]

        with_day = any(link.get("sparkify_day") for link in links)  # results without a day: GX's own table
        for link in links:
            success = link.get("validation_success")
            status = link.get("sparkify_status") or ("passed" if success else "failed")
            batch = (link.get("batch_identifier"), link.get("batch_kwargs"), link.get("batch_spec"))
            suite = (link.get("expectation_suite_name"), link.get("expectation_suite_filepath"))
            table.table_data.append(
                {
                    **({"day": link.get("sparkify_day") or ""} if with_day else {}),
                    "validation_success": cell(("status", status), _status_cell, status),
                    "run_time": cls._get_formatted_datetime(link.get("run_time")),
                    "_run_time_sort": cls._get_timestamp(link.get("run_time")),
                    "run_name": link.get("run_name"),
                    "batch_identifier": cell(("batch", repr(batch)), cls._render_batch_id_cell, *batch),
                    "_batch_identifier_sort": link.get("batch_identifier"),
                    "expectation_suite_name": cell(("suite", *suite), cls._render_expectation_suite_cell, *suite),
                    "_expectation_suite_name_sort": link.get("expectation_suite_name"),
                    "_table_row_link_path": link.get("filepath"),
                    "_validation_success_text": "Success" if status == "passed" else STATUS_TEXT[status],
                    "asset_name": link.get("asset_name"),
                }
            )
        if with_day:
            day = {"field": "day", "title": "Day", "sortable": "true", "filterControl": "select"}
            table.table_columns.insert(1, day)
        return table


def _status_cell(status: str) -> RenderedStringTemplateContent:
    """GX's status cell (SiteIndexPageRenderer._render_validation_success_cell), with the icon of
    one of three states; passed and failed are GX's own."""
    cell = SiteIndexPageRenderer._render_validation_success_cell(status == "passed")
    cell.string_template["styling"]["params"]["validation_success"]["classes"] = list(_ICONS[status])
    if status == "warnings":
        cell.string_template["styling"]["params"]["validation_success"]["attributes"] = {"title": STATUS_TEXT[status]}
    return cell


class CachedSiteIndexBuilder(DefaultSiteIndexBuilder):
    """GX's index builder, listing the results of the shared store instead of a local folder.

    Inside ``index_listing(entries)`` (rows of quality.store.index_entries: the newest results of
    every run, whichever machine validated them) it lists those. Outside (a notebook's local
    build) it lists the local store as GX does.
    """

    def _add_validations_to_index_links(self, index_links_dict, validation_and_profiling_result_site_keys) -> None:
        entries = _index_entries.get()
        if entries is None:
            return super()._add_validations_to_index_links(index_links_dict, validation_and_profiling_result_site_keys)
        config = self.site_section_builders_config.get("validations", "None")
        if not config or config in FALSEY_YAML_STRINGS:
            return None
        for entry in entries:
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
            status = "passed" if entry["gx_success"] else "warnings" if entry["success"] else "failed"
            day = entry.get("day")
            index_links_dict["validations_links"][-1].update(sparkify_status=status, sparkify_day=str(day) if day else None)
        return None


def _run_time(text: str) -> datetime:
    """GX's run_time key part (20181105T000000.000000Z) as the datetime it was made from."""
    return datetime.strptime(text, "%Y%m%dT%H%M%S.%fZ").replace(tzinfo=UTC)


_index_entries: ContextVar[list[dict] | None] = ContextVar("sparkify_index_entries", default=None)


@contextmanager
def index_listing(entries: list[dict[str, Any]]) -> Iterator[None]:
    """Index builds inside this block (in this thread or task) list ``entries``, not the local store."""
    token = _index_entries.set(entries)
    try:
        yield
    finally:
        _index_entries.reset(token)


def put_result_json(ctx, key: tuple[str, str, str, str], result_json: str, *, review: str | None = None) -> None:
    """Put a stored result's JSON, as GX wrote it on whichever machine validated, into this
    process's validations store under its key (suite, run name, run time, batch); a run held for
    review gets its review line in the result's meta, for its pages (the store keeps GX's JSON)."""
    if review:
        result = json.loads(result_json)
        result.setdefault("meta", {})[REVIEW_KEY] = review
        result_json = json.dumps(result)
    ctx.validation_results_store.store_backend.set(key, result_json)


def run_validation(checkpoint, run_id, expectation_parameters: dict):
    """Run a committed checkpoint's validation definition: (its result's key, the result).

    A checkpoint without actions (as committed) runs its one validation definition directly,
    as Checkpoint.run itself would, without Checkpoint.run's check that the checkpoint matches
    its stored copy: it was read from the store a moment ago (about 20 ms a validation). A
    checkpoint with actions, or with several definitions, runs through Checkpoint.run."""
    from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier, ValidationResultIdentifier

    if checkpoint.actions or len(checkpoint.validation_definitions) != 1:
        result = checkpoint.run(run_id=run_id, expectation_parameters=expectation_parameters)
        return next(iter(result.run_results.items()))
    (definition,) = checkpoint.validation_definitions
    validation = definition.run(
        checkpoint_id=checkpoint.id, expectation_parameters=expectation_parameters, result_format=checkpoint.result_format, run_id=run_id
    )
    suite = ExpectationSuiteIdentifier(name=definition.suite.name)
    identifier = ValidationResultIdentifier(expectation_suite_identifier=suite, run_id=run_id, batch_identifier=validation.batch_id)
    return identifier, validation


def result_status(validation_results) -> str:
    """passed; warnings (every failed expectation is warning-level: the day was not blocked); failed."""
    if validation_results.success:
        return "passed"
    failed = [item for item in validation_results.results if not item.success]
    levels = {str(getattr(item.expectation_config.severity, "value", item.expectation_config.severity) or "critical") for item in failed}
    return "warnings" if failed and "critical" not in levels else "failed"


class DayValidationResultsPageRenderer(ValidationResultsPageRenderer):
    """GX's validation page, naming the result's logical day (title, overview, info table), with
    the status as the pipeline reads it, and the expectations' rows from PassedTableRenderer."""

    def __init__(self, column_section_renderer=None, run_info_at_end: bool = False, data_context=None) -> None:
        column_section_renderer = column_section_renderer or {
            "module_name": "great_expectations.render.renderer.column_section_renderer",
            "class_name": "ValidationResultsColumnSectionRenderer",
            "table_renderer": {"module_name": __name__, "class_name": "PassedTableRenderer"},
        }
        super().__init__(column_section_renderer=column_section_renderer, run_info_at_end=run_info_at_end, data_context=data_context)

    def render(self, validation_results, suite_parameters=None):
        document = super().render(validation_results, suite_parameters)
        if day := validation_results.meta.get(DAY_KEY):
            document.page_title = f"{day} | {document.page_title}"
        return document

    @classmethod
    def _render_validation_header(cls, validation_results):
        header = super()._render_validation_header(validation_results)
        template = header.subheader.string_template
        status = result_status(validation_results)
        template["params"]["success"] = STATUS_TEXT[status]
        template["params"]["html_success_icon"] = f'<i class="{" ".join(_ICONS[status][:3])}" aria-hidden="true"></i>'
        if day := validation_results.meta.get(DAY_KEY):
            template["template"] = "${day_title} ${day}\n " + template["template"]
            template["params"].update(day_title="Day:", day=str(day))
            template["styling"]["params"]["day_title"] = {"classes": ["h6"]}
        if review := validation_results.meta.get(REVIEW_KEY):
            template["template"] = "${review_title} ${review}\n " + template["template"]
            template["params"].update(review_title="Review:", review=str(review))
            template["styling"]["params"]["review_title"] = {"classes": ["h6"]}
        return header

    @classmethod
    def _render_validation_info(cls, validation_results):
        info = super()._render_validation_info(validation_results)
        if day := validation_results.meta.get(DAY_KEY):
            info.table.insert(0, ["Day", str(day)])
        if review := validation_results.meta.get(REVIEW_KEY):
            info.table.insert(1, ["Review", str(review)])
        return info


class PassedTableRenderer(ValidationResultsTableContentBlockRenderer):
    """GX's expectation rows, saying what the stored result knows: a passing expectation that was
    evaluated pass/fail only has no observed value, so it reads "passed" (not "--" or "unknown");
    a failed one lists the offending keys or rows its result names."""

    @classmethod
    def _get_content_block_fn(cls, expectation_type, expectation_config=None):
        make_row = super()._get_content_block_fn(expectation_type=expectation_type, expectation_config=expectation_config)
        if make_row is None:
            return None

        def row(configuration=None, result=None, runtime_configuration=None, **kwargs):
            rows = make_row(configuration=configuration, result=result, runtime_configuration=runtime_configuration, **kwargs)
            if result is None:
                return rows
            found = result.result or {}
            if result.success and "observed_value" not in found and "unexpected_count" not in found:
                rows[0][2] = "passed"  # the observed value column (GX: status, expectation, observed value)
            elif not result.success and (keys := _keys(found)):
                cell = rows[0][1] if isinstance(rows[0][1], list) else [rows[0][1]]
                rows[0][1] = [*cell, _keys_block(keys, found)]
            return rows

        return row


def _keys(found: dict) -> list:
    for field in ("partial_unexpected_index_list", "unexpected_index_list"):
        if found.get(field):
            return list(found[field])
    return list((found.get("details") or {}).get("unexpected_rows") or [])


def _keys_block(keys: list, found: dict) -> RenderedStringTemplateContent:
    """The offending keys (or rows) as text: "Offending keys (10 of 42): {'user_id': 7}, ..."."""
    shown = ", ".join(str(key) for key in keys[:20])
    total = found.get("unexpected_count")
    counted = f"{min(len(keys), 20)} of {total}" if isinstance(total, int) else str(min(len(keys), 20))
    return RenderedStringTemplateContent(
        content_block_type="string_template",
        string_template={
            "template": "Offending keys ($counted): $keys",
            "params": {"counted": counted, "keys": shown},
            "styling": {"classes": ["mt-1", "sparkify-offending-keys"]},
        },
    )
