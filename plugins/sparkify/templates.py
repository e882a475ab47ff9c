"""The Jinja templates the operators share, each written once: the run's day and the Variables
a task reads when it runs (never at parse time)."""

from __future__ import annotations

from sparkify.settings import (
    ARRIVAL_WAIT_DEFAULT,
    ARRIVAL_WAIT_VARIABLE,
    DOCS_VARIABLE,
    LAKE_VARIABLE,
    MAX_QUARANTINE_DEFAULT,
    MAX_QUARANTINE_VARIABLE,
)


def _variable(name: str, default: str | None = None) -> str:
    """The template of a Variable's value; with a default, a Variable that is not set renders it."""
    return "{{ var.value." + name + " }}" if default is None else "{{ var.value.get('" + name + "', '" + default + "') }}"


DAY = "{{ ds }}"  # the run's logical date, YYYY-MM-DD: the only day a task works on
LAKE = _variable(LAKE_VARIABLE, "")  # not set: lake.open_lake takes the launcher's default
DOCS_LOCATION = _variable(DOCS_VARIABLE, "")
MAX_QUARANTINE_RATE = _variable(MAX_QUARANTINE_VARIABLE, MAX_QUARANTINE_DEFAULT)
ARRIVAL_WAIT_HOURS = _variable(ARRIVAL_WAIT_VARIABLE, ARRIVAL_WAIT_DEFAULT)
