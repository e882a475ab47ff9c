"""make run / make airflow LINEAGE=...: the OpenLineage provider's settings and the banner line."""

from __future__ import annotations

import json

import pytest

from sparkify.local.airflow_home import TRANSPORT_SETTING, lineage_env, lineage_line


def test_file_and_console_transports(tmp_path, monkeypatch):
    monkeypatch.setenv("SPARKIFY_BUILD_DIR", str(tmp_path))
    env = lineage_env("file")
    assert json.loads(env[TRANSPORT_SETTING]) == {"type": "file", "log_file_path": str(tmp_path / "openlineage" / "events.jsonl"),
                                                  "append": True}  # fmt: skip
    assert (tmp_path / "openlineage").is_dir() and env["AIRFLOW__OPENLINEAGE__NAMESPACE"] == "sparkify"
    assert lineage_line(env) == f"on, file transport, {tmp_path / 'openlineage' / 'events.jsonl'}"
    assert lineage_line(lineage_env("console")) == "on, console transport"


def test_off_unless_configured_and_a_wrong_choice_is_named():
    assert lineage_line({}).startswith("off (LINEAGE=file or LINEAGE=console turns it on")
    assert lineage_line({TRANSPORT_SETTING: '{"type": "http", "url": "http://marquez:5000"}'}) == "on, http transport"
    with pytest.raises(ValueError, match=r"LINEAGE='kafka' is not one of file, console"):
        lineage_env("kafka")
