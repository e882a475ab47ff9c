"""Sparkify data-quality pipeline.

Ships to every Airflow machine: ``operators`` (the DAG's tasks), ``lake`` (folder or S3),
``staging`` (JSON into staging tables), ``warehouse`` (connections, SQL scripts,
write-audit-publish, Redshift), ``quality`` (GX checkpoints, summaries, Data Docs and their app),
``settings``, ``names``, ``templates`` (the operators' shared Jinja templates) and ``warm``
(GX imported once per worker process), and ``auth`` (the FAB auth manager that matches a held
day's review owners by username; configured by the API server, never imported by a task).
``local`` holds the laptop and CI tools (CLI, runner, UI launcher, embedded PostgreSQL, lake
generator, benchmark); nothing in a task imports it.
"""
