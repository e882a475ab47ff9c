"""GX's private API, used only in sparkify.quality.gx.private: this fails when the installed GX is
not the version those uses were checked on, or when the code of any private name used changed.
Then read GX's new code, check each use again, and record the new fingerprints here."""

from __future__ import annotations

import ast
import hashlib
import inspect
import textwrap

import great_expectations
from great_expectations.checkpoint import Checkpoint
from great_expectations.data_context.store.validation_results_store import ValidationResultsStore
from great_expectations.render.renderer import site_builder
from great_expectations.render.renderer.content_block import ValidationResultsTableContentBlockRenderer
from great_expectations.render.renderer.page_renderer import ValidationResultsPageRenderer
from great_expectations.render.renderer.site_builder import DefaultSiteIndexBuilder
from great_expectations.render.renderer.site_index_page_renderer import SiteIndexPageRenderer

from sparkify.quality.gx import private
from tests.session import ROOT

# Each private name the module uses, and a fingerprint of its code (the first 12 hex digits of the
# SHA-256 of its source, docstrings and comments left out) as read in great-expectations 1.24.1.
USED = {
    "DefaultSiteIndexBuilder._add_validations_to_index_links": (DefaultSiteIndexBuilder, "_add_validations_to_index_links"),
    "DefaultSiteIndexBuilder.add_resource_info_to_index_links_dict": (DefaultSiteIndexBuilder, "add_resource_info_to_index_links_dict"),
    "SiteIndexPageRenderer._generate_validation_results_link_table": (SiteIndexPageRenderer, "_generate_validation_results_link_table"),
    "SiteIndexPageRenderer._render_validation_success_cell": (SiteIndexPageRenderer, "_render_validation_success_cell"),
    "SiteIndexPageRenderer._render_batch_id_cell": (SiteIndexPageRenderer, "_render_batch_id_cell"),
    "SiteIndexPageRenderer._render_expectation_suite_cell": (SiteIndexPageRenderer, "_render_expectation_suite_cell"),
    "SiteIndexPageRenderer._get_formatted_datetime": (SiteIndexPageRenderer, "_get_formatted_datetime"),
    "SiteIndexPageRenderer._get_timestamp": (SiteIndexPageRenderer, "_get_timestamp"),
    # The validation page names the day and says "Passed with warnings": these build the header,
    # the info table and the page (the overrides change their output), and the expectation rows
    # (the override reads the row's cells by position: status, expectation, observed value).
    "ValidationResultsPageRenderer.render": (ValidationResultsPageRenderer, "render"),
    "ValidationResultsPageRenderer._render_validation_header": (ValidationResultsPageRenderer, "_render_validation_header"),
    "ValidationResultsPageRenderer._render_validation_info": (ValidationResultsPageRenderer, "_render_validation_info"),
    "ValidationResultsTableContentBlockRenderer._get_content_block_fn": (
        ValidationResultsTableContentBlockRenderer,
        "_get_content_block_fn",
    ),
    # run_validation is a hand copy of what Checkpoint.run does for one validation definition.
    "Checkpoint.run": (Checkpoint, "run"),
    "Checkpoint._run_validation_definitions": (Checkpoint, "_run_validation_definitions"),
    # put_result_json writes the validations store's backend as the store itself would.
    "ValidationResultsStore.store_backend": (ValidationResultsStore, "store_backend"),
}
FINGERPRINTS = {
    "DefaultSiteIndexBuilder._add_validations_to_index_links": "a1022b6aa3da",
    "DefaultSiteIndexBuilder.add_resource_info_to_index_links_dict": "d149de7b0dd3",
    "SiteIndexPageRenderer._generate_validation_results_link_table": "428fe3cf2be7",
    "SiteIndexPageRenderer._render_validation_success_cell": "4f4c814d1b4b",
    "SiteIndexPageRenderer._render_batch_id_cell": "37eec0fc1b44",
    "SiteIndexPageRenderer._render_expectation_suite_cell": "e8882b582ae6",
    "SiteIndexPageRenderer._get_formatted_datetime": "740b2ef26032",
    "SiteIndexPageRenderer._get_timestamp": "c72a939081a0",
    "ValidationResultsPageRenderer.render": "b252ce8246f7",
    "ValidationResultsPageRenderer._render_validation_header": "0f1ceab10a20",
    "ValidationResultsPageRenderer._render_validation_info": "d94979dfbea1",
    "ValidationResultsTableContentBlockRenderer._get_content_block_fn": "fd5ee7c72954",
    "Checkpoint.run": "c7411bd9c7ed",
    "Checkpoint._run_validation_definitions": "7602c7675aa4",
    "ValidationResultsStore.store_backend": "aba680d5a6a8",
}


def fingerprint(owner, name: str) -> str:
    member = inspect.getattr_static(owner, name)
    function = getattr(member, "fget", None) or getattr(member, "__func__", None) or member
    source = inspect.getsource(function)
    try:
        tree = ast.parse(textwrap.dedent(source))
    except IndentationError:  # a string in the body starts at column 0: parse the method in a class
        tree = ast.parse("class _:\n" + source).body[0]
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            body.pop(0)  # the docstring
    return hashlib.sha256(ast.dump(tree).encode()).hexdigest()[:12]


def test_the_installed_gx_is_the_version_the_private_uses_were_checked_on():
    assert great_expectations.__version__ == private.GX_CHECKED
    pinned = [line for line in (ROOT / "requirements.txt").read_text().splitlines() if line.startswith("great_expectations==")]
    assert pinned == [f"great_expectations=={private.GX_CHECKED}"]


def test_the_private_names_used_are_as_they_were_read():
    assert isinstance(site_builder.FALSEY_YAML_STRINGS, list) and "false" in [s.lower() for s in site_builder.FALSEY_YAML_STRINGS]
    found = {label: fingerprint(owner, name) for label, (owner, name) in USED.items()}
    assert found == FINGERPRINTS
