"""The test session's settings: Airflow, GX and build output go to a temporary folder, never the repo's.

Imported by tests/conftest.py before Airflow is imported anywhere, so every test sees the same settings.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _sample_lake() -> Path:
    """The shared public sample (never copied into the repo): SPARKIFY_SAMPLE_LAKE, else
    shared/data/udacity-sample beside the checkout, a parent of it, or the repository it was cloned from."""
    if os.environ.get("SPARKIFY_SAMPLE_LAKE"):
        return Path(os.environ["SPARKIFY_SAMPLE_LAKE"]).resolve()
    places = list(ROOT.parents)
    # A clone made elsewhere (mktemp -d) of a checkout that sits beside shared/.
    origin = subprocess.run(["git", "-C", str(ROOT), "remote", "get-url", "origin"], capture_output=True, text=True)
    if origin.returncode == 0 and Path(origin.stdout.strip()).is_dir():
        places += [Path(origin.stdout.strip()).resolve(), *Path(origin.stdout.strip()).resolve().parents]
    for parent in places:
        candidate = parent / "shared" / "data" / "udacity-sample"
        if candidate.is_dir():
            return candidate
    return (ROOT / ".." / "shared" / "data" / "udacity-sample").resolve()


SAMPLE_LAKE = _sample_lake()
SESSION_DIR = Path(tempfile.mkdtemp(prefix="sparkify-tests-"))

_gx_copy = SESSION_DIR / "gx"
shutil.copytree(ROOT / "gx", _gx_copy, ignore=shutil.ignore_patterns("uncommitted"))
os.environ.update(
    {
        "AIRFLOW_HOME": str(SESSION_DIR / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "SPARKIFY_GX_DIR": str(_gx_copy),
        "SPARKIFY_BUILD_DIR": str(SESSION_DIR / "build"),
        "AIRFLOW_VAR_SPARKIFY_DOCS": str(SESSION_DIR / "published_docs"),
    }
)
for name in list(os.environ):
    if name.startswith("AIRFLOW_CONN_") or name == "AIRFLOW_VAR_SPARKIFY_LAKE":
        del os.environ[name]


TEST_PASSWORD = "Sp4rk-test-pw-7f3a"
