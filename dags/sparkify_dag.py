"""
### Sparkify: lake -> warehouse star schema, every load validated by Great Expectations

One run = one UTC day (the run's logical date, `ds`), written, audited, then published
(write-audit-publish) through the run's own schema `wap_YYYYMMDD`:

0. `wait_for_events` waits for the day's file `log_data/YYYY/MM/YYYY-MM-DD-events.json` in the
   lake, deferred to Airflow's triggerer (no worker slot held), until the interval's end plus
   the Variable `sparkify_arrival_wait_hours` (default 6); then it fails, naming the key, and
   nothing runs or is published. A file already there ends it at once.
1. `prepare_warehouse` creates the published tables (DDL of the warehouse's dialect) and the
   run's empty schema, and records when the day's file arrived (`dq.arrivals`).
2. `stage_events` copies `log_data/YYYY/MM/YYYY-MM-DD-events.json` into the run's
   `staging_events` (columns by the lake's `log_json_path.json`); `stage_songs` copies the song
   files new or changed since the published catalog (manifest `public.song_files`) into
   `staging_songs`; the `songs` and `artists` copies are those songs plus the rest of the
   catalog. Lines that cannot be staged go to the run's `quarantine` table (file, line, text,
   reason). `validate_quarantine` checks every line is accounted for
   and the quarantined share is under the threshold; each staging table is validated too.
   Staging also counts the top-level JSON fields it read (`dq.lake_fields`);
   `validate_lake_fields` names each field new since the published days, or gone from them
   (a warning: the JSONPaths columns stay the contract).
3. Loads write the run's audit copies of `songs`, `artists`, `users`, `songplays` (the day) and
   `time` (the day); each is validated right after (and its per-day metrics kept in
   `dq.day_metrics`), `referential_integrity` checks the fact against every dimension, and
   `validate_history` compares the day's metrics with the days published before it (ranges from
   that history, settings in `gx/history.toml`; warnings unless configured critical).
4. `publish_day` (only when every critical check passed) moves the audit copies into the
   published tables in one transaction and drops the run's schema. A failed review-severity
   check holds the day instead: nothing published, the audit copies kept, `publish_day` ends
   skipped, and `request_review` triggers a run of `sparkify_review`, whose task waits for a
   person's Publish or Hold on the Required actions page (or `make review`; see
   docs/data-quality.md). `publish_data_docs` runs
   whatever happened (trigger rule `all_done`); `end` marks a published day.

A critical validation failure fails its task without retries; nothing downstream of it runs and
the published tables stay exactly as they were (the audit copies stay in `wap_YYYYMMDD` for
inspection until the day runs again). Infrastructure errors retry with a delay. Runs of
different days can overlap: each has its own schema, and publishes queue on table locks.

Backfill a lake's history with `airflow backfill create --dag-id sparkify --from-date 2018-11-01
--to-date 2018-11-30` (or `make run`); the schedule itself runs only the latest day.

Settings: connection `sparkify_warehouse` (postgres or redshift), connection `aws_default`
(S3 lake), Variable `sparkify_lake` (folder or s3:// URL), optional Variables `sparkify_docs`
(where Data Docs are published; default `build/data_docs`), `sparkify_max_quarantine_rate`
(default 0.01), `sparkify_arrival_wait_hours` (default 6) and `sparkify_publish_deadline_hours`
(default 8: a day not published by then sends an alert on the connections `sparkify_smtp` and
`sparkify_slack`, saying what it waits on). Identifiers never come from Variables, params or `dag_run.conf`.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import dag
from airflow.timetables.interval import CronDataIntervalTimetable

from sparkify.names import TABLES, table_suites
from sparkify.operators import (
    GxValidationOperator,
    HistoryValidationOperator,
    LakeFieldsValidationOperator,
    LoadTableOperator,
    PrepareWarehouseOperator,
    PublishDataDocsOperator,
    PublishDayOperator,
    RequestReviewOperator,
    StageJsonOperator,
    WaitForLakeFileOperator,
)
from sparkify.operators.callbacks import record_error
from sparkify.operators.deadline import publish_deadline
from sparkify.settings import DAG_ID, sql_dir
from sparkify.templates import MAX_QUARANTINE_RATE

EVENTS_KEY = "log_data/{{ logical_date.strftime('%Y/%m') }}/{{ ds }}-events.json"


@dag(
    dag_id=DAG_ID,
    schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),
    start_date=pendulum.datetime(2018, 11, 1, tz="UTC"),
    # No end date and no catch-up: a lake's history is loaded with a backfill
    # (airflow backfill create --dag-id sparkify --from-date ... --to-date ...) or make run.
    catchup=False,
    # Days may overlap: each run stages, loads and validates in its own schema; publishes queue.
    max_active_runs=3,
    template_searchpath=[str(sql_dir())],
    default_args={
        "owner": "data-engineering",
        "retries": 2,
        "retry_delay": timedelta(minutes=1),
        "retry_exponential_backoff": True,
        # The first lines of a failed task's error, kept for make run's report (root causes first).
        "on_failure_callback": record_error,
    },
    tags=["sparkify", "great-expectations", "star-schema"],
    # Not published by the day's end + the Variable sparkify_publish_deadline_hours (default 8):
    # an alert on the alerts' channels, saying what the day waits on.
    deadline=publish_deadline(),
    doc_md=__doc__,
)
def sparkify():
    # The day's file may arrive late: wait for it, deferred (Airflow's triggerer), until the
    # interval's end plus the Variable sparkify_arrival_wait_hours (default 6).
    wait_for_events = WaitForLakeFileOperator(task_id="wait_for_events", key=EVENTS_KEY)
    prepare = PrepareWarehouseOperator(task_id="prepare_warehouse", arrival_task=wait_for_events.task_id)

    stage_events = StageJsonOperator(
        task_id="stage_events",
        table="staging_events",
        key=EVENTS_KEY,
        jsonpaths_key="log_json_path.json",
    )
    stage_songs = StageJsonOperator(
        task_id="stage_songs", table="staging_songs", key="song_data", record_format="document", only_changed_files=True
    )
    validate_quarantine = GxValidationOperator(
        task_id="validate_quarantine",
        suite="quarantine",
        expectation_parameters={
            "file_lines": "{{ ti.xcom_pull(task_ids='stage_events')['lines'] }}",
            "max_quarantine_rate": MAX_QUARANTINE_RATE,
        },
    )

    loads = {t: LoadTableOperator(task_id=f"load_{t}", table=t) for t in TABLES}
    # The plain table validations, one task per committed suite in gx/ (names.table_suites): each
    # runs after its table is staged or loaded. A suite promoted for a table (make promote) is a
    # task at the next parse; the suites named below keep their own wiring.
    writes = {"staging_events": stage_events, "staging_songs": stage_songs, **loads}
    plain = table_suites()
    checks = {suite: GxValidationOperator(task_id=f"validate_{suite}", suite=suite) for suite in plain}
    for suite, table in plain.items():
        writes[table] >> checks[suite]
    validate_staging_events, validate_staging_songs = checks["staging_events"], checks["staging_songs"]
    validate_integrity = GxValidationOperator(task_id="validate_referential_integrity", suite="referential_integrity")
    # The day's metrics (stored by the table validations) against the days published before it:
    # ranges from the results store, settings in gx/history.toml.
    validate_history = HistoryValidationOperator(task_id="validate_history")
    # Schema drift: the lake's top-level JSON fields (counted by staging) against the published days'.
    validate_lake_fields = LakeFieldsValidationOperator(task_id="validate_lake_fields")

    publish_day = PublishDayOperator(task_id="publish_day")
    # A held day (publish_day skipped): one run of sparkify_review asks a person; this run ends.
    request_review = RequestReviewOperator(task_id="request_review")
    publish_docs = PublishDataDocsOperator(task_id="publish_data_docs")
    end = EmptyOperator(task_id="end")

    wait_for_events >> prepare >> [stage_events, stage_songs]
    [stage_events, stage_songs] >> validate_quarantine
    [stage_events, stage_songs] >> validate_lake_fields
    [validate_staging_songs, validate_quarantine] >> loads["songs"]
    [validate_staging_songs, validate_quarantine] >> loads["artists"]
    [validate_staging_events, validate_quarantine] >> loads["users"]
    [checks["songs"], checks["artists"], validate_staging_events] >> loads["songplays"]
    checks["songplays"] >> loads["time"]
    [checks["users"], checks["time"], checks["songs"], checks["artists"]] >> validate_integrity
    # The metrics validate_history reads are stored by each table's own suite.
    [validate_staging_events, *(checks[t] for t in TABLES)] >> validate_history

    validations = [
        validate_quarantine,
        *checks.values(),
        validate_integrity,
        validate_history,
        validate_lake_fields,
    ]
    validations >> publish_day >> [end, request_review]
    [*validations, publish_day] >> publish_docs


sparkify()
