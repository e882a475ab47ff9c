"""Extra links of the pipeline's tasks."""

from __future__ import annotations

from airflow.sdk import BaseOperatorLink


class DataDocsLink(BaseOperatorLink):
    """Extra link from a validation task instance to its own Data Docs page.

    Airflow 3 computes it on the worker when the task ends (also when it failed) and stores it in
    XCom; it is a URL of the page in the Data Docs app of the Airflow plugin (sparkify_plugin.py).
    The task that validated has it already (``docs_page_url``); otherwise it is read from the
    task's summary XCom (one more request to the execution API).
    """

    name = "Data Docs"

    def get_link(self, operator, *, ti_key) -> str:
        known = getattr(operator, "docs_page_url", None)
        if known is not None:
            return known
        from airflow.sdk.execution_time.xcom import XCom

        from sparkify.settings import docs_page_url

        summary = XCom.get_value(ti_key=ti_key, key="summary") or {}
        return docs_page_url(summary["page"]) if summary.get("page") else ""
