"""Data quality with GX: a checkpoint's run (checkpoint), its summary and failure message
(summary), Data Docs built and published (docs), GX's page views with a template cache (views),
and the Data Docs app the Airflow plugin mounts (app)."""
