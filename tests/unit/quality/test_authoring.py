"""Promotion never drops or rewrites a committed expectation unless asked, and drafts never take a
pipeline suite's name (on a copy of gx/)."""

from __future__ import annotations

import json
import shutil

import pytest

from sparkify.quality.gx import authoring
from tests.session import ROOT


@pytest.fixture
def project(tmp_path, monkeypatch):
    shutil.copytree(ROOT / "gx", tmp_path / "gx", ignore=shutil.ignore_patterns("uncommitted", "drafts", "notebooks"))
    monkeypatch.setenv("SPARKIFY_GX_DIR", str(tmp_path / "gx"))
    return tmp_path / "gx"


def draft(tmp_path, *expectations, table="users"):
    path = tmp_path / "draft.json"
    path.write_text(json.dumps({"meta": {"table": table}, "expectations": list(expectations)}))
    return str(path)


def test_a_draft_never_takes_a_pipeline_suites_name(project):
    with pytest.raises(authoring.PipelineSuiteError, match=r"'users' is a suite the pipeline runs \(gx/checkpoints/users.json; "):
        authoring.refuse_pipeline_name("users")
    authoring.refuse_pipeline_name("users_draft")


def test_promotion_keeps_what_it_is_not_asked_to_change(project, tmp_path):
    committed = json.loads((project / "expectations" / "users.json").read_text())["expectations"]
    level = {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "level", "value_set": ["free", "paid", "trial"]}}
    gender = {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "gender", "value_set": ["F", "M"]}}
    path = draft(tmp_path, level, gender)
    kept = authoring.plan_promotion(path, critical=[2])
    suite = kept.files[project / "expectations" / "users.json"]
    assert suite["expectations"][: len(committed)] == committed and kept.added == 1 and kept.replaced == 0
    assert suite["expectations"][-1]["severity"] == "critical" and suite["expectations"][-1]["kwargs"] == gender["kwargs"]
    assert "! #1 be_in_set(level): 'users' has it with" in "\n".join(kept.lines)
    replaced = authoring.plan_promotion(path, replace=[1], drop=["be_unique(user_id)"])
    suite = replaced.files[project / "expectations" / "users.json"]
    assert replaced.replaced == 1 and replaced.dropped == 1 and len(suite["expectations"]) == len(committed)
    old_level = next(e for e in committed if e["kwargs"].get("column") == "level" and "value_set" in e["kwargs"])
    new_level = next(e for e in suite["expectations"] if e["id"] == old_level["id"])
    assert new_level["kwargs"]["value_set"] == ["free", "paid", "trial"]
    with pytest.raises(ValueError, match=r"DROP names no expectation of 'users': be_unique\(nothing\)"):
        authoring.plan_promotion(path, drop=["be_unique(nothing)"])
    with pytest.raises(ValueError, match=r"'songs' checks 'songs', not the draft's table 'users'"):
        authoring.plan_promotion(path, into="songs")
    with pytest.raises(ValueError, match=r"expectation #1 \(not_be_null\(x\)\): severity 'high'"):
        authoring.plan_promotion(
            draft(tmp_path, {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "x"}, "severity": "high"})
        )
    assert not (project / "checkpoints" / "users_more.json").exists()  # planning writes nothing


def test_make_promote_writes_only_when_told_and_names_a_bad_number(project, tmp_path, capsys):
    from sparkify.local import authoring as make

    path = draft(tmp_path, {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "gender", "value_set": ["F", "M"]}})
    before = (project / "expectations" / "users.json").read_text()
    assert make.promote(path, into=None, critical="", replace="", drop="", yes=False) == 1  # stdin is no terminal here
    assert "+ #1 be_in_set(gender)" in capsys.readouterr().out and (project / "expectations" / "users.json").read_text() == before
    assert make.promote(path, into=None, critical="one", replace="", drop="", yes=True) == 1
    assert "CRITICAL='one': expectation numbers of the draft" in capsys.readouterr().out
    assert make.promote(path, into=None, critical="1", replace="", drop="", yes=True) == 0
    users = json.loads((project / "expectations" / "users.json").read_text())["expectations"]
    assert users[-1]["kwargs"]["column"] == "gender" and users[-1]["severity"] == "critical"
