"""The shared results store: one row per validation in the warehouse (``dq.validation_results``).

Every machine already shares the warehouse, it is transactional, and quality history becomes a
SQL query. A validation task writes its row in its own transaction, pass or fail (a failed day's
results stay); publish_data_docs, on whichever worker runs it, renders the run's pages and the
index from these rows; notebooks read them from any machine with the connection.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sparkify.quality.checks.profile import TableProfile
from sparkify.quality.outcome import StoreRow
from sparkify.warehouse.scripts import run_script, sql_file

# The dialect's conversion of a JSON text bind value, and back to text.
_JSON_IN = {"postgres": "cast(%(result_json)s as jsonb)", "redshift": "json_parse(%(result_json)s)"}
_JSON_OUT = {"postgres": "cast(result_json as text)", "redshift": "json_serialize(result_json)"}


def ensure(conn, dialect: str) -> None:
    """Create the store if it is missing. The DDL runs only then: concurrent validations would
    otherwise queue (or deadlock) on its table locks. The redaction key is written with it, on
    the same transaction (on PostgreSQL under the script's advisory lock)."""
    with conn.cursor() as cur:
        cur.execute(_STORE_STATE)
        tables, old_columns = cur.fetchone()
        if tables == len(STORE_TABLES) and not old_columns:
            return
    if old_columns:  # an older store: renamed first, so that the script's index finds its column
        _rename_old_columns(conn, dialect)
    run_script(conn, sql_file(f"{dialect}/results_store.sql"), None)
    _write_redaction_key(conn)


# The store's tables, and columns of an older store still to be renamed, in one catalog query.
STORE_TABLES = (
    "validation_results",
    "docs_publish_lock",
    "redaction_key",
    "arrivals",
    "day_metrics",
    "lake_fields",
    "day_profiles",
    "day_publishes",
)
OLD_COLUMNS = {"logical_date": "day"}  # a store created before 2026-12-02 named the day logical_date
_STORE_STATE = (
    "select (select count(*) from information_schema.tables where table_schema = 'dq' "
    f"and table_name in ({', '.join(repr(table) for table in STORE_TABLES)})), "
    "(select count(*) from information_schema.columns where table_schema = 'dq' and table_name = 'validation_results' "
    f"and column_name in ({', '.join(repr(old) for old in OLD_COLUMNS)}))"
)


def _rename_old_columns(conn, dialect: str) -> None:
    """Give an older store's columns (and PostgreSQL index) their current names, keeping its rows.
    On PostgreSQL under results_store.sql's advisory lock, the columns read again once it is held:
    a concurrent run may have renamed them since."""
    with conn.cursor() as cur:
        if dialect == "postgres":
            cur.execute("select pg_advisory_xact_lock(hashtext('sparkify.results_store'))")
        cur.execute("select column_name from information_schema.columns where table_schema = 'dq' and table_name = 'validation_results'")
        present = {name for (name,) in cur.fetchall()}
        for old, new in OLD_COLUMNS.items():
            if old in present:
                cur.execute(f"alter table dq.validation_results rename column {old} to {new}")
        if dialect == "postgres":
            cur.execute("alter index if exists dq.validation_results_logical_date rename to validation_results_day")


def _write_redaction_key(conn) -> None:
    import secrets

    with conn.cursor() as cur:
        cur.execute("select count(*) from dq.redaction_key")
        if cur.fetchone()[0] == 0:
            cur.execute("insert into dq.redaction_key (secret) values (%s)", (secrets.token_hex(32),))


_redaction_keys: dict[str, bytes] = {}


def publish_lock(conn, dialect: str) -> None:
    """Hold the store's Data Docs publish lock until the caller's transaction ends (the store made
    first, and committed, so that the lock is taken on a table that exists)."""
    ensure(conn, dialect)
    conn.commit()
    with conn.cursor() as cur:
        cur.execute("lock table dq.docs_publish_lock")


def redaction_key(conn_id: str) -> bytes:
    """The warehouse's key of the markers of sensitive values (dq.redaction_key), read once per
    process and connection."""
    from sparkify.warehouse.connection import transaction

    if conn_id in _redaction_keys:
        return _redaction_keys[conn_id]
    with transaction(conn_id) as (conn, dialect):
        ensure(conn, dialect)
        _write_redaction_key(conn)  # nothing to write unless the key was deleted by hand
        with conn.cursor() as cur:
            cur.execute("select min(secret) from dq.redaction_key")
            secret = cur.fetchone()[0]
    _redaction_keys[conn_id] = secret.encode()
    return _redaction_keys[conn_id]


def save(
    conn_id: str, record: StoreRow, *, schema: str | None = None, checks: dict | None = None, sensitive: frozenset[str] = frozenset()
) -> TableProfile | None:
    """Write one validation's row (replacing an earlier attempt's), committed on its own. The
    store exists: prepare_warehouse, upstream of every validation, ensures it (checking here
    again took a catalog query per validation).

    In the same transaction: with ``schema`` (the run's), a table suite's per-day metrics
    (quality.store.metrics, computed there) and its profile (quality.store.profiles; ``sensitive``:
    gx/sensitive_columns.toml's names, whose values are never read; returned, for the lineage
    facets); with ``checks`` (the history suite's {metric: (Bounds,
    status)}), the outcome of each checked metric on its dq.day_metrics row."""
    from sparkify.quality.store import metrics, profiles
    from sparkify.warehouse.connection import transaction

    profile = None
    with transaction(conn_id) as (conn, dialect):
        run_script(conn, sql_file("store_result.sql", json_value=_JSON_IN[dialect]), record)
        table = record["table_name"]
        measured = record["suite"] in metrics.TABLE_METRICS
        profiled = bool(record["day"]) and record["suite"] == table and table in profiles.PROFILED  # a table's own suite
        if schema and (measured or profiled):
            failed = _run_failed(conn, record["run_id"])
            if measured:
                metrics.save(conn, record, metrics.compute(conn, schema, table), failed=failed)
            if profiled:
                profile = profiles.compute(conn, dialect, schema, table, sensitive, run_id=record["run_id"], day=str(record["day"]))
                profiles.save(conn, profile, failed=failed)
        if record["failed_critical"]:
            metrics.mark_failed(conn, record["run_id"])
            profiles.mark_failed(conn, record["run_id"])
        if checks:
            _save_checks(conn, record["run_id"], checks)
    return profile


def _run_failed(conn, run_id: str) -> bool:
    """Whether a validation of the run stored so far failed a critical check (this one included)."""
    with conn.cursor() as cur:
        cur.execute("select count(*) from dq.validation_results where run_id = %(run_id)s and failed_critical > 0", {"run_id": run_id})
        return cur.fetchone()[0] > 0


def _save_checks(conn, run_id: str, checks: dict) -> None:
    rows = []
    for metric, (check, status) in checks.items():
        table, name = metric.split(".", 1)
        rows.append(
            {
                "run_id": run_id,
                "table": table,
                "metric": name,
                "status": status,
                "low": check.minimum,
                "high": check.maximum,
                "days": len(check.days),
            }
        )
    with conn.cursor() as cur:
        cur.executemany(
            "update dq.day_metrics set status = %(status)s, expected_min = %(low)s, expected_max = %(high)s, baseline_days = %(days)s "
            "where run_id = %(run_id)s and table_name = %(table)s and metric = %(metric)s",
            rows,
        )


def run_metrics(conn, run_id: str) -> dict[str, float | None]:
    """One run's stored per-day metrics: {"table.metric": value}."""
    with conn.cursor() as cur:
        cur.execute("select table_name, metric, value from dq.day_metrics where run_id = %(run_id)s", {"run_id": run_id})
        return {f"{table}.{metric}": value for table, metric, value in cur}


def metric_history(conn, day, metric_names: list[str]) -> dict[str, list[tuple[Any, float, bool]]]:
    """Baseline candidates of each metric before ``day``: {metric: [(day, value, flagged)]} of
    days whose newest qualifying run published (no critical failure in any of its validations, and
    no hold for review of the day since),
    flagged when the history check called that value an anomaly; quality.checks.history chooses among
    these."""
    if not metric_names:
        return {}
    names = ", ".join("%(m" + str(n) + ")s" for n in range(len(metric_names)))
    with conn.cursor() as cur:
        cur.execute(
            "select m.day, m.table_name, m.metric, m.value, m.status from dq.day_metrics as m "
            f"where m.day < cast(%(day)s as date) and m.table_name || '.' || m.metric in ({names}) "
            "and not m.failed_critical and m.value is not null "
            "and not exists (select 1 from dq.validation_results as r where r.run_id = m.run_id and r.failed_critical > 0) "
            # A run held for review (waiting, held, or published by a person's decision) keeps its
            # day out, as do the runs of that day before it; a later run of the day counts again.
            "and not exists (select 1 from dq.day_publishes as p where p.day = m.day and p.held_at is not null "
            "and p.state <> 'superseded' and p.recorded_at >= m.stored_at) "
            "order by m.day, m.stored_at",
            {"day": str(day), **{f"m{n}": name for n, name in enumerate(metric_names)}},
        )
        newest: dict[str, dict[Any, tuple[float, bool]]] = {name: {} for name in metric_names}
        for row_day, table, metric, value, status in cur:
            newest[f"{table}.{metric}"][row_day] = (value, status == "anomaly")  # ordered by stored_at: the newest run wins
    return {name: [(d, v, flagged) for d, (v, flagged) in sorted(values.items())] for name, values in newest.items()}


def save_lake_fields(conn, run_id: str, day: str, source: str, census) -> None:
    """The top-level fields a run's staging task read from the lake (staging.fields.Census),
    replacing an earlier attempt's, on the caller's transaction (the staging one). A census of
    no records (no song file new or changed) stores nothing."""
    from sparkify.staging.fields import rows

    with conn.cursor() as cur:
        cur.execute("delete from dq.lake_fields where run_id = %(run_id)s and source = %(source)s", {"run_id": run_id, "source": source})
        if census.total:
            cur.executemany(
                "insert into dq.lake_fields (run_id, day, source, field, records, total_records) "
                "values (%(run_id)s, %(day)s, %(source)s, %(field)s, %(records)s, %(total)s)",
                [
                    {"run_id": run_id, "day": day, "source": source, "field": name, "records": count, "total": total}
                    for name, count, total in rows(census)
                ],
            )


def run_lake_fields(conn, run_id: str) -> dict[str, tuple[int, dict[str, int]]]:
    """One run's stored fields: {source: (records read, {field: records with it})}."""
    out: dict[str, tuple[int, dict[str, int]]] = {}
    with conn.cursor() as cur:
        cur.execute("select source, field, records, total_records from dq.lake_fields where run_id = %(run_id)s", {"run_id": run_id})
        for source, name, count, total in cur:
            out.setdefault(source, (total, {}))[1][name] = count
    return out


def lake_field_history(conn, day, source: str, *, limit: int) -> list[tuple[Any, dict[str, int]]]:
    """The fields of ``source`` on the last ``limit`` days before ``day`` whose newest run
    published (no critical failure in any of its validations) and staged records of that source:
    [(day, {field: records})], oldest first."""
    with conn.cursor() as cur:
        cur.execute(
            "select f.day, f.run_id, f.field, f.records from dq.lake_fields as f "
            "where f.source = %(source)s and f.day < cast(%(day)s as date) "
            "and not exists (select 1 from dq.validation_results as r where r.run_id = f.run_id and r.failed_critical > 0) "
            "order by f.day, f.stored_at",
            {"source": source, "day": str(day)},
        )
        runs: dict[Any, tuple[str, dict[str, int]]] = {}
        for row_day, run_id, name, count in cur:
            if row_day not in runs or runs[row_day][0] != run_id:
                runs[row_day] = (run_id, {})  # ordered by stored_at: the newest run of a day wins
            runs[row_day][1][name] = count
    return [(row_day, fields) for row_day, (_, fields) in sorted(runs.items())][-limit:] if limit else []


def save_arrival(conn, run_id: str, day: str, arrival: dict[str, Any]) -> None:
    """Record when the run's day file arrived (wait_for_events' result), replacing an earlier
    attempt's row, on the caller's transaction."""
    from datetime import UTC, datetime

    modified = datetime.fromisoformat(arrival["modified"]).astimezone(UTC).replace(tzinfo=None)
    with conn.cursor() as cur:
        cur.execute("delete from dq.arrivals where run_id = %(run_id)s", {"run_id": run_id})
        cur.execute(
            "insert into dq.arrivals (run_id, day, lake_key, modified, lateness_seconds) "
            "values (%(run_id)s, %(day)s, %(key)s, %(modified)s, %(lateness)s)",
            {"run_id": run_id, "day": day, "key": arrival["key"], "modified": modified, "lateness": arrival["lateness_seconds"]},
        )


def lateness_per_day(conn, days: list) -> dict:
    """Each day's arrival, the newest run's: {day: (lateness in seconds, when the run recorded it)}."""
    # Ordered by stored_at: the newest row of a day wins.
    found = _per_day(conn, "select day, lateness_seconds, stored_at from dq.arrivals where {days} order by day, stored_at", days)
    return {day: (float(lateness), at) for day, (lateness, at) in found.items()}


def slo_records(conn_id: str, days: int) -> dict[str, Any]:
    """What the quality SLOs read of the last ``days`` days (no more than that): ``records``
    (day_results), each day's newest publish and hold, and its first stored result."""
    from sparkify.quality.store import publishes
    from sparkify.warehouse.connection import transaction

    with transaction(conn_id) as (conn, dialect):
        ensure(conn, dialect)
        records = day_results(conn, days=days)
        day_list = sorted({r["day"] for r in records})
        return {
            "records": records,
            "publishes": publishes.newest(conn, day_list),
            "holds": publishes.holds(conn, day_list),
            "first_seen": first_seen_per_day(conn, day_list),
        }


def first_seen_per_day(conn, days: list) -> dict:
    """When each day's first result was stored (its first run's), for the SLOs' "on time"."""
    return _per_day(conn, "select day, min(stored_at) from dq.validation_results where {days} group by day order by day", days)


def run_results(conn, dialect: str, run_id: str | None, *, limit: int) -> list[dict[str, Any]]:
    """The stored results of one run (the newest ``limit`` of all when ``run_id`` is None): GX key
    parts and the result JSON, per suite."""
    where = "where run_id = %(run_id)s" if run_id is not None else ""
    with conn.cursor() as cur:
        cur.execute(
            f"select suite, run_id, run_time, batch_identifier, {_JSON_OUT[dialect]} from dq.validation_results "
            f"{where} order by stored_at desc, suite limit %(limit)s",
            {"run_id": run_id, "limit": limit},
        )
        return [dict(zip(("suite", "run_name", "run_time", "batch_identifier", "result_json"), row, strict=True)) for row in cur]


def index_entries(conn, *, limit: int) -> list[dict[str, Any]]:
    """What the Data Docs index shows of the newest ``limit`` results (a bounded query), with the
    logical day each is for."""
    with conn.cursor() as cur:
        cur.execute(
            "select suite, run_id, run_time, batch_identifier, success, gx_success, asset_name, day from dq.validation_results "
            "order by stored_at desc, run_id, suite limit %(limit)s",
            {"limit": limit},
        )
        names = ("suite", "run_name", "run_time", "batch_identifier", "success", "gx_success", "asset_name", "day")
        return [dict(zip(names, row, strict=True)) for row in cur]


def latest_failed(conn, dialect: str, suite: str, run_id: str | None = None) -> dict[str, Any] | None:
    """The newest stored result of ``suite`` with a failed expectation (of ``run_id`` when given)."""
    where = "suite = %(suite)s and not gx_success" + (" and run_id = %(run_id)s" if run_id else "")
    with conn.cursor() as cur:
        cur.execute(
            f"select run_id, run_time, day, {_JSON_OUT[dialect]} from dq.validation_results where {where} order by stored_at desc limit 1",
            {"suite": suite, "run_id": run_id},
        )
        row = cur.fetchone()
    return dict(zip(("run_name", "run_time", "day", "result_json"), row, strict=True)) if row else None


def run_validations(conn, run_id: str) -> dict[str, Any]:
    """One run's validations in brief: suites validated and passed, warnings, and the suites with a
    failed warning-level expectation."""
    with conn.cursor() as cur:
        cur.execute(
            "select suite, success, failed_critical, failed_warning from dq.validation_results where run_id = %(run_id)s order by suite",
            {"run_id": run_id},
        )
        rows = cur.fetchall()
    return {
        "suites": len(rows),
        "passed": sum(1 for _, success, _, _ in rows if success),
        "failed_critical": sum(critical for _, _, critical, _ in rows),
        "warnings": sum(warning for _, _, _, warning in rows),
        "suites_with_warnings": [suite for suite, _, _, warning in rows if warning],
        # Failed expectations that let the run reach publish_day: warnings, review checks, waivable critical ones.
        "suites_with_failures": [suite for suite, _, critical, warning in rows if warning or critical],
    }


def day_results(conn, *, days: int) -> list[dict[str, Any]]:
    """Each of the last ``days`` days that have results, as its newest run left it (for the
    quality page): that run's result of each suite it validated, and for each suite it did not,
    the newest earlier result marked ``earlier`` (the page shows it as not run, one click away).
    The newest run of a day is the run of its newest stored result. Per record: state, counts,
    duration, rows, page and run."""
    with conn.cursor() as cur:
        cur.execute(
            "select r.day, r.suite, r.table_name, r.success, r.failed_critical, r.failed_warning, r.unexpected_count, "
            "r.row_count, r.duration_seconds, r.data_docs_page, r.run_id "
            "from dq.validation_results as r "
            "join (select distinct day from dq.validation_results order by day desc limit %(days)s) as d "
            "on d.day = r.day "
            "order by r.day, r.stored_at, r.suite",
            {"days": days},
        )
        names = (
            "day",
            "suite",
            "table",
            "success",
            "failed_critical",
            "failed_warning",
            "unexpected_count",
            "row_count",
            "duration_seconds",
            "page",
            "run_id",
        )
        ordered = [dict(zip(names, row, strict=True)) for row in cur]
    newest_run = {record["day"]: record["run_id"] for record in ordered}  # ordered by stored_at: the newest wins
    newest: dict[tuple, dict[str, Any]] = {}
    for record in ordered:
        record["earlier"] = record["run_id"] != newest_run[record["day"]]
        key = (record["day"], record["suite"])
        if not record["earlier"] or key not in newest or newest[key]["earlier"]:
            newest[key] = record  # the newest run's result, else the newest earlier one
    return list(newest.values())


def quarantined_per_day(conn, days: list) -> dict:
    """Lines quarantined per published day (public.quarantine), for the quality page's trend."""
    return _per_day(conn, "select day, count(*) from public.quarantine where {days} group by day", days)


def _per_day(conn, sql: str, days: list) -> dict:
    """{day: value} of a query of the day and one column, or {day: (values...)} of more columns, over
    the span of ``days`` (``{days}`` in ``sql``); the last row of a day wins."""
    if not days:
        return {}
    with conn.cursor() as cur:
        cur.execute(sql.format(days="day between %(first)s and %(last)s"), {"first": min(days), "last": max(days)})
        return {row[0]: row[1] if len(row) == 2 else tuple(row[1:]) for row in cur.fetchall()}


def checked_metrics(conn, days: list) -> dict[str, dict[Any, tuple]]:
    """The history checks over the span of ``days``: {"table.metric": {day: (value, expected_min,
    expected_max, status)}}, the newest run's of each day, for the quality page's bands."""
    if not days:
        return {}
    with conn.cursor() as cur:
        cur.execute(
            "select day, table_name, metric, value, expected_min, expected_max, status from dq.day_metrics "
            "where status is not null and day between %(first)s and %(last)s order by day, stored_at",
            {"first": min(days), "last": max(days)},
        )
        out: dict[str, dict[Any, tuple]] = {}
        for day, table, metric, value, low, high, status in cur:
            out.setdefault(f"{table}.{metric}", {})[day] = (value, low, high, status)  # the newest run wins
    return out


def page_records(conn_id: str, days: int) -> dict[str, Any]:
    """For the quality page, the store's records of the last ``days`` days: ``records``
    (day_results), lines ``quarantined`` per day, each day's arrival ``lateness`` in seconds, the
    history ``checks``' values and ranges, each day's newest publish (``publishes``), newest hold
    for review (``holds``) and first stored result (``first_seen``, for the SLOs)."""
    from sparkify.quality.store import publishes
    from sparkify.warehouse.connection import transaction

    with transaction(conn_id) as (conn, dialect):
        ensure(conn, dialect)
        records = day_results(conn, days=days)
        day_list = sorted({r["day"] for r in records})
        quarantined = quarantined_per_day(conn, day_list)
        return {
            "records": records,
            "quarantined": {day: int(count) for day, count in quarantined.items() if isinstance(day, date)},
            "lateness": lateness_per_day(conn, day_list),
            "checks": checked_metrics(conn, day_list),
            "publishes": publishes.newest(conn, day_list),
            "holds": publishes.holds(conn, day_list),
            "first_seen": first_seen_per_day(conn, day_list),
        }
