"""Summaries of GX validation results, and the message of a failed critical validation.

Pure: works on GX result objects and plain dicts, no database and no Data Context.
"""

from __future__ import annotations

import re

from sparkify.quality.checks.history import REVIEW
from sparkify.quality.outcome import Failure, Marked, Summary

MAX_KEYS = 10


def summarise(
    validation, *, suite, page: str | None, docs_location: str, parameters: dict | None = None, day: str | None = None,
    duration_seconds: float = 0.0, marked: Marked | None = None,
) -> Summary:  # fmt: skip
    """Summary of a validation result: counts, each failed expectation with its evidence, what a
    check over history could not decide (``marked``), and the failure message when it failed."""
    parameters = parameters or {}
    failures: list[Failure] = [_failure(item, parameters) for item in validation.results if not item.success]
    critical = [f for f in failures if f["severity"] == "critical"]
    blocking = [f for f in critical if not f["waivable"]]
    review = [f for f in failures if f["severity"] == REVIEW]
    summary: Summary = {
        "suite": validation.suite_name,
        "table": (suite.meta or {}).get("table", validation.suite_name),
        "day": day,
        "success": not blocking,  # a waivable critical failure alone lets the task pass; publish_day holds the day
        "gx_success": bool(validation.success),
        "evaluated": validation.statistics.get("evaluated_expectations"),
        "failed_critical": len(critical),
        "failed_warning": len(failures) - len(critical) - len(review),
        "failed_review": len(review),
        "failed_waivable": len(critical) - len(blocking),
        "failures": failures,
        "page": page,
        "data_docs": f"{docs_location.rstrip('/')}/{page}" if page else None,
        "duration_seconds": duration_seconds,
        "message": "",
        "not_checked": list(marked.not_checked) if marked else [],
    }
    if marked and marked.new_fields is not None and marked.gone_fields is not None:
        summary["new_fields"], summary["gone_fields"] = marked.new_fields, marked.gone_fields
    if critical:
        summary["message"] = failure_message(summary)
    return summary


def _failure(item, parameters: dict) -> Failure:
    """One failed expectation and its evidence, its $PARAMETER bounds resolved."""
    config = item.expectation_config
    kwargs = {
        k: parameters.get(v["$PARAMETER"], v) if isinstance(v, dict) and "$PARAMETER" in v else v
        for k, v in config.kwargs.items()
        if k not in ("batch_id", "result_format")
    }
    result = item.result or {}
    level = severity(config)
    return {
        "expectation": config.type,
        "description": config.description or "",
        "severity": level,
        # A critical failure its expectation declares waivable holds the day for a person instead
        # of blocking it (meta "waivable": true; off by default).
        "waivable": level == "critical" and (getattr(config, "meta", None) or {}).get("waivable") is True,
        "kwargs": _jsonable(kwargs),
        "observed": _jsonable(result.get("observed_value")),
        "unexpected_count": result.get("observed_value")
        if config.type == "unexpected_rows_expectation"
        else result.get("unexpected_count"),
        "unexpected_percent": result.get("unexpected_percent"),
        "element_count": result.get("element_count"),
        "keys": _offending_keys(result),
        "values": _jsonable((result.get("partial_unexpected_list") or [])[:MAX_KEYS]),
        "error": _exception_message(item.exception_info),
    }


def severity(config) -> str:
    """An expectation's severity: GX's own (critical, warning or info), or "review" where its meta
    says so. GX knows no review level: such an expectation runs as a warning in GX, and a failure
    of it holds the day for a person's decision (operators.publish)."""
    if (getattr(config, "meta", None) or {}).get("severity") == REVIEW:
        return REVIEW
    return str(getattr(config.severity, "value", config.severity) or "critical")


# The DB-API's classes for a connection that failed or was lost (psycopg2, psycopg 3 and
# redshift_connector name them so): GX catches them per expectation and reports the expectation
# as failed, which is the warehouse's fault, not the data's.
_CONNECTION_ERRORS = re.compile(r"\b(OperationalError|InterfaceError)\b")


def unreachable(validation) -> list[tuple[str, str]]:
    """(expectation type, message) of each result GX could not compute because the warehouse
    connection failed: such a suite was not evaluated, and its task is to be tried again."""
    found = []
    for item in validation.results:
        message = _exception_message(item.exception_info)
        if message and _CONNECTION_ERRORS.search(message):
            found.append((item.expectation_config.type, message))
    return found


def _exception_message(info) -> str | None:
    """The first exception message of a result's exception_info (flat or keyed by metric)."""
    if not isinstance(info, dict):
        return None
    if info.get("raised_exception"):
        return str(info.get("exception_message") or "")[:500]
    for value in info.values():
        found = _exception_message(value)
        if found:
            return found
    return None


def _offending_keys(result: dict) -> list:
    """Up to MAX_KEYS offending keys (or rows) a result names."""
    for field in ("partial_unexpected_index_list", "unexpected_index_list"):
        if result.get(field):
            return _jsonable(result[field][:MAX_KEYS])
    details = result.get("details") or {}
    if details.get("unexpected_rows"):
        return _jsonable(list(details["unexpected_rows"])[:MAX_KEYS])
    if result.get("partial_unexpected_list"):
        return _jsonable(result["partial_unexpected_list"][:MAX_KEYS])
    return []


def _jsonable(value):
    """A value of a GX result as JSON for XCom and the message; anything else as its text. Not GX's
    convert_to_json_serializable: it raises TypeError on a type it does not know (the summary of a
    failure must not fail itself) and turns NaN into null, which would hide an observed NaN."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def failure_message(summary: Summary) -> str:
    """The message of a failed critical validation: what failed, the evidence, the page."""
    lines = [
        f"Critical validation failed for table {summary['table']} (suite {summary['suite']}): "
        f"{summary['failed_critical']} critical expectation(s) failed of {summary['evaluated']}."
    ]
    for f in summary["failures"]:
        if f["severity"] != "critical":
            continue
        args = ", ".join(f"{k}={v!r}" for k, v in f["kwargs"].items() if k != "unexpected_rows_query")
        label = f["description"] or f["expectation"]
        line = f"- {f['expectation']}({args})" + (f" [{label}]" if f["description"] else "")
        if f["error"]:
            line += f": raised {f['error']}"
        elif f["unexpected_count"] is not None and f["element_count"] is not None:
            line += f": {f['unexpected_count']} unexpected of {f['element_count']} rows"
        elif f["unexpected_count"] is not None:
            line += f": {f['unexpected_count']} unexpected row(s)"
        else:
            line += f": observed {f['observed']!r}"
        if f["values"]:
            line += f"; unexpected values: {f['values']}"
        if f["keys"]:
            line += f"; offending (up to {MAX_KEYS}): {f['keys']}"
        lines.append(line)
    lines.append(f"Data Docs: {summary['data_docs'] or '(page not built)'}")
    return "\n".join(lines)


def review_checks(summaries: list[Summary]) -> list[dict]:
    """The failed review-severity expectations of a run's validations, as a hold records and shows
    them: suite, table, expectation, column, what was observed, the bounds it ran with, its
    description and the result's page (values of sensitive columns already masked)."""
    held = []
    for summary in summaries:
        for f in summary.get("failures") or []:
            if f["severity"] != REVIEW and not f.get("waivable"):
                continue
            kwargs = f["kwargs"]
            observed = f["observed"]
            if observed is None and f["unexpected_count"] is not None:
                observed = f"{f['unexpected_count']} unexpected" + (f" of {f['element_count']}" if f["element_count"] else "")
            held.append(
                {
                    "suite": summary["suite"],
                    "table": summary["table"],
                    "expectation": f["expectation"],
                    "column": kwargs.get("column"),
                    "observed": observed,
                    "expected": {k: kwargs[k] for k in ("min_value", "max_value", "mostly", "value_set") if k in kwargs},
                    "description": f["description"],
                    "data_docs": summary["data_docs"],
                    "page": summary["page"],  # inside the site: the Airflow UI's link (settings.docs_page_url)
                    "waivable": bool(f.get("waivable")),  # a waived critical failure, not a review check
                }
            )
    return held


def review_text(day: str, checks: list[dict]) -> str:
    """What a held day's request, alert and make run's line say about its checks."""
    waivable = sum(1 for c in checks if c.get("waivable"))
    kinds = f"{len(checks) - waivable} review-severity check(s)" + (f" and {waivable} waivable critical check(s)" if waivable else "")
    lines = [f"Day {day} is held for review: {kinds} failed; nothing of it is published."]
    for c in checks:
        said = c["description"] or f"{c['expectation']}" + (f" on {c['column']}" if c["column"] else "")
        kind = "[critical, waivable] " if c.get("waivable") else ""
        lines.append(f"- {kind}{c['table']} (suite {c['suite']}): {said}; observed {c['observed']!r}, expected {c['expected']}")
        if c["data_docs"]:
            lines.append(f"  Data Docs: {c['data_docs']}")
    return "\n".join(lines)
