"""The results store: the only code that reads or writes the warehouse's ``dq.*`` tables.

- ``results``: validation rows, the redaction key, lake fields, arrivals, the publish lock, and
  what the quality page and Data Docs read back (imported here: ``from sparkify.quality import store``);
- ``metrics``: each table's per-day metrics, one portable query on the run's copy, kept in
  ``dq.day_metrics``;
- ``profiles``: each day's profile of every staged and loaded table (``dq.day_profiles``), what
  make suggest and make backtest read;
- ``publishes``: each day's publish record (``dq.day_publishes``): which run published it, when;
- ``run_tables``: the run schema's tables a history suite validates (``day_metrics``,
  ``lake_fields``) and a validated table's row count; they hold a check's inputs, not results.
"""

from sparkify.quality.store.results import (
    STORE_TABLES,
    checked_metrics,
    day_results,
    ensure,
    index_entries,
    lake_field_history,
    lateness_per_day,
    latest_failed,
    metric_history,
    page_records,
    publish_lock,
    quarantined_per_day,
    redaction_key,
    run_lake_fields,
    run_metrics,
    run_results,
    run_validations,
    save,
    save_arrival,
    save_lake_fields,
    slo_records,
)

__all__ = [
    "STORE_TABLES",
    "checked_metrics",
    "day_results",
    "ensure",
    "index_entries",
    "lake_field_history",
    "lateness_per_day",
    "latest_failed",
    "metric_history",
    "page_records",
    "slo_records",
    "publish_lock",
    "quarantined_per_day",
    "redaction_key",
    "run_lake_fields",
    "run_metrics",
    "run_results",
    "run_validations",
    "save",
    "save_arrival",
    "save_lake_fields",
]
