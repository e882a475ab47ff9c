"""The supported PostgreSQL majors, each a real server over TCP with a password: the public
sample through the real DAG, then a broken day that must fail with its message and publish nothing.

16 runs the month in test_sample_month.py (socket and TCP servers); here it runs the broken day.
A major whose server is not installed is skipped with the reason, unless SPARKIFY_REQUIRE_MAJORS
(set by .ci/run) lists it: then the test fails instead.
"""

from __future__ import annotations

import os
import socket

import pytest

from sparkify.local import embedded
from sparkify.names import suites
from tests.integration.helpers import checksums, run_pipeline, sample_with_a_bad_level
from tests.session import SAMPLE_LAKE, SESSION_DIR, TEST_PASSWORD

EXPECTED_TABLES = {"songplays": 6820, "users": 97, "songs": 71, "artists": 69, "time": 6813}
BAD_DAY = "2018-11-15"
FULL_MONTH = (15, 17, 18)


def _required() -> set[int]:
    return {int(m) for m in os.environ.get("SPARKIFY_REQUIRE_MAJORS", "").split(",") if m.strip()}


@pytest.fixture(scope="module", params=[15, 16, 17, 18], ids=lambda major: f"pg{major}")
def server(request):
    major = request.param
    try:
        embedded.bin_dir(major)
    except embedded.ServerNotInstalled as err:
        if major in _required():
            pytest.fail(f"SPARKIFY_REQUIRE_MAJORS lists {major}, but {err}")
        pytest.skip(str(err))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = embedded.start(SESSION_DIR / f"pg{major}-matrix", tcp_port=port, password=TEST_PASSWORD, major=major)
    yield started
    embedded.stop(started.pgdata)


def test_server_is_the_major_over_tcp_with_a_password(server):
    import psycopg2

    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        psycopg2.connect(host="127.0.0.1", port=server.port, user="postgres", password="wrong", dbname=server.database)
    with psycopg2.connect(server.dsn()) as conn, conn.cursor() as cur:
        cur.execute("show server_version_num")
        assert int(cur.fetchone()[0]) // 10000 == server.major


def test_sample_month_then_a_broken_day(server):
    if server.major in FULL_MONTH:
        code, summary = run_pipeline(server, SAMPLE_LAKE, "2018-11-01", "2018-11-30", fresh=True, tag=f"pg{server.major}-month")
        assert code == 0, [v for v in summary["validations"] if not v["success"]]
        assert summary["staged"] == {"events": 8056, "songs": 71}
        assert summary["tables"] == EXPECTED_TABLES
        assert summary["songplays_with_song"] == 1
        assert len(summary["validations"]) == 30 * len(suites())
        assert all(v["success"] for v in summary["validations"])
        assert all(r["published"] for r in summary["runs"])
    else:
        code, summary = run_pipeline(server, SAMPLE_LAKE, BAD_DAY, BAD_DAY, fresh=True, tag=f"pg{server.major}-clean-day")
        assert code == 0 and all(v["success"] for v in summary["validations"]) and len(summary["validations"]) == 9
    before = checksums(server)

    lake = sample_with_a_bad_level(SESSION_DIR / "lake-bad-level", BAD_DAY)
    code, summary = run_pipeline(server, lake, BAD_DAY, BAD_DAY, fresh=False, tag=f"pg{server.major}-broken")
    assert code == 1
    assert summary["runs"] == [{**summary["runs"][0], "date": BAD_DAY, "state": "failed", "published": False}]
    failed = [v for v in summary["validations"] if not v["success"] and v["ran"]]
    assert [(v["suite"], v["state"]) for v in failed] == [("staging_events", "failed")]
    message = failed[0]["message"]
    assert "Critical validation failed for table staging_events" in message
    assert "expect_column_values_to_be_in_set(column='level'" in message and "'premium'" in message
    # Every other validation either passed or did not run (blocked downstream of the failure).
    assert all(v["success"] or not v["ran"] for v in summary["validations"] if v["suite"] != "staging_events")
    assert checksums(server) == before  # nothing of the broken day was published
