"""Airflow operators of the Sparkify pipeline: wait for the day's file, stage, load, validate, publish; and extra links."""

from sparkify.operators.arrival import WaitForLakeFileOperator
from sparkify.operators.links import DataDocsLink
from sparkify.operators.load import LoadTableOperator, PrepareWarehouseOperator
from sparkify.operators.publish import PublishDataDocsOperator, PublishDayOperator
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
    "StageJsonOperator",
    "WaitForLakeFileOperator",
]
