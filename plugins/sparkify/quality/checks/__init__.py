"""Checks over history and evidence: pure functions on plain values (no SQL, no GX, no warehouse).

- ``history``: gx/history.toml's settings, each metric's baseline and robust range, the history
  suite's run-time parameters and severities;
- ``drift``: a day's top-level lake fields against its baseline (new and gone fields);
- ``profile``: a table's profile on one day (rows; per column nulls, distinct values, range, few values);
- ``suggest``: expectations suggested from a table's daily profiles, each with its evidence;
- ``backtest``: an expectation's verdict on a past day, decided from that day's profile;
- ``slo``: gx/slo.toml's quality SLOs per table, each day's outcome and the error budget.

The store (quality.store) reads their inputs; the GX room (quality.gx.marks) writes what they
found into GX's results.
"""
