"""The bench's own DAG folder (never dags/): ``sparkify_noop``, the no-op copy of the sparkify DAG's graph."""

NOOP_DAG_ID = "sparkify_noop"
