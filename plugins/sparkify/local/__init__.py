"""Tools for a laptop or CI, never imported by a task: the CLI behind the Makefile, the one-process
runner (make run), the Airflow UI launcher (make airflow), the embedded PostgreSQL, the lake
generator and the benchmark (make bench)."""
