"""Summaries of validation results and the failure message (pure: no GX context, no database)."""

from __future__ import annotations

from types import SimpleNamespace

from sparkify.quality.gx.summary import failure_message, review_checks, review_text, summarise, unreachable


def _item(success, type_, *, severity="critical", kwargs=None, result=None, description="", meta=None):
    config = SimpleNamespace(type=type_, description=description, severity=severity, kwargs=kwargs or {}, meta=meta)
    return SimpleNamespace(success=success, expectation_config=config, result=result or {}, exception_info=None)


def test_a_failed_domain_check_is_summarised_with_its_evidence():
    validation = SimpleNamespace(
        suite_name="staging_events", success=False, statistics={"evaluated_expectations": 3},
        results=[
            _item(True, "expect_column_values_to_not_be_null", kwargs={"column": "ts"}),
            _item(False, "expect_column_values_to_be_in_set", kwargs={"column": "level", "value_set": ["free", "paid"], "batch_id": "b"},
                  result={"unexpected_count": 1, "element_count": 40, "partial_unexpected_list": ["premium"]}),
            _item(False, "expect_column_values_to_be_unique", severity="warning", kwargs={"column": "song_id"},
                  result={"unexpected_count": 2, "element_count": 71, "partial_unexpected_list": ["S1", "S1"]}),
        ],
    )  # fmt: skip
    summary = summarise(
        validation, suite=SimpleNamespace(meta={"table": "staging_events"}), page="validations/x.html", docs_location="/docs/"
    )
    assert (summary["success"], summary["gx_success"], summary["failed_critical"], summary["failed_warning"]) == (False, False, 1, 1)
    assert summary["data_docs"] == "/docs/validations/x.html"
    assert summary["failures"][0]["kwargs"] == {"column": "level", "value_set": ["free", "paid"]}  # batch_id left out
    assert failure_message(summary) == (
        "Critical validation failed for table staging_events (suite staging_events): 1 critical expectation(s) failed of 3.\n"
        "- expect_column_values_to_be_in_set(column='level', value_set=['free', 'paid']): 1 unexpected of 40 rows; "
        "unexpected values: ['premium']; offending (up to 10): ['premium']\n"
        "Data Docs: /docs/validations/x.html"
    )


def test_warnings_alone_pass_and_unexpected_rows_count_their_rows():
    validation = SimpleNamespace(
        suite_name="users", success=False, statistics={"evaluated_expectations": 1},
        results=[_item(False, "unexpected_rows_expectation", severity="warning", kwargs={"unexpected_rows_query": "select 1"},
                       result={"observed_value": 2, "details": {"unexpected_rows": [{"user_id": "7"}, {"user_id": "9"}]}})],
    )  # fmt: skip
    summary = summarise(validation, suite=SimpleNamespace(meta=None), page=None, docs_location="s3://b/docs")
    assert summary["success"] is True and summary["table"] == "users" and summary["data_docs"] is None
    assert summary["failures"][0]["unexpected_count"] == 2
    assert summary["failures"][0]["keys"] == [{"user_id": "7"}, {"user_id": "9"}]


def test_an_expectation_the_lost_warehouse_stopped_is_told_apart_from_a_failed_one():
    lost = _item(False, "expect_column_values_to_not_be_null", kwargs={"column": "song_id"})
    lost.exception_info = {
        "('column_values.nonnull.unexpected_count', 'abc', ())": {
            "raised_exception": True,
            "exception_message": 'An SQL execution Exception occurred.  OperationalError: "(psycopg2.OperationalError) '
            'connection to server at "127.0.0.1", port 5432 failed: Connection refused"',
        }
    }
    not_enough = _item(False, "expect_table_row_count_to_be_between")  # the history suite's own marker
    not_enough.exception_info = {"raised_exception": True, "exception_message": "not enough history (3 of 7 days)"}
    failed = _item(False, "expect_column_values_to_be_unique", result={"unexpected_count": 2})
    validation = SimpleNamespace(results=[lost, not_enough, failed])
    assert [kind for kind, _ in unreachable(validation)] == ["expect_column_values_to_not_be_null"]
    assert "Connection refused" in unreachable(validation)[0][1]
    assert unreachable(SimpleNamespace(results=[not_enough, failed])) == []


def test_a_review_severity_failure_passes_the_task_and_is_what_holds_the_day():
    validation = SimpleNamespace(
        suite_name="history", success=False, statistics={"evaluated_expectations": 2},
        results=[
            _item(False, "expect_column_values_to_be_between", severity="warning", meta={"metric": "songplays.rows", "severity": "review"},
                  kwargs={"column": "songplays_rows", "min_value": 900, "max_value": 1500}, description="songplays.rows = 610, ...",
                  result={"observed_value": 610}),
            _item(False, "expect_column_values_to_be_between", severity="warning", kwargs={"column": "songplays_paid_share"},
                  result={"observed_value": 0.1}),
        ],
    )  # fmt: skip
    summary = summarise(validation, suite=SimpleNamespace(meta={"table": "day_metrics"}), page="validations/h.html", docs_location="/d")
    assert (summary["success"], summary["failed_critical"], summary["failed_warning"], summary["failed_review"]) == (True, 0, 1, 1)
    assert [f["severity"] for f in summary["failures"]] == ["review", "warning"]
    (check,) = review_checks([summary])
    assert check == {"suite": "history", "table": "day_metrics", "expectation": "expect_column_values_to_be_between",
                     "column": "songplays_rows", "observed": 610, "expected": {"min_value": 900, "max_value": 1500},
                     "description": "songplays.rows = 610, ...", "data_docs": "/d/validations/h.html", "page": "validations/h.html",
                     "waivable": False}  # fmt: skip
    assert review_text("2018-11-28", [check]).splitlines() == [
        "Day 2018-11-28 is held for review: 1 review-severity check(s) failed; nothing of it is published.",
        "- day_metrics (suite history): songplays.rows = 610, ...; observed 610, expected {'min_value': 900, 'max_value': 1500}",
        "  Data Docs: /d/validations/h.html",
    ]


def test_a_waivable_critical_failure_alone_passes_its_task_and_holds_the_day_while_a_plain_one_blocks():
    def validation(*metas):
        results = [_item(False, "expect_column_values_to_be_in_set", kwargs={"column": "level"}, meta=m, result={"unexpected_count": 1})
                   for m in metas]  # fmt: skip
        return SimpleNamespace(suite_name="staging_events", success=False, statistics={"evaluated_expectations": 2}, results=results)

    suite = SimpleNamespace(meta=None)
    waived = summarise(validation({"waivable": True}), suite=suite, page=None, docs_location="/d")
    assert (waived["success"], waived["failed_critical"], waived["failed_waivable"]) == (True, 1, 1)
    assert waived["message"].startswith("Critical validation failed") and review_checks([waived])[0]["waivable"] is True
    assert "held for review: 0 review-severity check(s) and 1 waivable critical check(s) failed" in review_text(
        "d", review_checks([waived])
    )
    both = summarise(validation({"waivable": True}, None), suite=suite, page=None, docs_location="/d")
    assert (both["success"], both["failed_critical"], both["failed_waivable"]) == (False, 2, 1)
    # "waivable" must be true itself, and only a critical expectation can be waived.
    assert summarise(validation({"waivable": "yes"}), suite=suite, page=None, docs_location="/d")["success"] is False
    warning = _item(False, "expect_column_values_to_be_in_set", severity="warning", meta={"waivable": True})
    assert review_checks([summarise(SimpleNamespace(suite_name="s", success=False, statistics={}, results=[warning]), suite=suite,
                                    page=None, docs_location="/d")]) == []  # fmt: skip
