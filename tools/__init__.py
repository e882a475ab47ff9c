"""CI tools that never ship with the package: they need the test requirements (requirements-test.txt)."""
