"""OpenLineage datasets and facets (sparkify.operators.lineage), without a database or a DAG run."""

from __future__ import annotations

import pytest

from sparkify.operators import lineage
from sparkify.settings import sql_dir

CONN = "sparkify_lineage_test"


def clear() -> None:
    for cached in (lineage.warehouse_namespace, lineage._database_info, lineage._hook):
        cached.cache_clear()


@pytest.fixture
def warehouse(monkeypatch):
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN.upper()}", "postgresql://u:p@db.example.com:5433/sparkify")
    clear()
    yield
    clear()


def test_tables_and_lake_objects_follow_the_naming_spec(warehouse):
    assert lineage.warehouse_namespace(CONN) == ("postgres://db.example.com:5433", "sparkify")
    assert lineage.table(CONN, "wap_20181101", "users").name == "sparkify.wap_20181101.users"
    s3 = lineage.lake_object("s3://udacity-dend/log_data/2018/11/2018-11-01-events.json")
    assert (s3.namespace, s3.name) == ("s3://udacity-dend", "log_data/2018/11/2018-11-01-events.json")
    local = lineage.lake_object("/data/lake/song_data")
    assert (local.namespace, local.name) == ("file", "/data/lake/song_data")


def test_a_socket_warehouse_is_named_localhost(monkeypatch):
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN.upper()}", "postgresql://u@%2Ftmp%2Fpg-socket:5432/sparkify")
    clear()
    try:
        assert lineage.warehouse_namespace(CONN) == ("postgres://localhost:5432", "sparkify")
    finally:
        clear()


def test_bind_parameters_are_written_as_literals():
    sql = "delete from t where d = cast(%(day)s as date) and n = %(n)s and s = %(s)s"
    assert lineage.render_parameters(sql, {"day": "2018-11-01", "n": 3, "s": "it's"}) == (
        "delete from t where d = cast('2018-11-01' as date) and n = 3 and s = 'it''s'"
    )


def test_the_parser_still_misses_the_reads_inside_insert_with_ctes(warehouse):
    """CTE_READS exists because openlineage-sql misses these reads; this fails once it finds them."""
    for table, reads in lineage.CTE_READS.items():
        parsed = lineage.sql_lineage(
            CONN, (sql_dir() / "load" / f"{table}.sql").read_text(), schema="wap_20181101", parameters={"day": "2018-11-01"}
        )
        inputs = {d.name for d in parsed.inputs}
        assert [d.name for d in parsed.outputs] == [f"sparkify.wap_20181101.{table}"]
        assert "extractionError" not in parsed.run_facets, parsed.run_facets
        assert not inputs & {f"sparkify.wap_20181101.{name}" for name in reads}, (table, inputs)


def test_publish_is_parsed_whole_once_its_parameters_are_literals(warehouse):
    parsed = lineage.sql_lineage(CONN, (sql_dir() / "publish.sql").read_text(), schema="wap_20181101", parameters={"day": "2018-11-01"})
    assert "extractionError" not in parsed.run_facets
    outputs = {d.name for d in parsed.outputs}
    assert outputs == {f"sparkify.public.{t}" for t in ("songplays", "users", "songs", "artists", "time", "quarantine", "song_files")}
    inputs = {d.name for d in parsed.inputs}
    assert {f"sparkify.wap_20181101.{t}" for t in ("songplays", "users", "songs", "artists", "time", "quarantine")} <= inputs


def test_validation_facets_carry_every_expectation_and_the_null_counts():
    result = {
        "results": [
            {
                "success": True,
                "expectation_config": {
                    "type": "expect_column_values_to_not_be_null",
                    "kwargs": {"column": "user_id"},
                    "severity": "critical",
                    "id": "a",
                },
                "result": {"element_count": 10, "unexpected_count": 0, "missing_count": 0},
            },
            {
                "success": False,
                "expectation_config": {
                    "type": "expect_column_values_to_be_in_set",
                    "kwargs": {"column": "level", "value_set": ["free", "paid"]},
                    "severity": "warning",
                    "id": "b",
                },
                "result": {"element_count": 10, "unexpected_count": 1, "missing_count": 2},
            },
            {
                "success": True,
                "expectation_config": {
                    "type": "unexpected_rows_expectation",
                    "kwargs": {"unexpected_rows_query": "select 1 where false"},
                    "severity": "critical",
                    "id": "c",
                },
                "result": {"observed_value": 0},
            },
        ]
    }
    facets = lineage.validation_facets(result, row_count=10)
    assertions = facets["dataQualityAssertions"].assertions
    assert [(a.assertion, a.success, a.column, a.severity, a.name) for a in assertions] == [
        ("expect_column_values_to_not_be_null", True, "user_id", "error", "a"),
        ("expect_column_values_to_be_in_set", False, "level", "warn", "b"),
        ("unexpected_rows_expectation", True, None, "error", "c"),
    ]
    assert assertions[1].expected == '{"value_set": ["free", "paid"]}' and assertions[1].actual == "1 unexpected"
    assert assertions[2].content == "select 1 where false" and assertions[2].contentType == "sql" and assertions[2].actual == "0"
    metrics = facets["dataQualityMetrics"]
    assert metrics.rowCount == 10
    assert {c: m.nullCount for c, m in metrics.columnMetrics.items()} == {"user_id": 0, "level": 2}


def test_validation_facets_take_every_columns_counts_from_the_days_profile():
    from datetime import date

    from sparkify.quality.checks.profile import ColumnProfile, TableProfile

    profile = TableProfile("users", date(2018, 11, 1), "run", 10, {
        "user_id": ColumnProfile("user_id", "text", 0, 10),
        "last_event_ts": ColumnProfile("last_event_ts", "number", 1, 9, 5.0, 9.0),
        "first_name": ColumnProfile("first_name", "text", 0, 7, sensitive=True),
    })  # fmt: skip
    metrics = lineage.validation_facets({"results": []}, row_count=None, profile=profile)["dataQualityMetrics"]
    assert metrics.rowCount == 10
    found = {c: (m.nullCount, m.distinctCount, m.min, m.max) for c, m in metrics.columnMetrics.items()}
    assert found == {"first_name": (0, 7, None, None), "last_event_ts": (1, 9, 5.0, 9.0), "user_id": (0, 10, None, None)}
