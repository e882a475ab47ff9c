"""A table's profile on one day, as plain values (the store keeps them in ``dq.day_profiles``).

Row count and, per column: nulls, distinct non-null values, min and max (numbers, and times as
epoch seconds) and, for a column with at most FEW_VALUES distinct values, every value with its
rows. A sensitive column (gx/sensitive_columns.toml) has counts only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

# A column with at most this many distinct values on a day keeps them all, with their rows:
# enough for the level, gender, auth, method, status and page columns of the sample (2 to 13
# values), few enough that a key or a name never qualifies on a day of real traffic.
FEW_VALUES = 20


@dataclass
class ColumnProfile:
    name: str
    kind: str  # number, time, boolean or text
    null_count: int
    distinct_count: int | None  # None: not counted (PostgreSQL counts only where a decision needs it)
    min_value: float | None = None  # numbers, and times as epoch seconds; None when sensitive or text
    max_value: float | None = None
    values: dict[str, int] | None = None  # value (as text) -> rows, when few and not sensitive
    sensitive: bool = False


@dataclass
class TableProfile:
    table: str
    day: date
    run_id: str
    row_count: int
    columns: dict[str, ColumnProfile] = field(default_factory=dict)
    failed_critical: bool = False  # the run had failed a critical check when (or after) it was taken
