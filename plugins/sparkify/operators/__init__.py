"""Airflow operators of the Sparkify pipeline, a module per kind of task and what they share:

- ``arrival``: wait for the day's file without a worker slot (deferred to the triggerer);
- ``stage``: the lake's JSON into the run's staging tables;
- ``load``: the run's schema prepared, and each table loaded;
- ``validate``: a committed GX checkpoint per task, and the history and lake-field suites;
- ``publish``: the day published (or held for review, and decided), and Data Docs;
- ``review``: a held day's request for a person's decision (Airflow's human-in-the-loop);
- ``links``: the "Data Docs" extra link;
- ``alerts``: failed checks and warnings sent by SMTP and Slack;
- ``deadline``: the day's publish deadline;
- ``callbacks``: task callbacks;
- ``lineage``: OpenLineage datasets and facets of every task.
"""

from sparkify.operators.arrival import WaitForLakeFileOperator
from sparkify.operators.links import DataDocsLink
from sparkify.operators.load import LoadTableOperator, PrepareWarehouseOperator
from sparkify.operators.publish import PublishDataDocsOperator, PublishDayOperator
from sparkify.operators.review import RequestReviewOperator, ReviewDecisionOperator
from sparkify.operators.stage import StageJsonOperator
from sparkify.operators.validate import GxValidationOperator, HistoryValidationOperator, LakeFieldsValidationOperator

__all__ = [
    "DataDocsLink",
    "GxValidationOperator",
    "HistoryValidationOperator",
    "LakeFieldsValidationOperator",
    "LoadTableOperator",
    "PrepareWarehouseOperator",
    "PublishDataDocsOperator",
    "PublishDayOperator",
    "RequestReviewOperator",
    "ReviewDecisionOperator",
    "StageJsonOperator",
    "WaitForLakeFileOperator",
]
