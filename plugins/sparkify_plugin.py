"""Airflow plugin: GX Data Docs served by the API server and shown in the Airflow UI.

The validation tasks' "Data Docs" extra link points at pages of this app.
"""

from airflow.plugins_manager import AirflowPlugin

from sparkify.quality.app import URL_PREFIX, create_app


class SparkifyPlugin(AirflowPlugin):
    name = "sparkify"
    fastapi_apps = [{"app": create_app(), "url_prefix": URL_PREFIX, "name": "Sparkify Data Docs"}]
    # An external view with a url_route is embedded in the UI (an iframe under /plugin/data-docs).
    external_views = [
        {
            "name": "Data Docs",
            "href": f"{URL_PREFIX}/index.html",
            "url_route": "data-docs",
            "destination": "nav",
            "category": "Browse",
        }
    ]
