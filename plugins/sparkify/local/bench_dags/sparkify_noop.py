"""make bench's baseline for day_overhead_ratio: the sparkify DAG's task graph (the same task ids,
dependencies and trigger rules) with a no-op Python callable in every task. It lives in the
bench's own folder, never in dags/, so no scheduler ever picks it up.
"""

from __future__ import annotations

from airflow.dag_processing.dagbag import DagBag
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG

from sparkify.local.bench_dags import NOOP_DAG_ID
from sparkify.settings import DAG_ID, project_root


def noop() -> None:
    """A task that does nothing: what is left of it is Airflow's own machinery."""


def mirror(real) -> DAG:
    with DAG(dag_id=NOOP_DAG_ID, schedule=None, start_date=real.start_date, catchup=False, max_active_runs=real.max_active_runs) as copy:
        tasks = {t.task_id: PythonOperator(task_id=t.task_id, python_callable=noop, trigger_rule=t.trigger_rule) for t in real.tasks}
        for task in real.tasks:
            for upstream in task.upstream_task_ids:
                tasks[upstream] >> tasks[task.task_id]
    return copy


# Only the real DAG's file: what a task process of the real DAG parses too (under a scheduler each
# task process parses its DAG's file).
noop_dag = mirror(DagBag(str(project_root() / "dags" / "sparkify_dag.py")).dags[DAG_ID])
