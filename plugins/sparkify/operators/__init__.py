"""Airflow operators of the Sparkify pipeline."""

from sparkify.operators.load import LoadTableOperator, PrepareWarehouseOperator, PublishDayOperator
from sparkify.operators.stage import StageJsonOperator
from sparkify.operators.validate import GxValidationOperator, PublishDataDocsOperator

__all__ = [
    "GxValidationOperator",
    "LoadTableOperator",
    "PrepareWarehouseOperator",
    "PublishDataDocsOperator",
    "PublishDayOperator",
    "StageJsonOperator",
]
