"""Each day's profile of the tables a run staged and loaded: what make suggest and make backtest
read (``dq.day_profiles``, one row per column).

A table's profile (quality.checks.profile) is its row count and, per column: nulls, distinct
non-null values, min and max (numbers, and times as epoch seconds) and, for a column with at most
``FEW_VALUES`` distinct values, every value with its rows. Two portable queries on the run's copy (aggregates, CASE and
GROUP BY only: PostgreSQL and Redshift): one aggregate over every column, then the values of the
few-valued columns. A sensitive column (gx/sensitive_columns.toml) keeps its counts only: no
min, max or value is read or stored.

The table's validation task writes the profile with its result row, before publish_day drops
the run's schema. A day keeps the newest run's profile of each table: writing one removes that
day's earlier profiles of the table.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from datetime import date
from typing import Any

from sparkify.names import STAGING_SOURCES, TABLES, check_run_schema
from sparkify.quality.checks.profile import FEW_VALUES, ColumnProfile, TableProfile

MAX_VALUE_CHARS = 256
PROFILED = (*STAGING_SOURCES, *TABLES)  # every table a run stages or loads
_KINDS = {
    "smallint": "number",
    "integer": "number",
    "bigint": "number",
    "numeric": "number",
    "real": "number",
    "double precision": "number",
    "timestamp without time zone": "time",
    "timestamp with time zone": "time",
    "date": "time",
    "boolean": "boolean",
}


def columns(conn, schema: str, table: str) -> list[tuple[str, str]]:
    """(column, kind) of the run's copy of ``table``, in table order."""
    with conn.cursor() as cur:
        cur.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = %(schema)s and table_name = %(table)s order by ordinal_position",
            {"schema": schema, "table": table},
        )
        found = [(name, _KINDS.get(data_type, "text")) for name, data_type in cur.fetchall()]
    odd = [name for name, _ in found if not re.fullmatch(r"[a-z_][a-z0-9_]*", name)]
    if odd:
        raise ValueError(f"{schema}.{table}: column name(s) {odd} cannot be profiled (lower-case letters, digits and _ only)")
    return found


def _bounds(name: str, kind: str) -> list[str]:
    value = f'extract(epoch from "{name}")' if kind == "time" else f'"{name}"'
    return [f"cast(min({value}) as double precision)", f"cast(max({value}) as double precision)"]


def aggregate_query(schema: str, table: str, found: list[tuple[str, str]], sensitive: Collection[str], *, distinct: bool) -> str:
    """The one aggregate query: count(*), then per column its count, its distinct count (with
    ``distinct``) and, for a number or time that is not sensitive, min and max. Names come from
    the catalog, never input."""
    check_run_schema(schema)
    select = ["count(*)"]
    for name, kind in found:
        select += [f'count("{name}")', f'count(distinct "{name}")'] if distinct else [f'count("{name}")']
        if kind in ("number", "time") and name not in sensitive:
            select += _bounds(name, kind)
    return f"select {', '.join(select)} from {schema}.{table}"


def values_query(schema: str, table: str, names: list[str]) -> str:
    """The values of the few-valued columns with their rows: (column, value, rows) per value."""
    check_run_schema(schema)
    return " union all ".join(
        f"select '{name}', cast(\"{name}\" as varchar({MAX_VALUE_CHARS})), count(*) from {schema}.{table} "
        f'where "{name}" is not null group by "{name}"'
        for name in names
    )


def sensitive_in(table: str, found: list[tuple[str, str]], declared: Collection[str]) -> set[str]:
    """The table's columns that gx/sensitive_columns.toml declares (a bare name, or table.column)."""
    return {name for name, _ in found if name in declared or f"{table}.{name}" in declared}


# On PostgreSQL a count(distinct) costs a sort of the column (about 0.25 s per million rows), so
# distinct values are counted exactly only where a decision needs them: columns that ANALYZE's
# sampled estimate puts under CANDIDATE_FEW distinct values (their values are grouped and kept
# when at most FEW_VALUES) and columns it puts over NEAR_UNIQUE of their rows (keys: unique or
# not). Other columns keep no distinct count. Redshift counts every column exactly.
CANDIDATE_FEW = 4 * FEW_VALUES
NEAR_UNIQUE = 0.9


def _estimates(conn, schema: str, table: str, rows: int) -> dict[str, float]:
    """ANALYZE's estimate of each column's distinct values (PostgreSQL; a sample of the table)."""
    with conn.cursor() as cur:
        cur.execute(f"analyze {schema}.{table}")
        cur.execute(
            "select attname, n_distinct from pg_stats where schemaname = %(schema)s and tablename = %(table)s",
            {"schema": schema, "table": table},
        )
        return {name: (n if n >= 0 else -n * rows) for name, n in cur.fetchall()}


def compute(conn, dialect: str, schema: str, table: str, declared: Collection[str], *, run_id: str, day: str) -> TableProfile:
    """The profile of the run's copy of ``table``; ``declared``: gx/sensitive_columns.toml's names."""
    found = columns(conn, schema, table)
    sensitive = sensitive_in(table, found, declared)
    exact = dialect != "postgres"
    with conn.cursor() as cur:
        cur.execute(aggregate_query(schema, table, found, sensitive, distinct=exact))
        row = list(cur.fetchone())
    profile = TableProfile(table=table, day=date.fromisoformat(day), run_id=run_id, row_count=int(row.pop(0)))
    for name, kind in found:
        count = int(row.pop(0))
        distinct = int(row.pop(0)) if exact else (0 if count == 0 else None)
        column = ColumnProfile(name, kind, profile.row_count - count, distinct, sensitive=name in sensitive)
        if kind in ("number", "time") and not column.sensitive:
            column.min_value, column.max_value = (float(v) if v is not None else None for v in (row.pop(0), row.pop(0)))
        profile.columns[name] = column
    if exact:
        few = [c.name for c in profile.columns.values() if 0 < (c.distinct_count or 0) <= FEW_VALUES and not c.sensitive]
        _values(conn, schema, table, profile, few)
        return profile
    counted = [c for c in profile.columns.values() if c.distinct_count is None]
    estimates = _estimates(conn, schema, table, profile.row_count) if counted else {}
    low = [c for c in counted if estimates.get(c.name, 0) <= CANDIDATE_FEW]
    keys = [c for c in counted if c not in low and estimates[c.name] >= NEAR_UNIQUE * (profile.row_count - c.null_count)]
    _values(conn, schema, table, profile, [c.name for c in low if not c.sensitive])
    _groups(conn, schema, table, profile, [c.name for c in low if c.sensitive])
    _distinct(conn, schema, table, profile, [c.name for c in keys])
    return profile


def _values(conn, schema: str, table: str, profile: TableProfile, names: list[str]) -> None:
    """The columns' values, grouped: their exact distinct counts, and the values kept when few."""
    if not names:
        return
    grouped: dict[str, dict[str, int]] = {name: {} for name in names}
    with conn.cursor() as cur:
        cur.execute(values_query(schema, table, names))
        for name, value, rows in cur.fetchall():
            grouped[name][str(value)] = grouped[name].get(str(value), 0) + int(rows)
    for name, values in grouped.items():
        column = profile.columns[name]
        column.distinct_count = column.distinct_count if column.distinct_count is not None else len(values)
        column.values = values if len(values) <= FEW_VALUES else None


def _groups(conn, schema: str, table: str, profile: TableProfile, names: list[str]) -> None:
    """Exact distinct counts of few-valued sensitive columns, grouped in the database (a hash
    aggregate, cheaper than count(distinct)'s sort): no value leaves it."""
    if not names:
        return
    check_run_schema(schema)
    query = " union all ".join(
        f'select \'{name}\', count(*) from (select "{name}" from {schema}.{table} where "{name}" is not null group by "{name}") as g'
        for name in names
    )
    with conn.cursor() as cur:
        cur.execute(query)
        for name, count in cur.fetchall():
            profile.columns[name].distinct_count = int(count)


def _distinct(conn, schema: str, table: str, profile: TableProfile, names: list[str]) -> None:
    if not names:
        return
    with conn.cursor() as cur:
        cur.execute(f"select {', '.join(f'count(distinct {chr(34)}{n}{chr(34)})' for n in names)} from {check_run_schema(schema)}.{table}")
        for name, count in zip(names, cur.fetchone(), strict=True):
            profile.columns[name].distinct_count = int(count)


def save(conn, profile: TableProfile, *, failed: bool) -> None:
    """The profile's rows on the caller's transaction, marked ``failed`` (the run had failed a
    critical check); the day's earlier profiles of the table go."""
    with conn.cursor() as cur:
        cur.execute(
            "delete from dq.day_profiles where day = cast(%(day)s as date) and table_name = %(table)s",
            {"day": profile.day.isoformat(), "table": profile.table},
        )
        cur.executemany(
            "insert into dq.day_profiles (run_id, day, table_name, column_name, kind, row_count, null_count, distinct_count, "
            "min_value, max_value, value_counts, sensitive, failed_critical) values (%(run_id)s, cast(%(day)s as date), "
            "%(table)s, %(column)s, %(kind)s, %(rows)s, %(nulls)s, %(distinct)s, %(min)s, %(max)s, %(values)s, %(sensitive)s, "
            "%(failed)s)",
            [
                {
                    "run_id": profile.run_id,
                    "day": profile.day.isoformat(),
                    "table": profile.table,
                    "column": c.name,
                    "kind": c.kind,
                    "rows": profile.row_count,
                    "nulls": c.null_count,
                    "distinct": c.distinct_count,
                    "min": c.min_value,
                    "max": c.max_value,
                    "values": json.dumps(c.values, sort_keys=True) if c.values is not None else None,
                    "sensitive": c.sensitive,
                    "failed": failed,
                }
                for c in profile.columns.values()
            ],
        )


def mark_failed(conn, run_id: str) -> None:
    """Mark the run's stored profiles as belonging to a day that failed a critical check."""
    with conn.cursor() as cur:
        cur.execute("update dq.day_profiles set failed_critical = true where run_id = %(run_id)s", {"run_id": run_id})


def history(conn, table: str, *, days: int, before: date | None = None) -> list[TableProfile]:
    """The table's profiles of the last ``days`` days that have one (before ``before`` when
    given), oldest first."""
    bound = "and day < cast(%(before)s as date) " if before else ""
    with conn.cursor() as cur:
        cur.execute(
            "select run_id, day, column_name, kind, row_count, null_count, distinct_count, min_value, max_value, value_counts, "
            "sensitive, failed_critical from dq.day_profiles join (select distinct day from dq.day_profiles where table_name = "
            f"%(table)s {bound}order by day desc limit %(days)s) as newest using (day) where table_name = %(table)s "
            "order by day, column_name",
            {"table": table, "days": days, "before": before.isoformat() if before else None},
        )
        rows = cur.fetchall()
    found: dict[date, TableProfile] = {}
    for run_id, day, name, kind, count, nulls, distinct, low, high, values, sensitive, failed in rows:
        profile = found.setdefault(day, TableProfile(table=table, day=day, run_id=run_id, row_count=int(count), failed_critical=failed))
        counted = int(distinct) if distinct is not None else None
        profile.columns[name] = ColumnProfile(name, kind, int(nulls), counted, low, high, _stored_values(values), sensitive)
    return list(found.values())


def _stored_values(text: Any) -> dict[str, int] | None:
    return json.loads(text) if text else None
