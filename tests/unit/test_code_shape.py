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
