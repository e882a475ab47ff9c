"""Each make target's install stands on its own: the requirements files it installs (its own and
those of the targets it depends on, read from the Makefile) pass `uv pip check` in a new venv of
the make shape. make test installs every set into one venv, which would hide a pin that only
another target's file carries (jupyter-server's prometheus-client, once pinned only with Celery)."""

from __future__ import annotations

import re
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.session import ROOT, SESSION_DIR

UV = Path(sys.executable).parent / "uv"
RULE = re.compile(r"^\$\(BIN\)/(\.installed[\w-]*):([^=\n]*)$")
INSTALLED = re.compile(r"\$\(BIN\)/(\.installed[\w-]*)")
INSTALLS = re.compile(r"\$\(call INSTALL,-r ([\w.-]+)\)")


def makefile_installs(makefile: str) -> dict[str, tuple[list[str], list[str]]]:
    """{stamp: (stamps it depends on, requirements files its recipe installs)} from the Makefile."""
    rules: dict[str, tuple[list[str], list[str]]] = {}
    current = None
    for line in makefile.splitlines():
        if found := RULE.match(line):
            current = found.group(1)
            rules[current] = (INSTALLED.findall(found.group(2)), [])
        elif current and line.startswith("\t"):
            rules[current][1].extend(INSTALLS.findall(line))
        elif line.strip():
            current = None
    return rules


def install_order(stamp: str, rules: dict[str, tuple[list[str], list[str]]]) -> list[str]:
    """The requirements files make installs to reach `stamp`, prerequisites first."""
    order: list[str] = []
    for prerequisite in rules[stamp][0]:
        order += [name for name in install_order(prerequisite, rules) if name not in order]
    return order + [name for name in rules[stamp][1] if name not in order]


RULES = makefile_installs((ROOT / "Makefile").read_text())


def test_the_makefile_reading_finds_every_requirements_file():
    assert install_order(".installed-jupyter", RULES) == ["requirements.txt", "requirements-test.txt", "requirements-notebook.txt"]
    assert install_order(".installed-celery", RULES) == ["requirements.txt", "requirements-celery.txt"]
    files = {name for _, installed in RULES.values() for name in installed}
    assert files == {path.name for path in ROOT.glob("requirements*.txt")}


@pytest.mark.parametrize("stamp", sorted(RULES))
def test_each_targets_requirements_pass_pip_check_on_their_own(stamp):
    if not UV.exists():
        pytest.skip(f"no uv in {UV.parent} (make installs it; pip was used instead)")
    venv = SESSION_DIR / f"requirements{stamp}"
    # `python -m venv` as make runs it, without its slow ensurepip step: the same bundled pip and
    # setuptools wheels are installed next (redshift-connector needs setuptools, which only they give).
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", "--clear", str(venv)], check=True)
    bundled = sorted(str(path) for path in (Path(sysconfig.get_path("stdlib")) / "ensurepip" / "_bundled").glob("*.whl"))
    python = str(venv / "bin" / "python")
    for what in (bundled, *(["-r", str(ROOT / name)] for name in install_order(stamp, RULES))):
        command = [str(UV), "pip", "install", "--quiet", "--no-deps", "--python", python, *what]
        done = subprocess.run(command, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
    check = subprocess.run([str(UV), "pip", "check", "--python", python], capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, f"make {stamp}'s set {install_order(stamp, RULES)}:\n{check.stdout}{check.stderr}"


def test_a_distribution_pinned_in_two_files_has_one_version():
    """make test installs every file into one venv: two pins of one name must agree, or the later wins unseen."""
    versions: dict[str, set[str]] = {}
    for path in ROOT.glob("requirements*.txt"):
        for line in path.read_text().splitlines():
            if "==" in (pin := line.split("#")[0].strip()):
                name, version = pin.split("==", 1)
                versions.setdefault(re.sub(r"[-_.]+", "-", name).lower(), set()).add(version.strip())
    assert {name: found for name, found in versions.items() if len(found) > 1} == {}
