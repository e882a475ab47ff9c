"""History-aware checks: each day's metrics against a baseline of the days published before it.

Settings come from one committed file, gx/history.toml (window, minimum, k, seasonality, severity
per metric), reviewed like code; nothing here reads a Variable. The bounds are robust:

    centre ± k × max(1.4826 × MAD, min_spread × |centre|)

where the centre is the baseline's median and MAD the median absolute deviation from it (1.4826 ×
MAD estimates the standard deviation of normal data). Median and MAD, unlike mean and standard
deviation, are moved little by a few odd days that slipped into the baseline, and need no
distribution beyond "most days are alike"; with k = 3.5 this is Iglewicz and Hoaglin's modified
z-score rule. The floor keeps a metric that never moved (a MAD of 0) from flagging any change;
a count (rows, distinct users) also gets at least √centre, the noise of a Poisson count, so that
a small count is not flagged for a difference of one or two, and a share of n rows at least
√(p(1 − p) / n), a binomial share's.
Weekday seasonality applies to counts (a weekly pattern is one of volume; shares and ratios are
compared with the whole baseline, which their few same-weekday days would only make noisier).
With it, a count's centre is the median of the baseline's days of the same weekday,
and the spread is the median distance of each baseline day from the median of the other days
of its weekday (times 1.4826), floored as above.

The baseline of a day is the last ``window_days`` days before it that were published (no
critical check failed in their newest run) and whose value of that metric was not flagged as an
anomaly (unless most of the last ``min_days`` were: a level shift, see baseline_candidates); the
day under test is never in its own baseline.

Pure: no database and no GX; quality.store reads the rows and the operator runs the suite.
"""

from __future__ import annotations

import math
import statistics
import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

FILE = "history.toml"
SEVERITIES = ("warning", "review", "critical")  # review: GX runs it as a warning; a failure holds the day
SEASONALITIES = ("none", "weekday")
REVIEW = "review"  # holds the day for a person: an expectation's meta, or [severity]; GX runs it as a warning
NOT_ENOUGH = "not enough history"
MAD_TO_SIGMA = 1.4826
COUNTS = ("rows", "distinct_users")  # metrics that count things


@dataclass(frozen=True)
class Settings:
    window_days: int = 28
    min_days: int = 7
    k: float = 3.5
    min_spread: float = 0.02
    seasonality: str = "none"
    min_weekday_days: int = 2
    # "table.metric" -> severity: the metrics checked, in the file's order.
    metrics: dict[str, str] = field(default_factory=dict)


def load(gx_root: Path) -> Settings:
    """gx/history.toml, checked: a bad value names the file, the key and what it may be."""
    path = Path(gx_root) / FILE
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"{path}: missing; it holds the history checks' settings (window, minimum, k, seasonality, severity).") from None
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"{path}: not valid TOML: {error}") from None
    baseline = data.get("baseline", {})
    known = {"window_days", "min_days", "k", "min_spread", "seasonality", "min_weekday_days"}
    unknown = sorted(set(baseline) - known) + sorted(f"[{key}]" for key in set(data) - {"baseline", "severity"})
    if unknown:
        raise ValueError(
            f"{path}: unknown setting(s) {', '.join(unknown)}; [baseline] takes {', '.join(sorted(known))}, and [severity] metric = level."
        )

    def number(key: str, kind: type, low: float):
        default = getattr(Settings, key)
        value = baseline.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind is int and not isinstance(value, int)) or value < low:
            raise ValueError(
                f"{path}: [baseline] {key} = {value!r}; it must be {'a whole number' if kind is int else 'a number'} of at least {low}."
            )
        return kind(value)

    seasonality = baseline.get("seasonality", Settings.seasonality)
    if seasonality not in SEASONALITIES:
        raise ValueError(f"{path}: [baseline] seasonality = {seasonality!r}; it must be one of {', '.join(SEASONALITIES)}.")
    metrics = {}
    for name, severity in data.get("severity", {}).items():
        if severity not in SEVERITIES:
            raise ValueError(f"{path}: [severity] {name!r} = {severity!r}; it must be one of {', '.join(SEVERITIES)}.")
        metrics[name] = severity
    settings = Settings(
        window_days=number("window_days", int, 1),
        min_days=number("min_days", int, 1),
        k=number("k", float, 0),
        min_spread=number("min_spread", float, 0),
        seasonality=seasonality,
        min_weekday_days=number("min_weekday_days", int, 1),
        metrics=metrics,
    )
    return settings


@dataclass(frozen=True)
class Bounds:
    """The outcome of one metric's baseline: a range, or why there is none."""

    metric: str
    enough: bool
    minimum: float | None = None
    maximum: float | None = None
    centre: float | None = None
    spread: float | None = None
    days: tuple[date, ...] = ()
    needed: int = 0
    note: str = ""
    seasonal: bool = False  # centred on the same weekday's median

    def describe(self, settings: Settings, observed: float | None = None) -> str:
        """The value, the range and its baseline in words (the expectation's text on its Data Docs page)."""
        if not self.enough:
            return f"{self.metric} = {_number(observed)}: {self.note}; not checked"
        method = f"median ± {settings.k:g} × 1.4826 × MAD of {len(self.days)} published day(s)"
        if self.seasonal:
            method = f"same-weekday median ± {settings.k:g} × 1.4826 × MAD of {len(self.days)} published day(s)"
        return (
            f"{self.metric} = {_number(observed)}, expected between {_number(self.minimum)} and {_number(self.maximum)} ({method}, "
            f"{self.days[0]:%Y-%m-%d} to {self.days[-1]:%Y-%m-%d}; centre {_number(self.centre)})"
        )


def _number(value: float | None) -> str:
    if value is None:
        return "no value"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.4g}"


def bounds(metric: str, day: date, history: list[tuple], settings: Settings, *, rows: float | None = None) -> Bounds:
    """The expected range of ``metric`` on ``day`` from ``history``: (day, value) or (day, value,
    flagged) of published days (the caller has left out failed days). ``rows``: the day's rows of
    the table a share is of (its spread is at least a binomial's)."""
    candidates, shift = baseline_candidates(history, day, settings)
    baseline = candidates[-settings.window_days :]
    days = tuple(d for d, _ in baseline)
    if len(baseline) < settings.min_days:
        since = f" since the level shift of {shift:%Y-%m-%d}" if shift else ""
        note = f"{NOT_ENOUGH}{since} ({len(baseline)} of {settings.min_days} days)"
        return Bounds(metric, False, days=days, needed=settings.min_days, note=note)
    values = [v for _, v in baseline]
    seasonal = settings.seasonality == "weekday" and is_count(metric)
    if seasonal:
        by_weekday: dict[int, list[float]] = {}
        for d, v in baseline:
            by_weekday.setdefault(d.weekday(), []).append(v)
        same = by_weekday.get(day.weekday(), [])
        if len(same) < settings.min_weekday_days:
            note = f"{NOT_ENOUGH} ({len(same)} of {settings.min_weekday_days} days on a {day:%A})"
            return Bounds(metric, False, days=days, needed=settings.min_weekday_days, note=note)
        centre = statistics.median(same)
        # Each day's distance from the median of the *other* days of its weekday: how far a
        # same-weekday median predicts a day it has not seen (a day's distance from a median it is
        # part of shrinks with few weeks, and the range would be too narrow).
        deviations = []
        for d, v in baseline:
            others = [u for e, u in baseline if e.weekday() == d.weekday() and e != d]
            if others:
                deviations.append(abs(v - statistics.median(others)))
        if not deviations:
            deviations = [0.0]
    else:
        centre = statistics.median(values)
        deviations = [abs(v - centre) for v in values]
    spread = max(MAD_TO_SIGMA * statistics.median(deviations), settings.min_spread * abs(centre))
    if is_count(metric):  # a count's day-to-day noise is at least a Poisson count's
        spread = max(spread, math.sqrt(max(centre, 0.0)))
    elif metric.endswith("_share") and rows:  # a share of n rows varies at least as n coin tosses do
        p = min(max(centre, 0.0), 1.0)
        spread = max(spread, math.sqrt(p * (1.0 - p) / rows))
    low, high = centre - settings.k * spread, centre + settings.k * spread
    if min(values) >= 0:  # counts and shares are never negative
        low = max(low, 0.0)
    return Bounds(
        metric, True, minimum=low, maximum=high, centre=centre, spread=spread, days=days, needed=settings.min_days, seasonal=seasonal
    )


def is_count(metric: str) -> bool:
    """Whether a metric counts things (rows, distinct users) rather than measuring a share or ratio."""
    return metric.rsplit(".", 1)[-1] in COUNTS


def baseline_candidates(history: list[tuple], day: date, settings: Settings) -> tuple[list[tuple[date, float]], date | None]:
    """The days before ``day`` a baseline may use, oldest first, and the day a level shift began
    (None without one). Values flagged as anomalies are left out: an incident must not widen
    the range that judges the days after it. Unless they are most of the last ``min_days`` days:
    then the level has shifted (the sample month's plays double in its second week), the days
    before the first of them no longer describe it, and the baseline starts there again (so a
    shift is flagged for a few days, then "not enough history" until the new level has its days)."""
    rows = sorted({item[0]: item for item in history if item[0] < day and item[1] is not None}.values())

    def flagged(item: tuple) -> bool:
        return len(item) > 2 and bool(item[2])

    # The latest shift: a run of full min_days windows in which most values were flagged; it starts
    # at the first flagged day of the run's first window, and its flagged days are the new level.
    start: date | None = None
    level: set[date] = set()
    previous = False
    for end in range(settings.min_days, len(rows) + 1):
        window = rows[end - settings.min_days : end]
        marked = [item[0] for item in window if flagged(item)]
        majority = len(marked) * 2 > len(window)
        if majority and not previous:
            start, level = marked[0], set()
        if majority:
            level.update(marked)
        previous = majority
    if start is not None:
        rows = [item for item in rows if item[0] >= start]
    return [(item[0], item[1]) for item in rows if not flagged(item) or item[0] in level], start


def parameter_names(metric: str) -> tuple[str, str]:
    """The suite parameters of a metric's range: ("<table>_<metric>_min", "..._max")."""
    stem = metric.replace(".", "_")
    return f"{stem}_min", f"{stem}_max"


def expectation_parameters(checks: dict[str, Bounds], observed: dict[str, float | None]) -> dict[str, Any]:
    """The history suite's run-time parameters. A metric without enough history gets its own value
    as both bounds (so GX evaluates it); its result is then marked not checked (see mark)."""
    parameters: dict[str, Any] = {}
    for metric, check in checks.items():
        low, high = parameter_names(metric)
        if check.enough:
            parameters[low], parameters[high] = check.minimum, check.maximum
        else:
            value = observed.get(metric)
            parameters[low] = parameters[high] = value if value is not None else 0.0
    return parameters


def check_suite(suite: dict, settings: Settings, *, path: str) -> None:
    """The history suite checks exactly the metrics gx/history.toml lists; ValueError naming both
    files otherwise."""
    in_suite = [(item.get("meta") or {}).get("metric") for item in suite.get("expectations", [])]
    missing = [metric for metric in settings.metrics if metric not in in_suite]
    extra = [str(metric) for metric in in_suite if metric not in settings.metrics]
    if missing or extra:
        problems = ([f"no expectation for {', '.join(missing)}"] if missing else []) + (
            [f"expectation(s) for {', '.join(extra)} not listed in [severity]"] if extra else []
        )
        raise ValueError(
            f'{path} and {FILE} disagree: {"; ".join(problems)}. Each metric of [severity] has one expectation (meta "metric").'
        )


def apply_severity(suite: dict, settings: Settings, *, path: str) -> dict:
    """The history suite with each expectation's severity set from gx/history.toml (the one place
    it is configured; the process's private copy of gx/ gets this, see quality.gx.context)."""
    check_suite(suite, settings, path=path)
    for item in suite["expectations"]:
        level = settings.metrics[item["meta"]["metric"]]
        # GX knows only critical, warning and info: a review metric runs as a warning and says
        # "review" in its meta (quality.gx.summary reads it there).
        item["severity"] = "warning" if level == REVIEW else level
        item["meta"] = {k: v for k, v in item["meta"].items() if k != "severity"} | ({"severity": REVIEW} if level == REVIEW else {})
    return suite
