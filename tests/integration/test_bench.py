"""make bench, tiny: every step of the benchmark runs and writes the documented JSON (not speed)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from sparkify.local.bench_figures import FIGURES, TARGETS, TINY_STEPS
from tests.session import ROOT, SESSION_DIR


def test_tiny_bench_writes_every_figure():
    out = SESSION_DIR / "bench.json"
    env = {**os.environ, "SPARKIFY_BUILD_DIR": str(SESSION_DIR / "bench-build")}
    env.pop("SPARKIFY_GX_DIR")  # the bench makes its own copy of gx/
    command = [sys.executable, "-m", "sparkify.local.bench", "--tiny", "--out", str(out), "--lakes", str(SESSION_DIR / "bench-lakes")]
    command += ["--pgdata", str(SESSION_DIR / "bench-pg")]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    figures = json.loads(out.read_text())
    measured = [f for f in FIGURES if f.step in TINY_STEPS]
    assert len(measured) == 14
    for figure in measured:
        assert isinstance(figures[figure.name], (int, float)) and figures[figure.name] > 0, figure.name
        for part in figure.parts:
            assert figures.get(part) is not None, (figure.name, part)
        assert figures["figures"][figure.name]["unit"] == figure.unit
        # the printed table's row: name, value, unit, then the target where there is one
        row = next(line for line in result.stdout.splitlines() if line.startswith(figure.name + " "))
        assert row.split()[1:3] == [str(figures[figure.name]), figure.unit], row
    # Where the DAG's day is longer than the no-op graph's, per kind of task (either sign: tiny days are noisy).
    assert set(figures["overhead_by_task_kind"]) == {"validations", "staging", "loads", "publish_data_docs", "publish_day", "other tasks"}
    assert all(isinstance(v, (int, float)) for v in figures["overhead_by_task_kind"].values())
    # GX's own work (the stored validations' durations and the Data Docs rendering) is part of the DAG's day.
    assert 0 < figures["overhead_gx_seconds"] < figures["overhead_day_seconds"] and figures["gx_only_ratio"] > 1
    assert set(figures["load_seconds"]) == {"songs", "artists", "users", "songplays", "time"}
    # --tiny leaves out the scheduler, anomaly and backfill steps (their targets are listed, not judged; make bench runs them).
    assert set(figures["met"]) == {f.name for f in measured if f.target is not None}
    assert figures["targets"] == TARGETS and len(TARGETS) == 18
    assert set(figures["figures"]) == {f.name for f in FIGURES}
    assert figures["catalog_songs"] == {"large": 30, "small": 10}
    assert figures["quality_page_days_stored"] == 20
    assert figures["scale"] == {"songs": 30, "days": 2, "events_per_day": 200, "repeats": 1}
