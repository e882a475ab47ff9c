"""The supported PostgreSQL majors, each a real server over TCP with a password: the days of the
public sample that run every load path, through the real DAG, then a broken day that must fail
with its message and publish nothing.

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

BAD_DAY = "2018-11-15"
FEW_DAYS_MAJORS = (15, 17, 18)
DAYS = ("2018-11-21", "2018-11-13", "2018-11-15")  # in this order: see test_sql_paths_then_a_broken_day


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


def expected_for(days: tuple[str, ...]) -> tuple[dict[str, int], dict[str, str]]:
    """Table counts and each user's level after loading ``days`` of the sample, read from the lake
    itself (plays, distinct start times, the level of each user's latest event)."""
    import json

    plays, users, starts = 0, {}, set()
    for day in days:
        for line in (SAMPLE_LAKE / "log_data" / day[:4] / day[5:7] / f"{day}-events.json").read_text().splitlines():
            event = json.loads(line)
            if event["page"] == "NextSong":
                plays += 1
                starts.add(event["ts"])
            if event["userId"] and (event["userId"] not in users or event["ts"] >= users[event["userId"]][0]):
                users[event["userId"]] = (event["ts"], event["level"])
    tables = {"songplays": plays, "users": len(users), "songs": 71, "artists": 69, "time": len(starts)}
    return tables, {user: level for user, (_, level) in users.items()}


def test_sql_paths_then_a_broken_day(server):
    """The fewest days that run every load path: a matched play (11-21), an older day after a newer
    one (11-13: user 88's newer 'paid' stays), a level change (11-15: user 49 turns paid), a re-run
    (11-21 again: same tables), then the broken day. 16 runs the whole month in test_sample_month.py."""
    from tests.integration.helpers import execute

    if server.major in FEW_DAYS_MAJORS:
        for n, day in enumerate(DAYS):
            code, summary = run_pipeline(server, SAMPLE_LAKE, day, day, fresh=(n == 0), tag=f"pg{server.major}-{day}")
            assert code == 0, [v for v in summary["validations"] if not v["success"]]
            assert len(summary["validations"]) == len(suites()) and all(v["success"] for v in summary["validations"])
            assert all(r["published"] for r in summary["runs"])
        tables, levels = expected_for(DAYS)
        assert summary["tables"] == tables and summary["songplays_with_song"] == 1
        assert dict(execute(server, "select user_id, level from users")) == levels
        assert levels["88"] == "paid" and levels["49"] == "paid"  # the days above do exercise both level rules
        loaded = checksums(server)
        code, summary = run_pipeline(server, SAMPLE_LAKE, DAYS[0], DAYS[0], fresh=False, tag=f"pg{server.major}-rerun")
        assert code == 0 and checksums(server) == loaded
    else:
        code, summary = run_pipeline(server, SAMPLE_LAKE, BAD_DAY, BAD_DAY, fresh=True, tag=f"pg{server.major}-clean-day")
        assert code == 0 and all(v["success"] for v in summary["validations"]) and len(summary["validations"]) == 11
    before = checksums(server)

    lake = sample_with_a_bad_level(SESSION_DIR / "lake-bad-level", BAD_DAY)
    code, summary = run_pipeline(server, lake, BAD_DAY, BAD_DAY, fresh=False, tag=f"pg{server.major}-broken")
    assert code == 1
    assert summary["runs"] == [{**summary["runs"][0], "date": BAD_DAY, "state": "failed", "published": False}]
    failed = [v for v in summary["validations"] if v["success"] is False]
    assert [(v["suite"], v["state"]) for v in failed] == [("staging_events", "failed")]
    message = failed[0]["message"]
    assert "Critical validation failed for table staging_events" in message
    assert "expect_column_values_to_be_in_set(column='level'" in message and "'premium'" in message
    # Every other validation either passed or did not run (blocked downstream of the failure).
    others = [v for v in summary["validations"] if v["suite"] != "staging_events"]
    assert all(v["success"] is True or (v["state"], v["success"]) == ("not run", None) for v in others)
    assert checksums(server) == before  # nothing of the broken day was published
