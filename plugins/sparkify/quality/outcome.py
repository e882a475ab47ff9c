"""One validation's outcome, typed (mypy checks every reader): built once, by quality.gx.run, and
read as it is by XCom, the alerts, the results store, make run's run-summary.json and lineage.

Plain types only: the outcome crosses XCom as JSON, and nothing here imports GX or the warehouse.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NotRequired, TypedDict


class Failure(TypedDict):
    """One failed expectation and its evidence (values of sensitive columns already masked)."""

    expectation: str
    description: str
    severity: str  # "critical", "review" (held for a person) or "warning"
    waivable: bool  # a critical failure whose expectation's meta says "waivable": it holds the day instead of blocking it
    kwargs: dict[str, Any]  # the bounds it ran with ($PARAMETER references resolved)
    observed: Any
    unexpected_count: int | None
    unexpected_percent: float | None
    element_count: int | None
    keys: list[Any]  # up to MAX_KEYS offending keys or rows
    values: list[Any]  # up to MAX_KEYS unexpected values
    error: str | None  # the exception GX caught, when it could not compute the expectation


class NotChecked(TypedDict):
    """A history metric or lake source a check could not decide, and why."""

    metric: str
    reason: str


class Summary(TypedDict):
    """A validation in brief: the task's XCom "summary", the alerts' text, run-summary.json's validations."""

    suite: str
    table: str
    day: str | None
    success: bool  # no critical failure, but for waivable ones
    gx_success: bool  # GX's own verdict (false on a warning too)
    evaluated: int | None
    failed_critical: int
    failed_warning: int
    failed_review: int  # failed expectations of severity review: the day is held, not published
    failed_waivable: int  # of failed_critical, those whose expectation is waivable: the day is held
    failures: list[Failure]
    page: str | None  # the result's page inside the Data Docs site
    data_docs: str | None  # that page where the site is published
    duration_seconds: float
    message: str  # the failure message of a failed critical validation, else ""
    not_checked: list[NotChecked]
    new_fields: NotRequired[list[dict[str, Any]]]  # lake_fields only
    gone_fields: NotRequired[list[dict[str, Any]]]


class StoreRow(TypedDict):
    """What the results store keeps of a validation (dq.validation_results, sql/store_result.sql)."""

    run_id: str
    day: str | None
    suite: str
    table_name: str
    success: bool
    gx_success: bool
    evaluated: int | None
    failed_critical: int
    failed_warning: int
    unexpected_count: int
    row_count: int | None
    duration_seconds: float
    run_time: str
    batch_identifier: str
    asset_name: str | None
    data_docs_page: str | None
    result_json: str  # exactly what GX's validations store writes for this result


@dataclass(frozen=True)
class Marked:
    """What a check over history made of a GX result (quality.gx.marks): what it could not decide,
    the lake's new and gone fields (lake_fields only), and each checked metric's outcome for the
    store (history only)."""

    not_checked: list[NotChecked] = field(default_factory=list)
    new_fields: list[dict[str, Any]] | None = None
    gone_fields: list[dict[str, Any]] | None = None
    checks: dict[str, tuple[Any, str]] | None = None  # {metric: (checks.history.Bounds, status)}


@dataclass(frozen=True)
class Plan:
    """What a validation task runs its suite with: run-time parameters, and the function that marks
    the result with what its check over history found (None for a plain suite)."""

    parameters: dict[str, Any]
    mark: Callable[[Any], Marked] | None = None


@dataclass(frozen=True)
class Outcome:
    """A validation's outcome: its summary, the store's row, and the checked metrics to store."""

    summary: Summary
    row: StoreRow
    checks: dict[str, tuple[Any, str]] | None = None
    sensitive: frozenset[str] = frozenset()  # gx/sensitive_columns.toml's names, read once for the run
