"""Airflow plugin: GX Data Docs and the "Data quality" page, served by the API server and shown in
the Airflow UI.

The validation tasks' "Data Docs" extra link points at pages of the Data Docs app.
"""

from airflow.plugins_manager import AirflowPlugin

from sparkify.operators.deadline import DayEndDeadline, HeldDayDeadline
from sparkify.quality.web import docs_app, quality_page


class SparkifyPlugin(AirflowPlugin):
    name = "sparkify"
    fastapi_apps = [
        {"app": docs_app.create_app(), "url_prefix": docs_app.URL_PREFIX, "name": "Sparkify Data Docs"},
        {"app": quality_page.create_app(), "url_prefix": quality_page.URL_PREFIX, "name": "Sparkify data quality"},
    ]
    # The DAGs' deadline references: the scheduler finds custom references through a plugin.
    deadline_references = [DayEndDeadline, HeldDayDeadline]
    # An external view with a url_route is embedded in the UI (an iframe under /plugin/data-docs).
    external_views = [
        {
            "name": "Data Docs",
            "href": f"{docs_app.URL_PREFIX}/index.html",
            "url_route": "data-docs",
            "destination": "nav",
            "category": "Browse",
        },
        {
            "name": "Data quality",
            "href": f"{quality_page.URL_PREFIX}/",
            "url_route": "data-quality",
            "destination": "nav",
            "category": "Browse",
        },
    ]
