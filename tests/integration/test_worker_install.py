"""A worker's install is requirements.txt plus the package: every module of the package, the DAG
files and the plugin import without the test and notebook requirements (blocked here by a finder
that refuses their modules, in a process of its own)."""

from __future__ import annotations

import re
import subprocess
import sys
from importlib.metadata import packages_distributions

from tests.session import ROOT


def pinned(name: str) -> set[str]:
    """Normalised distribution names pinned in a requirements file (its -r includes left out)."""
    found = set()
    for line in (ROOT / name).read_text().splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            found.add(normalise(re.split(r"[=<>~!\[; ]", line, maxsplit=1)[0]))
    return found


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


CHECK = """
import importlib, importlib.abc, pkgutil, runpy, sys
BLOCKED = set(sys.argv[1].split(","))

class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"{name} is not installed on a worker (a test or notebook requirement)", name=name)
        return None

sys.meta_path.insert(0, Refuse())
import sparkify
failed = []
for module in pkgutil.walk_packages(sparkify.__path__, "sparkify."):
    try:
        importlib.import_module(module.name)
    except Exception as err:
        failed.append(f"{module.name}: {type(err).__name__}: {err}")
for path in sys.argv[2:]:
    try:
        runpy.run_path(path)
    except Exception as err:
        failed.append(f"{path}: {type(err).__name__}: {err}")
print("\\n".join(failed))
sys.exit(1 if failed else 0)
"""


def test_every_shipped_module_imports_with_the_runtime_requirements_only():
    runtime = pinned("requirements.txt")
    dev_only = (pinned("requirements-test.txt") | pinned("requirements-notebook.txt")) - runtime
    blocked = sorted({top for top, dists in packages_distributions().items() if {normalise(d) for d in dists} <= dev_only})
    assert {"pytest", "sqlglot", "moto"} <= set(blocked)  # the finder really refuses the test tools
    files = [str(ROOT / "dags" / "sparkify_dag.py"), str(ROOT / "dags" / "sparkify_review.py"),
             str(ROOT / "dags" / "sparkify_downstream_example.py"), str(ROOT / "plugins" / "sparkify_plugin.py")]  # fmt: skip
    done = subprocess.run([sys.executable, "-c", CHECK, ",".join(blocked), *files], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
