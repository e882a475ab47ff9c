"""Checks over history: pure functions on plain values (no SQL, no GX, no warehouse).

- ``history``: gx/history.toml's settings, each metric's baseline and robust range, the history
  suite's run-time parameters and severities;
- ``drift``: a day's top-level lake fields against its baseline (new and gone fields).

The store (quality.store) reads their inputs; the GX room (quality.gx.marks) writes what they
found into GX's results.
"""
