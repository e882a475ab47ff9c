"""The README and docs/ lead where they say: every relative link reaches a file (and its heading,
when it names one), every `make` target and `python -m` module they name exists, and the README
stays a newcomer's page."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from tests.session import ROOT

PAGES = [ROOT / "README.md", ROOT / "SECURITY.md", ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def anchors(page: Path) -> set[str]:
    """GitHub's anchors of a page's headings: lower case, punctuation dropped, spaces as hyphens."""
    found = set()
    for heading in re.findall(r"^#+ (.+)$", page.read_text(), re.M):
        found.add(re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-"))
    return found


def test_every_relative_link_reaches_a_file_and_its_heading():
    broken = []
    for page in PAGES:
        for target in LINK.findall(page.read_text()):
            if re.match(r"[a-z]+:", target):
                continue  # http(s), mailto: not checked here
            path, _, anchor = target.partition("#")
            file = (page.parent / path).resolve() if path else page
            if not file.exists():
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such file)")
            elif anchor and file.suffix == ".md" and anchor not in anchors(file):
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such heading)")
    assert not broken, broken


def test_every_make_target_and_module_named_exists():
    targets = set(re.findall(r"^([a-z][a-z-]*):", (ROOT / "Makefile").read_text(), re.M))
    missing = []
    for page in PAGES:
        text = page.read_text()
        for target in re.findall(r"`make (?:-s )?([a-z][a-z-]*)", text):
            if target not in targets:
                missing.append(f"{page.relative_to(ROOT)}: make {target}")
        for module in re.findall(r"python -m ((?:sparkify|tools)[\w.]*)", text):
            if importlib.util.find_spec(module) is None:
                missing.append(f"{page.relative_to(ROOT)}: python -m {module}")
    assert not missing, missing


def test_the_readme_is_short_and_links_every_topic():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 200
    for page in PAGES[1:]:
        assert page.relative_to(ROOT).as_posix() in readme, page.name
