"""DAG integrity: it parses with no connection configured, and keeps the project's policies."""

from __future__ import annotations

import json
import os
import shutil

import pytest
from airflow.dag_processing.dagbag import DagBag

from tests.session import ROOT


@pytest.fixture(scope="module")
def dagbag():
    # Parsing must need no connection: none is defined while the DAG is parsed (tests that ran
    # earlier in the session may have set one).
    with pytest.MonkeyPatch.context() as patch:
        for name in [k for k in os.environ if k.startswith("AIRFLOW_CONN_")]:
            patch.delenv(name)
        return DagBag(str(ROOT / "dags"))


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}
    assert set(dagbag.dag_ids) == {"sparkify", "sparkify_downstream_example", "sparkify_review"}


def test_a_held_day_asks_for_a_review_in_a_run_of_its_own(dagbag):
    """request_review follows publish_day and runs when it was skipped (a held day), not when an
    upstream failed; the review DAG is unpaused from the start and its task waits for Publish or
    Hold, Hold on a timeout."""
    sparkify, review = dagbag.dags["sparkify"], dagbag.dags["sparkify_review"]
    request = sparkify.get_task("request_review")
    assert request.upstream_task_ids == {"publish_day"} and request.trigger_rule == "all_skipped"
    assert request.trigger_dag_id == "sparkify_review"
    decide = review.get_task("decide")
    assert (decide.options, decide.defaults, list(decide.params)) == (["Publish", "Hold"], ["Hold"], ["reason"])
    assert review.is_paused_upon_creation is False


def test_the_example_downstream_dag_is_scheduled_on_published_songplays(dagbag):
    downstream = dagbag.dags["sparkify_downstream_example"]
    publish = dagbag.dags["sparkify"].get_task("publish_day")
    songplays = next(asset for asset in publish.outlets if asset.name == "sparkify.songplays")
    assert {asset.name for asset in publish.outlets} == {f"sparkify.{t}" for t in ("songplays", "users", "songs", "artists", "time")}
    assert list(downstream.timetable.asset_condition.objects) == [songplays]


def test_policies(dagbag):
    dag = dagbag.dags["sparkify"]
    assert dag.tags and "sparkify" in dag.tags
    assert dag.doc_md and "critical validation" in dag.doc_md.lower()
    assert dag.max_active_runs > 1  # runs of different days overlap: each has its own schema
    for task in dag.tasks:
        assert task.retries >= 2, task.task_id
        assert task.retry_delay.total_seconds() >= 60, task.task_id


def test_every_load_is_followed_by_its_validation(dagbag):
    dag = dagbag.dags["sparkify"]
    for table in ("songs", "artists", "users", "songplays", "time"):
        assert f"validate_{table}" in dag.get_task(f"load_{table}").downstream_task_ids
    assert "validate_staging_events" in dag.get_task("stage_events").downstream_task_ids
    assert "validate_staging_songs" in dag.get_task("stage_songs").downstream_task_ids


def test_order_follows_the_design(dagbag):
    dag = dagbag.dags["sparkify"]

    def upstream(task_id):
        return dag.get_task(task_id).get_flat_relative_ids(upstream=True)

    assert {"validate_songs", "validate_artists", "validate_staging_events"} <= upstream("load_songplays")
    assert "validate_songplays" in upstream("load_time")
    assert {"validate_users", "validate_time", "validate_songs", "validate_artists"} <= upstream("validate_referential_integrity")
    validations = {t.task_id for t in dag.tasks if t.task_id.startswith("validate_")}
    assert validations <= upstream("end")
    assert validations <= upstream("publish_data_docs")
    assert dag.get_task("publish_data_docs").trigger_rule == "all_done"
    assert dag.get_task("end").trigger_rule == "all_success"


@pytest.mark.parametrize(("dag_id", "kind", "callback"), [("sparkify", "DayEndDeadline", "alert_unpublished_day"),
                                                         ("sparkify_review", "HeldDayDeadline", "alert_unanswered_review")])  # fmt: skip
def test_the_dag_carries_its_publish_deadline_and_the_scheduler_can_read_it_back(dagbag, dag_id, kind, callback):
    """The DeadlineAlert serializes with the custom reference's class path, and that path is the
    one the project's plugin registers (the scheduler finds custom references only there). The
    review DAG's is the held day's deadline."""
    from airflow.plugins_manager import get_deadline_references_plugins
    from airflow.serialization.serialized_objects import DagSerialization

    from sparkify.operators import deadline

    (alert,) = dagbag.dags[dag_id].deadline
    assert isinstance(alert.reference, getattr(deadline, kind)) and alert.callback.path.endswith(callback)
    serialized = DagSerialization.to_dict(dagbag.dags[dag_id])
    reference = serialized["dag"]["deadline"][0]["reference"]
    assert reference["__class_path"] == f"sparkify.operators.deadline.{kind}"
    assert get_deadline_references_plugins()[reference["__class_path"]] is getattr(deadline, kind)


def test_a_promoted_suite_is_a_task_at_the_next_parse_after_its_tables_load(tmp_path, monkeypatch):
    """make promote writes a new suite of songs; the DAG, parsed again, runs it after load_songs
    and before publish_day, like every validation, without a hand edit."""
    from sparkify.quality.gx import authoring

    shutil.copytree(ROOT / "gx", tmp_path / "gx", ignore=shutil.ignore_patterns("uncommitted", "drafts"))
    monkeypatch.setenv("SPARKIFY_GX_DIR", str(tmp_path / "gx"))
    draft = tmp_path / "draft.json"
    draft.write_text(json.dumps({"meta": {"table": "songs"}, "expectations": [
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "title"}}]}))  # fmt: skip
    promotion = authoring.plan_promotion(str(draft), into="songs_catalog")
    written = authoring.write_promotion(promotion)
    assert sorted(p.relative_to(tmp_path / "gx").as_posix() for p in written) == [
        "checkpoints/songs_catalog.json", "expectations/songs_catalog.json", "validation_definitions/songs_catalog.json"
    ]  # fmt: skip
    dag = DagBag(str(ROOT / "dags")).dags["sparkify"]
    task = dag.get_task("validate_songs_catalog")
    assert task.upstream_task_ids == {"load_songs"}
    assert {"publish_day", "publish_data_docs"} <= task.downstream_task_ids
    assert len([t for t in dag.tasks if t.task_id.startswith("validate_")]) == 12
