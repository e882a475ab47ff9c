"""Sparkify data-quality pipeline: lake access, warehouse, staging/load/validation operators."""

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SQL_DIR = PROJECT_ROOT / "sql"
# The GX project; tests point SPARKIFY_GX_DIR at a copy so their results stay apart.
GX_DIR = Path(os.environ.get("SPARKIFY_GX_DIR") or PROJECT_ROOT / "gx")
BUILD_DIR = Path(os.environ.get("SPARKIFY_BUILD_DIR") or PROJECT_ROOT / "build")

WAREHOUSE_CONN_ID = "sparkify_warehouse"
AWS_CONN_ID = "aws_default"
LAKE_VARIABLE = "sparkify_lake"
