"""Airflow plugin: GX Data Docs and the "Data quality" page, served by the API server and shown in
the Airflow UI.

The validation tasks' "Data Docs" extra link points at pages of the Data Docs app.
"""

from airflow.plugins_manager import AirflowPlugin

from sparkify.operators.deadline import DayEndDeadline
from sparkify.quality import app as docs
from sparkify.quality import page as quality


class SparkifyPlugin(AirflowPlugin):
    name = "sparkify"
    fastapi_apps = [
        {"app": docs.create_app(), "url_prefix": docs.URL_PREFIX, "name": "Sparkify Data Docs"},
        {"app": quality.create_app(), "url_prefix": quality.URL_PREFIX, "name": "Sparkify data quality"},
    ]
    # The DAG's deadline reference: the scheduler finds custom references through a plugin.
    deadline_references = [DayEndDeadline]
    # An external view with a url_route is embedded in the UI (an iframe under /plugin/data-docs).
    external_views = [
        {
            "name": "Data Docs",
            "href": f"{docs.URL_PREFIX}/index.html",
            "url_route": "data-docs",
            "destination": "nav",
            "category": "Browse",
        },
        {
            "name": "Data quality",
            "href": f"{quality.URL_PREFIX}/",
            "url_route": "data-quality",
            "destination": "nav",
            "category": "Browse",
        },
    ]
