"""make bench, tiny: every step of the benchmark runs and writes the documented JSON (not speed)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.session import ROOT, SESSION_DIR


def test_tiny_bench_writes_every_figure():
    out = SESSION_DIR / "bench.json"
    env = {**os.environ, "SPARKIFY_BUILD_DIR": str(SESSION_DIR / "bench-build")}
    env.pop("SPARKIFY_GX_DIR")  # the bench makes its own copy of gx/
    result = subprocess.run(
        [sys.executable, "-m", "sparkify.local.bench", "--tiny", "--out", str(out),
         "--lakes", str(SESSION_DIR / "bench-lakes"), "--pgdata", str(SESSION_DIR / "bench-pg")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    figures = json.loads(out.read_text())
    measured = ("stage_ratio", "stage_peak_rss_mb", "s3_stage_ratio", "s3_stage_peak_rss_mb", "validation_ratio", "history_ratio",
                "catalog_ratio", "docs_ratio", "quality_page_seconds", "day_overhead_ratio")  # fmt: skip
    for name in measured + ("dag_day_seconds", "dag_day_first_seconds", "dag_day_small_catalog_seconds", "dag_overhead_seconds",
                            "stage_seconds", "s3_stage_seconds", "copy_csv_seconds", "quality_page_all_days_seconds",
                            "overhead_day_seconds", "noop_day_seconds"):  # fmt: skip
        assert isinstance(figures[name], (int, float)) and figures[name] > 0, name
    # Where the DAG's day is longer than the no-op graph's, per kind of task (either sign: tiny days are noisy).
    assert set(figures["overhead_by_task_kind"]) == {"validations", "staging", "loads", "publish_data_docs", "publish_day", "other tasks"}
    assert all(isinstance(v, (int, float)) for v in figures["overhead_by_task_kind"].values())
    # GX's own work (the stored validations' durations and the Data Docs rendering) is part of the DAG's day.
    assert 0 < figures["overhead_gx_seconds"] < figures["overhead_day_seconds"] and figures["gx_only_ratio"] > 1
    assert set(figures["load_seconds"]) == {"songs", "artists", "users", "songplays", "time"}
    # --tiny leaves out the scheduler, anomaly and backfill steps (their targets are listed, not judged; make bench runs them).
    assert set(figures["met"]) == set(measured)
    assert set(figures["targets"]) == set(measured) | {
        "scheduler_day_seconds",
        "gx_task_ratio",
        "scheduler_overhead_ratio",
        "anomaly_missed",
        "anomaly_false_alarms",
        "backfill_shortfalls",
    }
    assert figures["catalog_songs"] == {"large": 30, "small": 10}
    assert figures["quality_page_days_stored"] == 20
    assert figures["scale"] == {"songs": 30, "days": 2, "events_per_day": 200, "repeats": 1}
    for name in measured:
        assert name in result.stdout, name
