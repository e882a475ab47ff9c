from __future__ import annotations

import pytest

from sparkify.lake import events_key, extract, open_lake, parse_jsonpath, read_jsonpaths
from tests.session import SAMPLE_LAKE


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


def test_open_lake_accepts_folders_and_rejects_unknown_schemes(tmp_path):
    (tmp_path / "song_data" / "A").mkdir(parents=True)
    (tmp_path / "song_data" / "A" / "TRA.json").write_text("{}")
    (tmp_path / "song_data" / "A" / "notes.txt").write_text("")
    for lake in (open_lake(str(tmp_path)), open_lake(tmp_path.as_uri())):
        assert lake.list_json("song_data") == ["song_data/A/TRA.json"]
        assert lake.is_file("song_data/A/TRA.json") and not lake.is_file("song_data/A")
    with pytest.raises(ValueError, match="sparkify_lake"):
        open_lake("")
    with pytest.raises(ValueError, match="Unsupported lake root"):
        open_lake("ftp://host/lake")
    with pytest.raises(FileNotFoundError, match="not a folder"):
        open_lake(str(tmp_path / "missing"))
