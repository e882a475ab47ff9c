"""The Redshift SQL checker: each rule catches a bad example, and the project's SQL passes."""

from __future__ import annotations

import json

import pytest

from tests.session import ROOT
from tools.redshift_check import RULES, check, gx_batch_substitution, project_statements

BAD = {
    "unaliased-subquery": "select count(*) from (select * from songplays)",
    "on-conflict": "insert into users (user_id, level) values ('1', 'free') on conflict (user_id) do update set level = excluded.level",
    "filter-clause": "select count(*) filter (where level = 'paid') from users",
    "distinct-on": "select distinct on (user_id) user_id, level from staging_events order by user_id, ts desc",
    "lateral": "select u.user_id, e.ts from users as u, lateral (select ts from staging_events as s where s.user_id = u.user_id) as e",
    "unsupported-function": "select s.day from generate_series(1, 10) as s(day) join time as t on t.day = s.day",
    "truncate": "truncate table songplays",
    "returning": "insert into users (user_id) values ('1') returning user_id",
    "create-index": "create index songplays_start on songplays (start_time)",
    "unsupported-type": "create table t (id serial, tags text[], doc jsonb)",
}
GOOD = {
    "unaliased-subquery": "select count(*) from (select * from songplays) as sp",
    "on-conflict": "insert into users (user_id, level) select user_id, level from staging_users",
    "filter-clause": "select sum(case when level = 'paid' then 1 else 0 end) from users",
    "distinct-on": "select distinct user_id from staging_events",
    "lateral": "select u.user_id, s.ts from users as u join staging_events as s on s.user_id = u.user_id",
    "unsupported-function": "select listagg(user_id, ',') within group (order by user_id) from users",
    "truncate": "delete from songplays",
    "returning": "insert into users (user_id) values ('1')",
    "create-index": "create table t (id integer) sortkey (id)",
    "unsupported-type": "create table t (id bigint identity(0, 1), tags varchar(256))",
}


def test_every_rule_has_a_bad_and_a_good_example():
    assert set(BAD) == set(RULES) == set(GOOD)


@pytest.mark.parametrize("rule", sorted(RULES))
def test_the_rule_catches_its_bad_example(rule):
    findings = check(BAD[rule], source="example")
    assert findings and {f.rule for f in findings} == {rule}, findings
    assert findings[0].statement == "example"


@pytest.mark.parametrize("rule", sorted(RULES))
def test_the_rule_passes_the_redshift_form(rule):
    assert check(GOOD[rule]) == []


def test_each_unsupported_type_is_named():
    details = [f.detail for f in check(BAD["unsupported-type"])]
    assert details == ["data type SERIAL is not supported", "data type array types is not supported", "data type JSONB is not supported"]


def test_string_agg_and_array_agg_are_named():
    details = [f.detail for f in check("select string_agg(user_id, ','), array_agg(level) from users")]
    assert details == ["string_agg(): not supported (use LISTAGG)", "array_agg(): not supported (use LISTAGG)"]


def test_gx_substitution_of_a_join_query_leaves_the_batch_unaliased():
    """GX puts the batch in as an unaliased subquery when the query has a JOIN: a query must alias it."""
    join_query = "select count(*) from (select * from {batch}) as b join users as u on u.user_id = b.user_id"
    substituted = gx_batch_substitution(join_query, "songplays")
    assert "from (select * from (SELECT * \nFROM songplays)) as b" in substituted
    assert [f.rule for f in check(substituted)] == ["unaliased-subquery"]
    # Without a JOIN, GX aliases the batch itself (AS subselect).
    assert "AS subselect" in gx_batch_substitution("select * from {batch} where user_id is null", "songplays")


def test_the_projects_redshift_sql_passes():
    statements = project_statements()
    sources = {source.split(" ")[0] for source, _ in statements}
    assert {"sql/publish.sql", "sql/redshift/create_tables.sql", "sql/redshift/quarantine_events.sql", "sql/load/songplays.sql"} <= sources
    suites_with_queries = {
        path.stem for path in (ROOT / "gx" / "expectations").glob("*.json")
        if any("unexpected_rows_query" in e["kwargs"] for e in json.loads(path.read_text())["expectations"])
    }  # fmt: skip
    assert {s.split("/")[-1].split(".")[0] for s in sources if s.startswith("gx/")} == suites_with_queries
    findings = [f for source, sql in statements for f in check(sql, source=source)]
    assert findings == []
