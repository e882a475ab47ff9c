"""Per-day metrics of the validated tables: what the history-aware checks compare with the past.

Each table's metrics are one query on the run's audit copy, portable between PostgreSQL and
Redshift (aggregates and CASE only). The table's validation task writes them to
``dq.day_metrics`` in the transaction of its result row (quality.store.save), pass or fail: a day
that failed a critical check keeps its metrics, marked ``failed_critical``, and the baselines
leave it out (quality.checks.history).
"""

from __future__ import annotations

from sparkify.quality.outcome import StoreRow


def _share(condition: str) -> str:
    """The share of the table's rows meeting ``condition`` (null for an empty table)."""
    return f"avg(case when {condition} then 1.0 else 0.0 end)"


def _null_share(column: str) -> str:
    return _share(f"{column} is null")


# table -> {metric: SQL expression over the run's copy of the table}. Names are code, never input.
TABLE_METRICS: dict[str, dict[str, str]] = {
    "staging_events": {
        "rows": "count(*)",
        "null_share_user_id": _share("coalesce(user_id, '') = ''"),  # logged-out lines carry ""
        "null_share_ts": _null_share("ts"),
    },
    "songplays": {
        "rows": "count(*)",
        "distinct_users": "count(distinct user_id)",
        "paid_share": _share("level = 'paid'"),
        "matched_song_share": _share("song_id is not null"),
        "plays_per_session": "cast(count(*) as double precision) / nullif(count(distinct session_id), 0)",
        "null_share_user_id": _null_share("user_id"),
        "null_share_song_id": _null_share("song_id"),
        "null_share_artist_id": _null_share("artist_id"),
        "null_share_start_time": _null_share("start_time"),
    },
    "users": {"rows": "count(*)", "paid_share": _share("level = 'paid'"), "null_share_user_id": _null_share("user_id")},
    "time": {"rows": "count(*)", "null_share_start_time": _null_share("start_time")},
    "songs": {"rows": "count(*)", "null_share_song_id": _null_share("song_id"), "null_share_artist_id": _null_share("artist_id")},
    "artists": {"rows": "count(*)", "null_share_artist_id": _null_share("artist_id")},
}


def column(table: str, metric: str) -> str:
    """The column of a metric in the run's one-row ``day_metrics`` table (the history suite's)."""
    return f"{table}_{metric}"


def query(schema: str, table: str) -> str:
    """The one query of a table's metrics on the run's copy (checked by tools/redshift_check.py)."""
    from sparkify.names import check_run_schema

    check_run_schema(schema)
    select = ", ".join(f"cast({expression} as double precision)" for expression in TABLE_METRICS[table].values())
    return f"select {select} from {schema}.{table}"


def compute(conn, schema: str, table: str) -> dict[str, float | None]:
    """The metrics of the run's copy of ``table`` (schema ``schema``), in one query."""
    expressions = TABLE_METRICS[table]
    with conn.cursor() as cur:
        cur.execute(query(schema, table))
        row = cur.fetchone()
    return {name: (float(value) if value is not None else None) for name, value in zip(expressions, row, strict=True)}


def save(conn, record: StoreRow, metrics: dict[str, float | None], *, failed: bool) -> None:
    """Write one table's metrics of a run (replacing an earlier attempt's) on the caller's
    transaction, marked failed_critical when ``failed`` (a validation of the run stored so far
    failed a critical check; mark_failed marks those stored before such a failure)."""
    table = record["table_name"]
    rows = [
        {"run_id": record["run_id"], "day": record["day"], "table_name": table, "metric": name, "value": value, "failed_critical": failed}
        for name, value in metrics.items()
    ]
    with conn.cursor() as cur:
        cur.execute(
            "delete from dq.day_metrics where run_id = %(run_id)s and table_name = %(table)s", {"run_id": record["run_id"], "table": table}
        )
        cur.executemany(
            "insert into dq.day_metrics (run_id, day, table_name, metric, value, failed_critical) "
            "values (%(run_id)s, cast(%(day)s as date), %(table_name)s, %(metric)s, %(value)s, %(failed_critical)s)",
            rows,
        )


def mark_failed(conn, run_id: str) -> None:
    """Mark every metric the run has stored as belonging to a day that failed a critical check."""
    with conn.cursor() as cur:
        cur.execute("update dq.day_metrics set failed_critical = true where run_id = %(run_id)s", {"run_id": run_id})
