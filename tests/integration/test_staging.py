"""Staging on a real server: the fast path and its line-by-line fallback give the same rows, and a
file neither can read fails with its name and line, leaving the staging table as it was."""

from __future__ import annotations

import pytest

from sparkify.lake import open_lake, read_jsonpaths
from sparkify.staging import StagingError, copy_to_postgres
from sparkify.warehouse.connection import transaction
from sparkify.warehouse.wap import prepare_run
from tests.integration.helpers import execute, use_warehouse
from tests.session import SAMPLE_LAKE, SESSION_DIR

DAY_KEY = "log_data/2018/11/2018-11-15-events.json"


def stage(lake_root, key=DAY_KEY):
    lake = open_lake(str(lake_root))
    jsonpaths = read_jsonpaths((SAMPLE_LAKE / "log_json_path.json").read_text(), source="sample")
    with transaction("sparkify_warehouse", schema="wap_20181115") as (conn, _):
        return copy_to_postgres(conn, table="staging_events", lake=lake, keys=[key], jsonpaths=jsonpaths, ndjson=True)


def table_digest(server):
    return execute(
        server, "select count(*), md5(coalesce(string_agg(t::text, '|' order by t::text), '')) from wap_20181115.staging_events t"
    )[0]


@pytest.fixture
def warehouse(socket_warehouse):
    """The published tables and the run schema of 2018-11-15 (where its staging tables are)."""
    use_warehouse(socket_warehouse)
    with transaction("sparkify_warehouse") as (conn, dialect):
        prepare_run(conn, dialect, "2018-11-15")
    return socket_warehouse


def crafted(name: str, edit) -> str:
    root = SESSION_DIR / f"staging-{name}"
    day = root / DAY_KEY
    day.parent.mkdir(parents=True, exist_ok=True)
    lines = (SAMPLE_LAKE / DAY_KEY).read_text().splitlines()
    day.write_bytes(("\n".join(edit(lines)) + "\n").encode("utf-8", "surrogateescape"))
    return root


def test_blank_lines_and_a_17_mb_line_stage_like_the_rest(warehouse):
    counts = stage(SAMPLE_LAKE)
    assert counts.loaded == counts.lines == 533 and counts.blank_lines == 0
    fast = table_digest(warehouse)
    counts = stage(crafted("blank", lambda lines: lines[:10] + ["", "  "] + lines[10:]))
    assert (counts.loaded, counts.lines, counts.blank_lines) == (533, 533, 2)
    assert table_digest(warehouse) == fast
    big = '{"artist": "' + "a" * (17 << 20) + '", "page": "Home", "ts": 1542240000000, "userId": ""}'
    root = crafted("fallback", lambda lines: lines + ["", big])
    counts = stage(root)
    assert counts.loaded == counts.lines == 534 and counts.blank_lines == 1  # the blank line is not a record
    assert execute(warehouse, "select max(length(artist)) from wap_20181115.staging_events")[0][0] == 17 << 20
    execute(warehouse, "delete from wap_20181115.staging_events where length(artist) > 1000 returning 1")
    assert table_digest(warehouse) == fast  # the other rows are exactly as before


@pytest.mark.parametrize(
    "name, bad_line",
    [("malformed", '{"artist": "x", "ts": 15'), ("utf8", '{"artist": "caf\udcff", "ts": 15}')],
)
def test_a_bad_line_falls_back_then_names_file_and_line_and_changes_nothing(warehouse, caplog, name, bad_line):
    stage(SAMPLE_LAKE)
    before = table_digest(warehouse)
    root = crafted(name, lambda lines: lines[:2] + [bad_line] + lines[2:])
    # Without a quarantine (the DAG always gives one: see test_bad_input.py) the line stops the load.
    with pytest.raises(StagingError, match=r"2018-11-15-events\.json, line 3: (malformed JSON|invalid UTF-8 at byte 15)"):
        stage(root)
    assert "staging it line by line" in caplog.text  # DuckDB refused the file first
    assert table_digest(warehouse) == before
