"""What make bench measures: every figure declared once, with its unit, its step, its target and how
it is measured.

The bench records only what is declared here (a figure or one of its parts), and a step that ends
without one of its figures is an error. The JSON (``figures``, ``targets``, ``met``), the printed
table, docs/performance.md's check (tests/unit/test_bench_figures.py) and the tiny run's test
(tests/integration/test_bench.py) all read FIGURES.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

STEPS = ("staging", "validation", "dag", "docs", "authoring", "overhead", "scheduler", "anomaly", "backfill")
# --tiny (make test) runs these; the scheduler step starts Airflow twice (minutes), the anomaly step
# runs 60 days and the backfill step 60 days through the scheduler twice (tens of minutes).
TINY_STEPS = ("staging", "validation", "dag", "docs", "authoring", "overhead")


@dataclass(frozen=True)
class Figure:
    name: str
    unit: str  # "ratio", "MB", "s", "count" or "days/min"
    step: str  # the --only step that measures it
    target: float | None  # met when the value is at most this; None: reported, not judged
    how: str  # how it is measured, in a sentence
    detail: Callable[[dict], str]  # the printed table's detail, from the run's results
    parts: tuple[str, ...] = ()  # the raw measurements behind it, written to the JSON beside it


def _per_executor(found: dict, text: Callable[[str, dict], str], key: str = "day_seconds") -> str:
    """One text per executor of the scheduler or backfill step, or why it was skipped."""
    return "; ".join(text(name, f) if key in f else f"{name}: {f['skipped']}" for name, f in found.items())


def _overhead(r: dict) -> str:
    kinds = ", ".join(f"{kind} {extra} s" for kind, extra in r["overhead_by_task_kind"].items())
    return (
        f"a 300-event day through the DAG {r['overhead_day_seconds']} s / the same graph of no-op tasks "
        f"{r['noop_day_seconds']} s (in-process runner; first days {r['overhead_first_day_seconds']} s "
        f"and {r['noop_first_day_seconds']} s left out); the DAG's tasks take longer by: {kinds}; GX's own "
        f"validation and rendering take {r['overhead_gx_seconds']} s of the DAG's day (the no-op day plus "
        f"that alone: {r['gx_only_ratio']})"
    )


def _anomalies(r: dict) -> str:
    found = r["anomaly_detection"]
    injected = ", ".join(f"{day} {kind}" for day, kind in found["injected"].items())
    return f"{len(found['detected'])} of {len(found['injected'])} injected anomalies flagged ({injected})"


def _backfill(name: str, f: dict) -> str:
    return (
        f"{name}: {f['published']} of {f['days']} days published in {f['minutes']} min, tables equal make run's: "
        f"{'yes' if f['equal_to_make_run'] else 'NO'}, index {f['index_results']} of {f['expected_results']} results, "
        f"quality page {f['quality_page_seconds']} s"
    )


FIGURES: tuple[Figure, ...] = (
    Figure(
        "stage_ratio",
        "ratio",
        "staging",
        2.0,
        "the stage task's whole work on the first day (field census included) / a plain CSV COPY of the same rows",
        lambda r: f"staging, field census included, {r['stage_seconds']} s / plain CSV COPY {r['copy_csv_seconds']} s",
        ("stage_seconds", "copy_csv_seconds"),
    ),
    Figure(
        "stage_peak_rss_mb",
        "MB",
        "staging",
        300,
        "the staging process's own peak resident memory (VmHWM)",
        lambda r: "peak RSS (VmHWM) of the staging process",
    ),
    Figure(
        "s3_stage_ratio",
        "ratio",
        "staging",
        1.5,
        "the same day staged from S3 (moto's server) / from the local folder",
        lambda r: f"staging from S3 (moto server) {r['s3_stage_seconds']} s / from the local folder {r['stage_seconds']} s",
        ("s3_stage_seconds",),
    ),
    Figure(
        "s3_stage_peak_rss_mb",
        "MB",
        "staging",
        300,
        "the S3 staging process's own peak resident memory (VmHWM)",
        lambda r: "peak RSS (VmHWM) of the S3 staging process",
    ),
    Figure(
        "validation_ratio",
        "ratio",
        "validation",
        1.5,
        "the fixed-rule suites through GX / sql/bench/handwritten_checks.sql, on the last day's copies",
        lambda r: f"GX {r['validation_gx_seconds']} s / hand SQL {r['validation_sql_seconds']} s, {r['validation_suites']} suites",
        ("validation_gx_seconds", "validation_sql_seconds", "validation_suites", "load_seconds"),
    ),
    Figure(
        "history_ratio",
        "ratio",
        "validation",
        1.2,
        "GX on the last day (every earlier day published) / on day 1",
        lambda r: f"GX, last day with {r['scale']['days']} days loaded / day 1 with 1 loaded",
        ("validation_day1_seconds", "history_sql_ratio"),
    ),
    Figure(
        "profile_share",
        "ratio",
        "validation",
        0.10,
        "the last day's profile of every staged and loaded table / GX's validation of the day (the fixed-rule suites)",
        lambda r: f"profiles {r['profile_seconds']} s / GX {r['validation_gx_seconds']} s",
        ("profile_seconds",),
    ),
    Figure(
        "catalog_ratio",
        "ratio",
        "dag",
        1.2,
        "a DAG day with the large catalog / with the small one, catalog published",
        lambda r: (
            f"DAG day with {r['catalog_songs']['large']} songs {r['dag_day_seconds']} s / with "
            f"{r['catalog_songs']['small']} songs {r['dag_day_small_catalog_seconds']} s (catalog published)"
        ),
        ("dag_day_small_catalog_seconds", "dag_day_small_catalog_first_seconds", "catalog_songs"),
    ),
    Figure(
        "dag_day_seconds",
        "s",
        "dag",
        None,
        "a full DAG run of a bench day, catalog unchanged",
        lambda r: f"a full DAG run of a bench day, catalog unchanged (first run: {r['dag_day_first_seconds']} s)",
        ("dag_day_first_seconds",),
    ),
    Figure(
        "dag_overhead_seconds",
        "s",
        "dag",
        None,
        "a full DAG run of a 10-event day",
        lambda r: "one full DAG run, a 10-event day",
    ),
    Figure(
        "docs_ratio",
        "ratio",
        "docs",
        1.5,
        "publish_data_docs after a new run with many results stored / with 10",
        lambda r: f"publish with {r['docs_results_large']} results {r['docs_seconds_large']} s / 10 {r['docs_seconds_10']} s",
        ("docs_seconds_10", "docs_seconds_large", "docs_results_large"),
    ),
    Figure(
        "quality_page_seconds",
        "s",
        "docs",
        1.0,
        "the Data quality page (30 days) with many days x suites stored",
        lambda r: (
            f"quality page, last 30 days of {r['quality_page_days_stored']} days x suites stored "
            f"(all of them: {r['quality_page_all_days_seconds']} s)"
        ),
        ("quality_page_days_stored", "quality_page_all_days_seconds"),
    ),
    Figure(
        "backtest_seconds",
        "s",
        "authoring",
        2.0,
        "make backtest's work: a 20-expectation suite of staging_events over 30 days of stored profiles",
        lambda r: (
            f"{r['backtest_expectations']} expectations x {r['backtest_days']} days, "
            f"{r['backtest_not_decidable']} expectation-days not decidable from the profiles"
        ),
        ("backtest_expectations", "backtest_days", "backtest_not_decidable"),
    ),
    Figure(
        "day_overhead_ratio",
        "ratio",
        "overhead",
        1.5,
        "demo-sized days through the DAG / the same graph of no-op tasks, in-process (retired target: reported, not chased)",
        _overhead,
        (
            "overhead_day_seconds",
            "noop_day_seconds",
            "overhead_first_day_seconds",
            "noop_first_day_seconds",
            "overhead_by_task_kind",
            "overhead_gx_seconds",
            "gx_only_ratio",
        ),
    ),
    Figure(
        "scheduler_day_seconds",
        "s",
        "scheduler",
        30,
        "a demo-sized day under make airflow's set-up, queued to done; the slower executor's",
        lambda r: "the slower executor's; " + _per_executor(r["scheduler"], lambda name, f: f"{name}: {f['day_seconds']} s"),
        ("scheduler",),
    ),
    Figure(
        "gx_task_ratio",
        "ratio",
        "scheduler",
        3.0,
        "median validation task / median load task in that day; the larger",
        lambda r: (
            "the larger; "
            + _per_executor(
                r["scheduler"],
                lambda name, f: f"{name}: validation {f['validation_task_median_seconds']} s / load {f['load_task_median_seconds']} s",
            )
        ),
    ),
    Figure(
        "scheduler_overhead_ratio",
        "ratio",
        "scheduler",
        1.3,
        "the DAG's day / the no-op graph's day, same set-up; the larger",
        lambda r: (
            "the larger; "
            + _per_executor(
                r["scheduler"], lambda name, f: f"{name}: the DAG's day {f['day_seconds']} s / the no-op graph's {f['noop_day_seconds']} s"
            )
        ),
    ),
    Figure(
        "anomaly_missed",
        "count",
        "anomaly",
        0,
        "injected anomalies of a 60-day lake that no history check flags",
        _anomalies,
        ("anomaly_detection",),
    ),
    Figure(
        "anomaly_false_alarms",
        "count",
        "anomaly",
        1,
        "normal days of that lake that a history check flags",
        lambda r: (
            f"normal days flagged of {r['anomaly_detection']['normal_days_checked']} checked: "
            f"{', '.join(r['anomaly_detection']['false_alarms']) or 'none'}"
        ),
    ),
    Figure(
        "history_check_seconds",
        "s",
        "anomaly",
        None,
        "validate_history's median task time per day of that lake",
        lambda r: "validate_history's median task time per day",
    ),
    Figure(
        "lake_fields_check_seconds",
        "s",
        "anomaly",
        None,
        "validate_lake_fields' median task time per day of that lake",
        lambda r: "validate_lake_fields' median task time per day (the census is counted in staging)",
    ),
    Figure(
        "backfill_days_per_minute",
        "days/min",
        "backfill",
        None,
        "60 demo-sized days through airflow backfill create, each executor; the slower executor's",
        lambda r: "the slower executor's; " + _per_executor(r["backfill"], _backfill, key="days"),
        ("backfill",),
    ),
    Figure(
        "backfill_shortfalls",
        "count",
        "backfill",
        0,
        "days unpublished, tables unequal to make run's, index results missing and quality pages of 1 s or more, both executors",
        lambda r: "days unpublished, tables unequal, index results missing and quality pages of 1 s or more, over both executors",
    ),
)
BY_NAME = {figure.name: figure for figure in FIGURES}
TARGETS = {figure.name: figure.target for figure in FIGURES if figure.target is not None}
# Every name a step may record: the figures and their parts.
RECORDED = set(BY_NAME) | {part for figure in FIGURES for part in figure.parts}


def check_recorded(step: str, values: dict[str, Any]) -> None:
    """Refuse a name that FIGURES does not declare, or a figure recorded by another step."""
    unknown = sorted(set(values) - RECORDED)
    if unknown:
        raise KeyError(f"bench step {step!r} recorded {', '.join(unknown)}, which bench_figures.FIGURES does not declare")
    elsewhere = sorted(name for name in values if name in BY_NAME and BY_NAME[name].step != step)
    if elsewhere:
        raise KeyError(f"bench step {step!r} recorded {', '.join(elsewhere)}, declared as another step's figure")


def missing(step: str, results: dict) -> list[str]:
    """The figures (and their parts) of ``step`` that the results lack."""
    return [name for f in FIGURES if f.step == step for name in (f.name, *f.parts) if name not in results]


def declaration() -> dict[str, dict[str, Any]]:
    """The JSON's ``figures``: each figure's unit, step, target, how and parts."""
    return {f.name: {"unit": f.unit, "step": f.step, "target": f.target, "how": f.how, "parts": list(f.parts)} for f in FIGURES}


def print_table(results: dict) -> None:
    print(f"\n{'figure':<26} {'value':>9} {'unit':<8} {'target':>7}  {'met':<4} detail")
    for f in FIGURES:
        if f.name not in results:
            continue
        target = "" if f.target is None else f"{f.target:g}"
        met = "" if f.target is None else ("yes" if results["met"][f.name] else "NO")
        print(f"{f.name:<26} {results[f.name]:>9} {f.unit:<8} {target:>7}  {met:<4} {f.detail(results)}")
    for table, seconds in results.get("load_seconds", {}).items():
        print(f"{'load_seconds.' + table:<26} {seconds:>9} {'s':<8}")
