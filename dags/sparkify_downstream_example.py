"""
### An example downstream DAG: scheduled on Sparkify's published `songplays`

It runs each time `publish_day` of the `sparkify` DAG publishes a day, which happens only when
every critical validation of that day passed. It reads the triggering event's extra: the day,
the rows published and the day's validation summary (from the shared results store). Copy it as
the start of a report, an export or a model refresh that must see validated data only.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import dag, task

from sparkify.operators.publish import published_assets

SONGPLAYS = published_assets()["songplays"]


@dag(
    dag_id="sparkify_downstream_example",
    schedule=[SONGPLAYS],
    start_date=pendulum.datetime(2018, 11, 1, tz="UTC"),
    catchup=False,
    default_args={"owner": "data-engineering", "retries": 2, "retry_delay": timedelta(minutes=1)},
    tags=["sparkify", "example", "assets"],
    doc_md=__doc__,
)
def sparkify_downstream_example():
    @task
    def validated_days(**context) -> list[dict]:
        """The days whose songplays were published and validated, as the events carried them."""
        from sparkify.operators.publish import describe_events

        return describe_events(context["triggering_asset_events"][SONGPLAYS])

    validated_days()


sparkify_downstream_example()
