"""The pages the Airflow API server serves (mounted by sparkify_plugin.py); they read results
only through the store (quality.store) and never import GX.

- ``docs_app``: the published Data Docs site, behind Airflow's login, per-DAG access checked;
- ``quality_page``: the Data quality page (a day x suite grid, trends, history bands);
- ``access``: the login and per-DAG authorization both pages share.
"""
