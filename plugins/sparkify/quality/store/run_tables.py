"""The run schema's tables that a check's inputs go into for GX to validate (they are not the
store's dq.* tables): the history suite's one-row ``day_metrics``, the lake_fields suite's
``lake_fields``; and the row count of a validated table when its results carry none."""

from __future__ import annotations

import re
from typing import Any

from sparkify.names import check_run_schema
from sparkify.quality.store.metrics import column as metric_column


def write_day_metrics(conn, schema: str, values: dict[str, float | None]) -> None:
    """The run's one-row table ``day_metrics`` (schema ``schema``) that the history suite
    validates: a column per metric ("songplays.rows" -> songplays_rows), made again on a retry."""
    check_run_schema(schema)
    columns = [metric_column(*metric.split(".", 1)) for metric in values]
    with conn.cursor() as cur:
        cur.execute(f"drop table if exists {schema}.day_metrics")
        cur.execute(f"create table {schema}.day_metrics ({', '.join(f'{name} double precision' for name in columns)})")
        binds = ", ".join(f"%(v{n})s" for n in range(len(columns)))
        cur.execute(
            f"insert into {schema}.day_metrics ({', '.join(columns)}) values ({binds})",
            {f"v{n}": value for n, value in enumerate(values.values())},
        )


def write_lake_fields(conn, schema: str, checks: dict[str, Any]) -> None:
    """The run's table ``lake_fields`` that the suite validates: one row per source and field
    (its column event_field or song_field), with the records carrying it and the records read."""
    check_run_schema(schema)
    rows = [
        {
            "event_field": name if source == "events" else None,
            "song_field": name if source == "songs" else None,
            "records": count,
            "total": item.total,
        }
        for source, item in checks.items()
        for name, count in sorted(item.today.items())
    ]
    with conn.cursor() as cur:
        cur.execute(f"drop table if exists {schema}.lake_fields")
        cur.execute(
            f"create table {schema}.lake_fields (event_field varchar(256), song_field varchar(256), records integer, total_records integer)"
        )
        if rows:
            cur.executemany(
                f"insert into {schema}.lake_fields (event_field, song_field, records, total_records) "
                "values (%(event_field)s, %(song_field)s, %(records)s, %(total)s)",
                rows,
            )


def table_rows(conn_id: str, schema: str | None, table: str | None) -> int | None:
    """Rows of the validated table (a passing run's results do not carry counts): one count(*)."""
    from sparkify.warehouse.connection import transaction

    if not table or not re.fullmatch(r"[a-z_][a-z0-9_]*", table):
        return None
    with transaction(conn_id, schema=schema) as (conn, _), conn.cursor() as cur:
        cur.execute(f"select count(*) from {table}")
        return cur.fetchone()[0]
