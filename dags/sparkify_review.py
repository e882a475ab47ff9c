"""
### Sparkify review: a person decides a day held for review

One run per held day, triggered by the day's `request_review` task (`sparkify` DAG) with the day
and the held run in its conf. Its one task, `decide`, waits in Airflow's *awaiting input* state
(no worker slot held) for Publish or Hold, with a reason, on the **Required actions** page or
through the REST API (`PATCH /api/v2/dags/sparkify_review/dagRuns/<run>/taskInstances/decide/-1/hitlDetails`).
Publish moves the held run's kept audit copies into the published tables; Hold publishes nothing.
The decision, who and why are kept in the results store (`dq.day_publishes`) and shown on the
Data quality page and in `run-summary.json`. `make review DAY=... DECISION=... REASON="..."`
decides the same day without the UI, and answers this request. Variables: `sparkify_review_owners`
(who may decide, by username), `sparkify_review_timeout_hours` (no answer by then is Hold). A
request still unanswered at the held day's publish deadline sends "waiting for review of ... since
...". See docs/data-quality.md.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag

from sparkify.operators import ReviewDecisionOperator
from sparkify.operators.deadline import review_deadline
from sparkify.settings import REVIEW_DAG_ID


@dag(
    dag_id=REVIEW_DAG_ID,
    schedule=None,  # only request_review starts runs
    start_date=pendulum.datetime(2018, 11, 1, tz="UTC"),
    catchup=False,
    # Each held day waits in its own run; waiting holds no worker slot.
    max_active_runs=16,
    is_paused_upon_creation=False,  # a request must reach a person without anyone unpausing this first
    default_args={"owner": "data-engineering", "retries": 0},
    tags=["sparkify", "review"],
    # Not decided by the held day's end + sparkify_publish_deadline_hours: "waiting for review of ...".
    deadline=review_deadline(),
    doc_md=__doc__,
)
def sparkify_review():
    ReviewDecisionOperator(task_id="decide")


sparkify_review()
