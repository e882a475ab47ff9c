"""OpenLineage datasets and facets of the DAG's tasks (apache-airflow-providers-openlineage).

The provider calls each operator's ``get_openlineage_facets_on_complete`` (also on failure) after
the task ran, only when a transport is configured; nothing here runs otherwise. Names follow
OpenLineage's naming spec, built by the client's own naming classes and the hooks' database info:

* the lake: ``file`` + the absolute path, or ``s3://bucket`` + the object key (a day's log file,
  the JSONPaths file, the song prefix);
* the warehouse: ``postgres://host:port`` (or ``redshift://cluster.region:port``) + names
  ``database.schema.table``: the run's staging tables and audit copies in ``wap_YYYYMMDD``, the
  published tables in ``public``.

A validation attaches two facets to the table it validated, built from the stored GX result (the
one dq.validation_results holds, sensitive values already replaced): ``dataQualityAssertions``,
one assertion per expectation, and ``dataQualityMetrics``, the row count and the null count of
every column a null check or a failed column check counted (see _null_count). Distinct counts are
not given: the suites compute none.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

if TYPE_CHECKING:
    from airflow.providers.openlineage.extractors import OperatorLineage
    from openlineage.client.event_v2 import Dataset

    from sparkify.quality.checks.profile import ColumnProfile, TableProfile
    from sparkify.quality.outcome import StoreRow

# GX's severities in the words of the OpenLineage facet ("error" blocks the pipeline, "warn" does not).
SEVERITY = {"critical": "error", "warning": "warn", "info": "info"}

# Tables a load reads inside a CTE of `insert into ... with ... select`: openlineage-sql 1.54
# returns none of them for that statement shape (the tables of the final select's joins it does
# return). The loads' lineage adds these; tests/unit/quality/test_lineage.py fails once the
# parser finds them itself, so the list can go.
CTE_READS = {
    "users": ("staging_events",),
    "songplays": ("staging_events", "songs", "artists"),
    "time": ("songplays",),
}


@lru_cache(maxsize=8)
def warehouse_namespace(conn_id: str) -> tuple[str, str]:
    """(namespace, database) of the warehouse connection, from the provider hooks' OpenLineage info."""
    from airflow.providers.openlineage.sqlparser import SQLParser

    info = _database_info(conn_id)
    return SQLParser.create_namespace(info), info.database or ""


@lru_cache(maxsize=8)
def _hook(conn_id: str):
    """The provider hook of the warehouse connection (it opens no connection by being made)."""
    from sparkify.warehouse.connection import dialect_for, get_connection

    if dialect_for(get_connection(conn_id)) == "redshift":
        from airflow.providers.amazon.aws.hooks.redshift_sql import RedshiftSQLHook

        return RedshiftSQLHook(redshift_conn_id=conn_id)
    from airflow.providers.postgres.hooks.postgres import PostgresHook

    return PostgresHook(postgres_conn_id=conn_id)


@lru_cache(maxsize=8)
def _database_info(conn_id: str):
    """The hook's DatabaseInfo. A server reached through a Unix socket (the embedded warehouse:
    the connection's host is the socket's folder) is named localhost, as the naming spec wants a
    host, not a path."""
    import attrs

    from sparkify.warehouse.connection import get_connection

    conn = get_connection(conn_id)
    info = _hook(conn_id).get_openlineage_database_info(conn)
    if unquote(conn.host or "").startswith("/"):
        info = attrs.evolve(info, authority=f"localhost:{conn.port or 5432}")
    return info


def table(conn_id: str, schema: str, name: str, *, input_facets: dict | None = None) -> Dataset:
    """A warehouse table as a dataset (an input dataset when it carries input facets)."""
    from openlineage.client.event_v2 import Dataset, InputDataset

    namespace, database = warehouse_namespace(conn_id)
    qualified = f"{database}.{schema}.{name}" if database else f"{schema}.{name}"
    if input_facets:
        return InputDataset(namespace=namespace, name=qualified, inputFacets=input_facets)
    return Dataset(namespace=namespace, name=qualified)


def lake_object(location: str) -> Dataset:
    """A lake file or prefix, given as the lake names it (a path or an s3:// URL)."""
    from openlineage.client.event_v2 import Dataset
    from openlineage.client.naming.dataset import S3, LocalFileSystem

    if location.startswith("s3://"):
        bucket, _, key = location.removeprefix("s3://").partition("/")
        naming: Any = S3(bucket_name=bucket, object_key=key or "/")
    else:
        naming = LocalFileSystem(path=location)
    return Dataset(namespace=naming.get_namespace(), name=naming.get_name())


def _literal(value: Any) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def render_parameters(sql: str, parameters: dict[str, Any]) -> str:
    """The script as the server runs it: each %(name)s bind parameter written as its literal (the
    parser reads no placeholders)."""
    return re.sub(r"%\((\w+)\)s", lambda m: _literal(parameters[m.group(1)]), sql)


def sql_lineage(conn_id: str, sql: str, *, schema: str, parameters: dict[str, Any]) -> OperatorLineage:
    """Inputs, outputs and the SQL job facet of a script, from the provider's SQL parser in the
    warehouse's dialect; unqualified names are the run's schema (first on the search path)."""
    from airflow.providers.openlineage.sqlparser import SQLParser

    info = _database_info(conn_id)
    parser = SQLParser(dialect=info.scheme, default_schema=schema)
    return parser.generate_openlineage_metadata_from_sql(
        sql=render_parameters(sql, parameters), hook=_hook(conn_id), database_info=info, use_connection=False
    )


def review_tags(review: dict[str, Any]) -> Any:
    """A person's decision on a held day as the run's tags facet (an OpenLineage standard facet):
    sparkify.review.state, .by, .at, .reason and .held_at, source USER."""
    from openlineage.client.generated.tags_run import TagsRunFacet, TagsRunFacetFields

    keys = [k for k in ("state", "by", "at", "reason", "held_at") if review.get(k)]
    return TagsRunFacet(tags=[TagsRunFacetFields(key=f"sparkify.review.{k}", value=str(review[k]), source="USER") for k in keys])


def validation_facets(result: dict[str, Any], *, row_count: int | None, profile: TableProfile | None = None) -> dict[str, Any]:
    """The dataQualityAssertions and dataQualityMetrics facets of one stored GX validation result;
    with the table's profile of the day, every column's null and distinct counts, and min and max
    of its numbers (a sensitive column's counts only)."""
    from openlineage.client.generated.data_quality_assertions_dataset import Assertion, DataQualityAssertionsDatasetFacet
    from openlineage.client.generated.data_quality_metrics_input_dataset import ColumnMetrics, DataQualityMetricsInputDatasetFacet

    assertions = []
    nulls: dict[str, int] = {}
    for item in result.get("results", []):
        config = item.get("expectation_config") or {}
        kwargs = config.get("kwargs") or {}
        column = kwargs.get("column")
        outcome = item.get("result") or {}
        query = kwargs.get("unexpected_rows_query")
        assertions.append(
            Assertion(
                assertion=config.get("type", ""),
                success=bool(item.get("success")),
                column=column,
                severity=SEVERITY.get(str(config.get("severity", "critical")), str(config.get("severity"))),
                name=config.get("id"),
                description=config.get("description") or (config.get("meta") or {}).get("notes"),
                expected=_expected(kwargs),
                actual=_actual(outcome),
                content=query,
                contentType="sql" if query else None,
            )
        )
        if column and (count := _null_count(config, item, outcome)) is not None:
            nulls[column] = count if config.get("type") == "expect_column_values_to_not_be_null" else nulls.get(column, count)
    metrics = {column: ColumnMetrics(nullCount=count) for column, count in sorted(nulls.items())}
    if profile is not None:
        row_count = profile.row_count if row_count is None else row_count
        metrics = {name: _profiled(column, ColumnMetrics) for name, column in sorted(profile.columns.items())}
    return {
        "dataQualityAssertions": DataQualityAssertionsDatasetFacet(assertions=assertions),
        "dataQualityMetrics": DataQualityMetricsInputDatasetFacet(rowCount=row_count, columnMetrics=metrics),
    }


def _profiled(column: ColumnProfile, metrics_class: Any) -> Any:
    numbers = column.kind == "number" and not column.sensitive
    return metrics_class(
        nullCount=column.null_count,
        distinctCount=column.distinct_count,
        min=column.min_value if numbers else None,
        max=column.max_value if numbers else None,
    )


def _null_count(config: dict[str, Any], item: dict[str, Any], outcome: dict[str, Any]) -> int | None:
    """A column's null count where the result gives it. Passing expectations run with BOOLEAN_ONLY
    (quality.gx.context), so they report no counts; a not-null check that passed with no ``mostly``
    still says the count is 0. A failed one, detailed in the committed format, reports
    unexpected_count (nulls) or missing_count (the nulls any column map check skipped)."""
    if config.get("type") == "expect_column_values_to_not_be_null":
        if isinstance(outcome.get("unexpected_count"), int):
            return outcome["unexpected_count"]
        mostly = (config.get("kwargs") or {}).get("mostly")
        return 0 if item.get("success") and mostly in (None, 1, 1.0) else None
    return outcome["missing_count"] if isinstance(outcome.get("missing_count"), int) else None


def _expected(kwargs: dict[str, Any]) -> str | None:
    bounds = {k: kwargs[k] for k in ("value_set", "min_value", "max_value", "mostly") if kwargs.get(k) is not None}
    return json.dumps(bounds, sort_keys=True, default=str) if bounds else None


def _actual(outcome: dict[str, Any]) -> str | None:
    if "observed_value" in outcome:
        return json.dumps(outcome["observed_value"], default=str)
    if isinstance(outcome.get("unexpected_count"), int):
        return f"{outcome['unexpected_count']} unexpected"
    return None


def stored_result(record: StoreRow) -> dict[str, Any]:
    """The GX result JSON of a results-store row (text as saved, or already parsed)."""
    value = record.get("result_json")
    return json.loads(value) if isinstance(value, str) else dict(value or {})
