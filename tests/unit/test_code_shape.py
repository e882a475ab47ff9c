"""The shipped code stays readable: no function in plugins/ longer than a screen."""

from __future__ import annotations

import ast

from tests.session import ROOT

MAX_FUNCTION_LINES = 60


def test_no_function_in_plugins_is_longer_than_60_lines():
    too_long = []
    for path in sorted((ROOT / "plugins").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    too_long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({lines} lines)")
    assert not too_long, too_long


def test_each_package_docstring_names_its_modules():
    """A newcomer reads a package's __init__ to find where a change goes: it names every module."""
    unnamed = []
    for init in sorted((ROOT / "plugins" / "sparkify").rglob("__init__.py")):
        folder = init.parent
        if "vendor" in folder.parts:
            continue
        doc = ast.get_docstring(ast.parse(init.read_text())) or ""
        modules = [p.stem for p in folder.glob("*.py") if p.stem != "__init__"]
        modules += [p.name for p in folder.iterdir() if (p / "__init__.py").exists() and p.name != "vendor"]
        unnamed += [f"{folder.relative_to(ROOT)}: {m}" for m in sorted(modules) if f"``{m}``" not in doc]
    assert not unnamed, unnamed
