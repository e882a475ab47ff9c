"""A static check of the SQL the project sends to Amazon Redshift, without a cluster.

Redshift is based on PostgreSQL 8.0 and rejects, or treats differently, much that PostgreSQL 16
accepts. Each rule below names one such feature (from Redshift's "Unsupported PostgreSQL
features" and "Unsupported PostgreSQL functions" pages). Statements are parsed with sqlglot's
PostgreSQL grammar, so PostgreSQL-only syntax still parses and can be found.

``project_statements()`` lists every statement the project sends on the Redshift path: DDL, the
run schema's DDL, loads, publish, quarantine SQL, staging COPYs, and every
``UnexpectedRowsExpectation`` query after ``{batch}`` is substituted by GX's own code.

    python -m tools.redshift_check      # from the project root; prints each finding; exit status 1 if any
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import sqlglot
from sqlglot import exp


@dataclass(frozen=True)
class Finding:
    rule: str
    statement: str  # where the statement comes from (file, suite)
    detail: str

    def __str__(self) -> str:
        return f"{self.statement}: {self.rule}: {self.detail}"


def _unaliased_subquery(tree: exp.Expression) -> Iterator[str]:
    for sub in tree.find_all(exp.Subquery):
        if isinstance(sub.parent, (exp.From, exp.Join)) and not sub.alias:
            yield f"subquery in FROM without an alias: {_clip(sub.sql('postgres'))}"


def _on_conflict(tree):
    for node in tree.find_all(exp.OnConflict):
        yield f"INSERT ... ON CONFLICT is not supported (use MERGE, or DELETE + INSERT): {_clip(node.sql('postgres'))}"


def _filter_clause(tree):
    for node in tree.find_all(exp.Filter):
        yield f"aggregate FILTER (WHERE ...) is not supported (use CASE inside the aggregate): {_clip(node.sql('postgres'))}"


def _distinct_on(tree):
    for node in tree.find_all(exp.Distinct):
        if node.args.get("on") is not None:
            yield "SELECT DISTINCT ON (...) is not supported (use row_number() over (...))"


def _lateral(tree):
    for node in tree.find_all(exp.Lateral):
        yield f"LATERAL is not supported: {_clip(node.sql('postgres'))}"


# Functions Redshift does not have, or runs on the leader node only (never over tables).
_FUNCTIONS = {
    "generate_series": "runs on the leader node only: it cannot be combined with tables",
    "string_agg": "not supported (use LISTAGG)",
    "array_agg": "not supported (use LISTAGG)",
    "unnest": "not supported",
    "regexp_split_to_table": "not supported",
    "jsonb_build_object": "not supported (no JSONB type)",
    "to_jsonb": "not supported (no JSONB type)",
}


def _function_name(node: exp.Func) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.this).lower()
    return node.sql_name().lower()


def _functions(tree):
    for node in tree.find_all(exp.Func):
        name = _function_name(node)
        if isinstance(node, exp.GroupConcat):
            name = "string_agg"
        elif isinstance(node, exp.ArrayAgg):
            name = "array_agg"
        elif isinstance(node, exp.Explode) or name == "explode":
            name = "unnest"
        elif isinstance(node, exp.GenerateSeries):
            name = "generate_series"
        if name in _FUNCTIONS:
            yield f"{name}(): {_FUNCTIONS[name]}"


def _truncate(tree):
    if isinstance(tree, exp.TruncateTable) or (isinstance(tree, exp.Command) and str(tree.this).lower() == "truncate"):
        yield "TRUNCATE commits the transaction on Redshift: use DELETE inside the transaction"


def _returning(tree):
    for _ in tree.find_all(exp.Returning):
        yield "RETURNING is not supported"


def _create_index(tree):
    if isinstance(tree, exp.Create) and str(tree.args.get("kind") or "").upper() == "INDEX":
        yield "CREATE INDEX is not supported (Redshift uses sort and distribution keys)"


_TYPES = {exp.DataType.Type.JSONB: "JSONB", exp.DataType.Type.ARRAY: "array types", exp.DataType.Type.SERIAL: "SERIAL",
          exp.DataType.Type.BIGSERIAL: "BIGSERIAL", exp.DataType.Type.UUID: "UUID"}  # fmt: skip


def _types(tree):
    for node in tree.find_all(exp.DataType):
        if node.this in _TYPES or node.args.get("nested") and node.this == exp.DataType.Type.ARRAY:
            yield f"data type {_TYPES.get(node.this, node.sql('postgres'))} is not supported"


RULES: dict[str, Callable[[exp.Expression], Iterator[str]]] = {
    "unaliased-subquery": _unaliased_subquery,
    "on-conflict": _on_conflict,
    "filter-clause": _filter_clause,
    "distinct-on": _distinct_on,
    "lateral": _lateral,
    "unsupported-function": _functions,
    "truncate": _truncate,
    "returning": _returning,
    "create-index": _create_index,
    "unsupported-type": _types,
}


def check(sql: str, *, source: str = "statement") -> list[Finding]:
    """What Redshift would reject or treat differently in one statement (bind parameters allowed)."""
    text = re.sub(r"%\((\w+)\)s", r"'\1'", sql)  # psycopg bind parameters as literals
    logging.getLogger("sqlglot").setLevel(logging.ERROR)  # LOCK TABLE parses as a plain command
    try:
        tree = sqlglot.parse_one(text, read="postgres")
    except sqlglot.errors.ParseError as err:
        return [Finding("parse", source, str(err).splitlines()[0])]
    return [Finding(rule, source, detail) for rule, find in RULES.items() for detail in find(tree)]


def _clip(text: str) -> str:
    return text if len(text) <= 120 else text[:117] + "..."


def gx_batch_substitution(query: str, table: str) -> str:
    """``query`` with ``{batch}`` substituted by GX's own code, as for a table asset's batch (a Select),
    compiled for Redshift."""
    from types import SimpleNamespace

    import sqlalchemy as sa
    from great_expectations.expectations.metrics.query_metric_provider import QueryMetricProvider
    from sqlalchemy_redshift.dialect import RedshiftDialect_psycopg2

    batch = sa.select(sa.text("*")).select_from(sa.table(table))
    engine = SimpleNamespace(engine=SimpleNamespace(dialect=RedshiftDialect_psycopg2()), dialect_name="redshift")
    return QueryMetricProvider._get_substituted_batch_subquery_from_query_and_batch_selectable(query, batch, engine)


def _asset_tables() -> dict[str, str]:
    """GX asset name -> warehouse table, from the committed great_expectations.yml."""
    import yaml

    from sparkify.settings import gx_dir

    config = yaml.safe_load((gx_dir() / "great_expectations.yml").read_text())
    tables = {}
    for source in (config.get("fluent_datasources") or {}).values():
        for name, asset in (source.get("assets") or {}).items():
            tables[name] = asset.get("table_name", name)
    return tables


def expectation_queries() -> list[tuple[str, str]]:
    """(suite, query) for every UnexpectedRowsExpectation, ``{batch}`` substituted as GX does."""
    from sparkify.settings import gx_dir

    tables = _asset_tables()
    found = []
    for path in sorted((gx_dir() / "validation_definitions").glob("*.json")):
        definition = json.loads(path.read_text())
        suite = definition["suite"]["name"]
        table = tables[definition["data"]["asset"]["name"]]
        expectations = json.loads((gx_dir() / "expectations" / f"{suite}.json").read_text())["expectations"]
        for number, item in enumerate(expectations, start=1):
            query = item["kwargs"].get("unexpected_rows_query")
            if query:
                found.append((f"gx/expectations/{suite}.json #{number}", gx_batch_substitution(query, table)))
    return found


def project_statements() -> list[tuple[str, str]]:
    """(source, statement) for every statement the project sends to Redshift."""
    from sparkify.names import STAGING_SOURCES, TABLES
    from sparkify.warehouse.scripts import split_statements, sql_file
    from sparkify.warehouse.wap import run_ddl, warehouse_ddl

    found = [("sql/redshift/create_tables.sql", s) for s in split_statements(warehouse_ddl("redshift"))]
    found += [("sql/redshift/run_tables.sql + sql/views.sql", s) for s in split_statements(run_ddl("redshift"))]
    names = ["run_context.sql", *(f"load/{t}.sql" for t in TABLES), "publish.sql", "redshift/quarantine_copy_errors.sql",
             "redshift/quarantine_events.sql", "redshift/results_store.sql"]  # fmt: skip
    for name in names:
        found += [(f"sql/{name}", s) for s in split_statements(sql_file(name))]
    from sparkify.quality.store.results import _JSON_IN

    found += [("sql/store_result.sql", s) for s in split_statements(sql_file("store_result.sql", json_value=_JSON_IN["redshift"]))]
    from sparkify.quality.store import metrics

    found += [(f"sparkify.quality.store.metrics ({table})", metrics.query("wap_20181101", table)) for table in metrics.TABLE_METRICS]
    for table in STAGING_SOURCES:
        sql = sql_file(f"redshift/stage_{table.removeprefix('staging_')}.sql", auth_clause="iam_role %(iam_role)s")
        found += [(f"sql/redshift/stage_{table.removeprefix('staging_')}.sql", s) for s in split_statements(sql)]
        found.append((f"sparkify.staging.redshift ({table})", f"delete from {table}"))
    return found + expectation_queries()


def main() -> int:
    findings = [f for source, sql in project_statements() for f in check(sql, source=source)]
    for finding in findings:
        print(finding)
    print(f"{len(project_statements())} statements checked; {len(findings)} finding(s).")
    return 1 if findings else 0


if __name__ == "__main__":
    raise SystemExit(main())
