"""Names written once: tables, suites from the committed checkpoints, the run's schema."""

from __future__ import annotations

import json
import shutil

import pytest

from sparkify.names import AUDITED, SPECIAL_SUITES, TABLES, check_run_schema, run_schema, suites, table_suites
from tests.session import ROOT


def test_suites_are_the_committed_checkpoints():
    assert suites() == tuple(sorted(p.stem for p in (ROOT / "gx" / "checkpoints").glob("*.json")))
    assert set(SPECIAL_SUITES) <= set(suites())


def test_the_plain_table_validations_are_every_other_suite_with_its_tables(tmp_path, monkeypatch):
    """What the DAG builds its validation tasks from: read from gx/ alone."""
    committed = {p.stem: json.loads(p.read_text())["meta"]["table"] for p in (ROOT / "gx" / "expectations").glob("*.json")}
    assert table_suites() == {suite: table for suite, table in committed.items() if suite not in SPECIAL_SUITES}
    # A suite whose table the DAG never writes is refused, naming its file.
    shutil.copytree(ROOT / "gx", tmp_path / "gx", ignore=shutil.ignore_patterns("uncommitted", "drafts"))
    (tmp_path / "gx" / "checkpoints" / "odd.json").write_text("{}")
    (tmp_path / "gx" / "expectations" / "odd.json").write_text(json.dumps({"meta": {"table": "nowhere"}, "expectations": []}))
    monkeypatch.setenv("SPARKIFY_GX_DIR", str(tmp_path / "gx"))
    with pytest.raises(ValueError, match=r"gx/expectations/odd.json: its meta 'table' is 'nowhere', which the DAG neither stages"):
        table_suites()


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
