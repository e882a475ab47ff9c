"""Sparkify data-quality pipeline: lake access, warehouse, staging/load/validation operators."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SQL_DIR = PROJECT_ROOT / "sql"
GX_DIR = PROJECT_ROOT / "gx"
BUILD_DIR = PROJECT_ROOT / "build"

WAREHOUSE_CONN_ID = "sparkify_warehouse"
AWS_CONN_ID = "aws_default"
LAKE_VARIABLE = "sparkify_lake"
