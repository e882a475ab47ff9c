"""quality.gx.redact: which columns are sensitive, the markers, and what in a GX result is replaced."""

from __future__ import annotations

import pytest

from sparkify.quality.gx.redact import Redactor, redact_result, sensitive_columns
from tests.session import ROOT

DECLARED = frozenset({"first_name", "user_agent", "songplays.location"})


def redactor(day: str = "2018-11-15", table: str = "users", secret: bytes = b"k" * 32) -> Redactor:
    return Redactor(secret=secret, day=day, table=table, declared=DECLARED)


def test_the_committed_file_declares_the_sample_schemas_personal_columns():
    assert sensitive_columns(ROOT / "gx") == {"first_name", "last_name", "location", "user_agent"}


def test_a_bad_file_is_refused_with_its_path(tmp_path):
    (tmp_path / "sensitive_columns.toml").write_text('columns = "first_name"\n')
    with pytest.raises(ValueError, match=r"sensitive_columns.toml: 'columns' must be a list"):
        sensitive_columns(tmp_path)
    (tmp_path / "sensitive_columns.toml").write_text("columns = [\n")
    with pytest.raises(ValueError, match=r"sensitive_columns.toml: not valid TOML"):
        sensitive_columns(tmp_path)


def test_markers_are_stable_within_a_day_and_keyed():
    marker = redactor().marker("first_name", "Lily")
    assert marker.startswith("<redacted first_name #") and "Lily" not in marker
    assert redactor().marker("first_name", "Lily") == marker
    assert redactor().marker("first_name", "Kate") != marker
    assert redactor(day="2018-11-16").marker("first_name", "Lily") != marker
    assert redactor(secret=b"x" * 32).marker("first_name", "Lily") != marker


def test_a_qualified_name_applies_to_its_table_only():
    assert redactor(table="songplays").sensitive("location") and not redactor(table="artists").sensitive("location")
    assert redactor(table="artists").sensitive("FIRST_NAME")


def test_values_are_replaced_and_counts_and_keys_kept():
    r = redactor()
    result = {
        "element_count": 5, "unexpected_count": 2, "unexpected_percent": 40.0,
        "partial_unexpected_list": ["Lily", "Kate"],
        "partial_unexpected_counts": [{"value": "Lily", "count": 1}, {"value": "Kate", "count": 1}],
        "partial_unexpected_index_list": [{"user_id": "15", "first_name": "Lily"}],
        "unexpected_index_query": "SELECT user_id, first_name FROM users WHERE first_name !~ '^Zq'",
    }  # fmt: skip
    out = redact_result(result, ["first_name"], r)
    lily = r.marker("first_name", "Lily")
    assert out["partial_unexpected_list"] == [lily, r.marker("first_name", "Kate")]
    assert out["partial_unexpected_counts"][0] == {"value": lily, "count": 1}
    assert out["partial_unexpected_index_list"] == [{"user_id": "15", "first_name": lily}]
    assert (out["element_count"], out["unexpected_count"], out["unexpected_index_query"]) == (5, 2, result["unexpected_index_query"])
    # Rows of an unexpected-rows query: the sensitive columns' values only.
    rows = {"observed_value": 1, "details": {"unexpected_rows": [{"user_id": "15", "user_agent": "Mozilla/5.0", "level": "free"}]}}
    out = redact_result(rows, [], r)
    assert out["details"]["unexpected_rows"] == [{"user_id": "15", "user_agent": r.marker("user_agent", "Mozilla/5.0"), "level": "free"}]
    # Another column's values stay.
    assert redact_result({"partial_unexpected_list": ["paid"]}, ["level"], r) == {"partial_unexpected_list": ["paid"]}
