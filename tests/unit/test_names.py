"""Names written once: tables, suites from the committed checkpoints, the run's schema."""

from __future__ import annotations

import pytest

from sparkify.names import AUDITED, TABLES, check_run_schema, run_schema, suites
from tests.session import ROOT


def test_suites_are_the_committed_checkpoints():
    assert suites() == tuple(sorted(p.stem for p in (ROOT / "gx" / "checkpoints").glob("*.json")))
    assert len(suites()) == 11 and {"referential_integrity", "history", "lake_fields"} <= set(suites())


def test_the_star_schema_and_what_a_run_publishes():
    assert TABLES == ("songplays", "users", "songs", "artists", "time")
    assert AUDITED == (*TABLES, "quarantine")


def test_run_schema_comes_from_a_date_only():
    assert run_schema("2018-11-05") == "wap_20181105"
    with pytest.raises(ValueError, match=r"The run's day must be a date YYYY-MM-DD, got '2018-11-05; drop table users'\."):
        run_schema("2018-11-05; drop table users")
    assert check_run_schema("wap_20181105") == "wap_20181105"
    with pytest.raises(ValueError, match=r"'public' is not a run schema \(wap_YYYYMMDD\)\."):
        check_run_schema("public")
