"""Warm worker processes: Great Expectations imported once per worker, not once per task.

``import great_expectations`` takes about 5 s (scipy.stats, pandas, altair), and Airflow runs
every task in a new process: under a real scheduler each validation task paid it again (median
7.1 s against 1.1 s for a load task, measured with `make bench`). On Linux, Airflow 3 forks each
task process from its worker process (LocalExecutor: from the executor's worker, itself forked
from the scheduler; CeleryExecutor: from a pool process forked from the Celery worker), so a
module imported in the worker before the fork is already there in every task process.

- LocalExecutor: ``[core] executor = sparkify.warm.WarmLocalExecutor`` imports the modules in the
  scheduler before it starts its worker processes (`make airflow` sets it).
- CeleryExecutor: ``[celery] celery_config_options = sparkify.warm.CELERY_CONFIG`` (Airflow's
  default Celery settings) also connects Celery's ``worker_init`` signal, sent in the worker's
  main process before the pool forks (`make airflow EXECUTOR=celery` sets it).

Only imports happen here: no connection, context or file is opened before the fork.
"""

from __future__ import annotations

import importlib
import logging
import time

from airflow.executors.local_executor import LocalExecutor

log = logging.getLogger(__name__)

# What a validation task imports: GX (the bulk), its SQL datasource's dialect, the project's modules.
MODULES = (
    "great_expectations",
    "great_expectations.core.run_identifier",
    "great_expectations.render.renderer.site_builder",
    "great_expectations.datasource.fluent.sql_datasource",
    "sqlalchemy.dialects.postgresql.psycopg2",
    "sparkify.quality.gx.run",
    "sparkify.quality.store.results",
    "sparkify.quality.gx.summary",
    "sparkify.operators.alerts",
)

_warmed: list[float] = []


def preload() -> float:
    """Import MODULES into this process (once); returns the seconds it took."""
    if _warmed:
        return 0.0
    started = time.perf_counter()
    for name in MODULES:
        importlib.import_module(name)
    # GX logs an INFO line per expectation and field; the task's own setting, applied before the fork.
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    _warmed.append(time.perf_counter() - started)
    log.info("Preloaded %s for task processes in %.1fs", ", ".join(MODULES), _warmed[0])
    return _warmed[0]


class WarmLocalExecutor(LocalExecutor):
    """Airflow's LocalExecutor, with GX imported before its worker processes are forked."""

    def start(self) -> None:
        preload()
        super().start()


def _celery_config() -> dict:
    from airflow.providers.celery.executors.default_celery import DEFAULT_CELERY_CONFIG
    from celery.signals import worker_init

    worker_init.connect(lambda **_: preload(), weak=False)
    return dict(DEFAULT_CELERY_CONFIG)


def __getattr__(name: str):
    # Built on first access: the scheduler, the API server and LocalExecutor setups never import Celery.
    if name == "CELERY_CONFIG":
        value = _celery_config()
        globals()[name] = value
        return value
    raise AttributeError(name)
