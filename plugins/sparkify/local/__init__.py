"""Tools for a laptop or CI, never imported by a task:

- ``cli``: the command line behind the Makefile;
- ``runner``, ``parallel`` (several days at once) and ``report`` (counts and run-summary.json): make run;
- ``airflow_home``: the project's Airflow home, environment and metadata database;
- ``ui`` and ``celery_shape``: make airflow, with LocalExecutor or Celery;
- ``embedded``: the embedded PostgreSQL (15-18);
- ``generator``: generated lakes;
- ``authoring``: make suggest, make backtest and make promote;
- ``review``: make review (a day held for review, decided without the UI);
- ``bench``, ``bench_figures`` (each figure declared once), ``scheduler_day`` (a day through make
  airflow) and ``bench_dags`` (the no-op copy of the DAG's graph): make bench.
"""
