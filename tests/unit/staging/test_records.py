"""Pure record handling: coercion to column types, CSV fields, the events' rules, song documents
and NDJSON lines to CSV rows with quarantine reasons (no database)."""

from __future__ import annotations

import json

import pytest

from sparkify.lake import LocalLake
from sparkify.staging.records import EventRules, Rejected, StageCounts, StagingError, coerce, csv_field, csv_rows


@pytest.mark.parametrize(
    "value, data_type, expected",
    [(None, "bigint", None), (5.0, "bigint", 5), (" 42 ", "integer", 42), ("-7", "bigint", -7), ("1.5", "double precision", 1.5),
     (3, "double precision", 3), ("CafÃ\x83Â©", "text", "CafÃ\x83Â©"), ({"a": 1}, "text", {"a": 1})],
)  # fmt: skip
def test_coerce_keeps_what_the_column_can_store(value, data_type, expected):
    assert coerce(value, data_type, "f") == expected


@pytest.mark.parametrize(
    "value, data_type, reason",
    [(True, "bigint", "f: True is not an integer"), (1.5, "integer", "f: 1.5 is not an integer"),
     ("x", "bigint", "f: 'x' is not an integer"), (1 << 31, "integer", "f: 2147483648 is out of range for integer"),
     ("nan", "double precision", "f: NaN is not a finite number"), (False, "double precision", "f: False is not a number"),
     ("a\x00b", "text", "f: contains a NUL character")],
)  # fmt: skip
def test_coerce_rejects_with_the_field_and_the_reason(value, data_type, reason):
    with pytest.raises(Rejected) as rejected:
        coerce(value, data_type, "f")
    assert str(rejected.value) == reason


def test_csv_fields_quote_text_and_keep_numbers_exact():
    assert [csv_field(v) for v in (None, True, False, 1, 0.1, 'a "b"', ["x"])] == [
        "",
        "true",
        "false",
        "1",
        "0.1",
        '"a ""b"""',
        '"[""x""]"',
    ]


def test_event_rules_name_the_rule_and_the_first_line():
    rules = EventRules()
    rules.check({"ts": 1, "user_id": "7", "session_id": 1, "item_in_session": 0, "page": "NextSong"}, 1)
    with pytest.raises(Rejected, match="^event without ts$"):
        rules.check({"ts": None, "page": "Home"}, 2)
    with pytest.raises(Rejected, match="^NextSong event without userId$"):
        rules.check({"ts": 2, "user_id": "", "page": "NextSong"}, 3)
    with pytest.raises(Rejected, match=r"^duplicate of line 1 \(same ts, userId, sessionId, itemInSession\)$"):
        rules.check({"ts": 1, "user_id": "7", "session_id": 1, "item_in_session": 0, "page": "NextSong"}, 4)
    rules.check({"ts": 3, "user_id": "", "page": "Home"}, 5)  # a logged-out page view is fine


def _lake(tmp_path, name: str, text: str) -> LocalLake:
    (tmp_path / name).write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return LocalLake(tmp_path)


def test_ndjson_lines_become_csv_rows_and_bad_lines_go_to_the_quarantine(tmp_path):
    good = {"ts": 1, "userId": "7", "page": "NextSong", "level": "free"}
    lines = [json.dumps(good), "", "{not json", json.dumps([1]), json.dumps({**good, "ts": 2, "userId": ""})]
    lake = _lake(tmp_path, "day.json", "\n".join(lines) + "\n")
    quarantined, counts = [], StageCounts()
    rows = list(
        csv_rows(lake, ["day.json"], columns=["ts", "user_id", "page", "level"], types={"ts": "bigint"},
                 jsonpaths=[("ts",), ("userId",), ("page",), ("level",)], ndjson=True, counts=counts,
                 rules=EventRules(), quarantine=lambda *args: quarantined.append(args))
    )  # fmt: skip
    assert rows == ['1,"7","NextSong","free"\n']
    assert [(line, reason.split(":")[0]) for _, line, _, reason in quarantined] == [
        (3, "malformed JSON"), (4, "expected a JSON object, found list"), (5, "NextSong event without userId"),
    ]  # fmt: skip
    assert (counts.lines, counts.rows, counts.blank_lines, counts.quarantined) == (4, 1, 1, 3)


def test_without_a_quarantine_the_first_bad_line_names_file_and_line(tmp_path):
    lake = _lake(tmp_path, "day.json", '{"ts": 1}\n{"ts": "soon"}\n')
    with pytest.raises(StagingError, match=r"day\.json, line 2: ts: 'soon' is not an integer\."):
        list(csv_rows(lake, ["day.json"], columns=["ts"], types={"ts": "bigint"}, jsonpaths=None, ndjson=True, counts=StageCounts()))


def test_song_documents_may_hold_several_objects_and_invalid_utf8_is_named(tmp_path):
    lake = _lake(tmp_path, "a.json", '{"song_id": "S1"}\n{"song_id": "S2"}')
    rows = list(csv_rows(lake, ["a.json"], columns=["song_id"], jsonpaths=None, ndjson=False, counts=StageCounts()))
    assert rows == ['"S1"\n', '"S2"\n']
    lake = _lake(tmp_path, "b.json", b'{"song_id": "\xff"}')
    with pytest.raises(StagingError, match=r"b\.json, line 1: invalid UTF-8 at byte 13\."):
        list(csv_rows(lake, ["b.json"], columns=["song_id"], jsonpaths=None, ndjson=False, counts=StageCounts()))
