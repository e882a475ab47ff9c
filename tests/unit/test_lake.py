from __future__ import annotations

import pytest

from sparkify.lake import events_key, extract, lake_path, parse_jsonpath, read_jsonpaths
from tests.conftest import SAMPLE_LAKE


def test_events_key_follows_the_lake_layout():
    assert events_key("2018-11-05") == "log_data/2018/11/2018-11-05-events.json"
    assert events_key("2018-11-05T00:00:00+00:00") == "log_data/2018/11/2018-11-05-events.json"


@pytest.mark.parametrize(
    "expr, steps",
    [("$['artist']", ("artist",)), ("$.a.b", ("a", "b")), ('$["x"][0]', ("x", 0)), ("$['a b']", ("a b",))],
)
def test_parse_jsonpath(expr, steps):
    assert parse_jsonpath(expr) == steps


@pytest.mark.parametrize("expr", ["artist", "$", "$['a", "$..a"])
def test_parse_jsonpath_rejects_bad_paths(expr):
    with pytest.raises(ValueError, match="JSONPath"):
        parse_jsonpath(expr)


def test_extract_missing_steps_give_none():
    record = {"a": {"b": [1, 2]}, "c": None}
    assert extract(record, ("a", "b", 1)) == 2
    assert extract(record, ("a", "x")) is None
    assert extract(record, ("c", "d")) is None
    assert extract(record, ("a", "b", 5)) is None


def test_the_sample_jsonpaths_file_maps_eighteen_fields():
    paths = read_jsonpaths((SAMPLE_LAKE / "log_json_path.json").read_text(), source="sample")
    assert len(paths) == 18
    assert paths[0] == ("artist",) and paths[-1] == ("userId",)


def test_read_jsonpaths_names_the_file_on_error():
    with pytest.raises(ValueError, match="lake/x.json"):
        read_jsonpaths('{"paths": []}', source="lake/x.json")


def test_lake_path_accepts_folders_and_rejects_unknown_schemes(tmp_path):
    assert lake_path(str(tmp_path)).exists()
    assert lake_path(tmp_path.as_uri()).exists()
    with pytest.raises(ValueError, match="sparkify_lake"):
        lake_path("")
    with pytest.raises(ValueError, match="Unsupported lake root"):
        lake_path("ftp://host/lake")
    with pytest.raises(FileNotFoundError, match="not a folder"):
        lake_path(str(tmp_path / "missing"))
