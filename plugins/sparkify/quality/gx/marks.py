"""What the checks over history found, written into GX's result before it is summarised, stored
and rendered: each history metric's range and baseline, each lake field new or gone, in the
expectation's description; a result the check could not decide marked as not evaluated and left
out of the statistics. The checks themselves (checks.history, checks.drift) see no GX object."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sparkify.quality.checks import drift, history
from sparkify.quality.outcome import Marked, NotChecked


def metric_of(config) -> str | None:
    """The metric an expectation of the history suite checks (its meta "metric")."""
    return (config.meta or {}).get("metric") if config is not None else None


def mark_history(
    validation, checks: dict[str, history.Bounds], settings: history.Settings, observed: dict[str, float | None]
) -> dict[str, str]:
    """Write each metric's range and baseline into its result's description (shown on its Data
    Docs page), and turn a result without a range into an unchecked one: not failed and not counted
    as passed, its reason as the result's exception (GX's mark of "could not be evaluated"), its
    bounds the suite's parameter names again. The statistics then count only the checked expectations.

    Returns each metric's status: "ok", "anomaly", or why it was not checked ("not enough
    history", "no value")."""
    statuses: dict[str, str] = {}
    for item in validation.results:
        metric = metric_of(item.expectation_config)
        check = checks.get(metric) if metric else None
        if metric is None or check is None:
            continue
        item.expectation_config.description = check.describe(settings, observed.get(metric))
        if check.enough:
            statuses[metric] = "ok" if item.success else "anomaly"
            continue
        statuses[metric] = history.NOT_ENOUGH if check.note.startswith(history.NOT_ENOUGH) else "no value"
        not_evaluated(item, check.note, "The range is computed from the published days before this one")
        # Its kwargs name the parameters again, as the suite does: no range was applied.
        low, high = history.parameter_names(metric)
        item.expectation_config.kwargs.update(min_value={"$PARAMETER": low}, max_value={"$PARAMETER": high})
    uncount(validation, sum(1 for status in statuses.values() if status not in ("ok", "anomaly")))
    return statuses


def not_evaluated(item, note: str, basis: str) -> None:
    """Mark one result as not evaluated: not a failure, its reason as the result's exception
    (GX's mark of "could not be evaluated"; Data Docs show the "traceback", which must be text)."""
    item.success = True
    why = f"Not evaluated: {note}. {basis} (gx/{history.FILE})."
    item.exception_info = {"raised_exception": True, "exception_message": note, "exception_traceback": why}


def uncount(validation, unchecked: int) -> None:
    """Leave ``unchecked`` results out of the validation's statistics (evaluated and successful)."""
    if not unchecked:
        return
    stats = validation.statistics
    evaluated = stats["evaluated_expectations"] - unchecked
    successful = stats["successful_expectations"] - unchecked
    stats.update(
        evaluated_expectations=evaluated,
        successful_expectations=successful,
        success_percent=(100.0 * successful / evaluated) if evaluated else None,
    )


def target(config) -> tuple[str, str] | None:
    """(source, kind) of an expectation of the lake_fields suite (its meta), or None."""
    meta = (config.meta or {}) if config is not None else {}
    return (meta["source"], meta["drift"]) if meta.get("source") in drift.SOURCES and meta.get("drift") in drift.KINDS else None


def mark_lake_fields(validation, checks: dict[str, drift.FieldCheck]) -> dict[str, str]:
    """Write what each expectation found into its description, and turn the results of a source
    without a baseline into unchecked ones (as mark_history does for a metric): not
    failed, not counted as passed, the reason as the result's exception.

    Returns {"source.kind": "ok" | "drift" | the reason it was not checked}."""
    statuses: dict[str, str] = {}
    unchecked = 0
    for item in validation.results:
        found = target(item.expectation_config)
        if found is None or found[0] not in checks:
            continue
        source, kind = found
        check_ = checks[source]
        item.expectation_config.description = check_.describe(kind)
        if check_.enough:
            statuses[f"{source}.{kind}"] = "ok" if item.success else "drift"
            # What run summaries show as observed: the new or gone fields by name.
            item.result["observed_value"] = [name for name, _ in check_.new] if kind == "new" else check_.gone
            continue
        statuses[f"{source}.{kind}"] = history.NOT_ENOUGH if check_.note.startswith(history.NOT_ENOUGH) else "nothing to compare"
        unchecked += 1
        not_evaluated(item, check_.note, "The fields are compared with those of the published days before this one")
        item.expectation_config.kwargs.update(value_set={"$PARAMETER": drift.parameter_name(source, kind)})
    uncount(validation, unchecked)
    return statuses


def history_marker(
    checks: dict[str, history.Bounds], settings: history.Settings, observed: dict[str, float | None]
) -> Callable[[Any], Marked]:
    """The history suite's mark: each metric's range written into its result, and its outcome for
    the store ({metric: (Bounds, status)}); a metric without a range is not checked, with why."""

    def mark(validation) -> Marked:
        statuses = mark_history(validation, checks, settings, observed)
        not_checked: list[NotChecked] = [
            {"metric": metric, "reason": checks[metric].note} for metric, status in statuses.items() if status not in ("ok", "anomaly")
        ]
        return Marked(not_checked=not_checked, checks={metric: (checks[metric], s) for metric, s in statuses.items()})

    return mark


def lake_fields_marker(checks: dict[str, drift.FieldCheck]) -> Callable[[Any], Marked]:
    """The lake_fields suite's mark: what each source's fields did, each new field by name and
    count and each field gone; a source without a baseline is not checked, with why."""

    def mark(validation) -> Marked:
        statuses = mark_lake_fields(validation, checks)
        unchecked = dict.fromkeys(key.split(".")[0] for key, status in statuses.items() if status not in ("ok", "drift"))
        not_checked: list[NotChecked] = [{"metric": f"{source} fields", "reason": checks[source].note} for source in unchecked]
        new = [{"source": source, "field": name, "records": count, "of": check.total} for source, check in checks.items()
               for name, count in check.new]  # fmt: skip
        gone = [{"source": source, "field": name, "of": check.total} for source, check in checks.items() for name in check.gone]
        return Marked(not_checked=not_checked, new_fields=new, gone_fields=gone)

    return mark
