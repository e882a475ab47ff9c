"""make suggest, make backtest and make promote: authoring from the stored evidence, on the
warehouse that make run and make airflow use (the embedded one unless AIRFLOW_CONN_SPARKIFY_WAREHOUSE
names another)."""

from __future__ import annotations

import json
from pathlib import Path

from sparkify.local.airflow_home import use_warehouse_env


def suggest(table: str, *, days: int, out: str | None) -> int:
    from sparkify.quality.gx import authoring
    from sparkify.settings import gx_dir

    use_warehouse_env()
    try:
        suggested = authoring.suggest(table, days=days)
    except LookupError as err:
        print(f"make suggest: {err}")
        return 1
    print(authoring.suggestion_text(suggested))
    if not suggested.days:
        return 1
    path = Path(out) if out else gx_dir() / authoring.DRAFTS / f"{table}_suggested.json"
    draft = authoring.draft_json(suggested, name=path.stem)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(draft, indent=2) + "\n")
    print(f"\n{len(draft['expectations'])} expectation(s) written to {path} (each a warning; edit, then make backtest SUITE={path})")
    return 0


def backtest(spec: str, *, days: int, json_out: str | None) -> int:
    from sparkify.names import suites
    from sparkify.quality.gx import backtest as bt

    use_warehouse_env()
    try:
        suite = bt.load(spec)
    except bt.SuiteError as err:
        print(f"make backtest: {err}")
        return 1
    result = bt.run(suite, days=days)
    if not result["days"]:
        print(f"make backtest: no day of {suite.table!r} has a stored profile yet (make run keeps one per day)")
        return 1
    print(bt.grid(result))
    main = suite.meta.get("into") or suite.table
    if not suite.committed and main in suites():
        committed = bt.load(main)
        print()
        print("\n".join(bt.diff(suite, committed, result, bt.run(committed, days=days))))
    if json_out:
        Path(json_out).parent.mkdir(parents=True, exist_ok=True)
        Path(json_out).write_text(json.dumps(result, indent=2, default=str) + "\n")
        print(f"\nWritten {json_out}")
    return 0


def promote(draft: str, *, into: str | None, critical: str, replace: str, drop: str, yes: bool) -> int:
    """Show the promotion's diff, then write it (asked on a terminal; YES=1 elsewhere)."""
    import sys

    from sparkify.quality.gx import authoring

    try:
        promotion = authoring.plan_promotion(
            draft, into=into, critical=_numbers(critical, "CRITICAL"), replace=_numbers(replace, "REPLACE"), drop=_names(drop)
        )
    except (ValueError, LookupError) as err:
        print(f"make promote: {err}")
        return 1
    print("\n".join(promotion.lines))
    if not (promotion.added or promotion.replaced or promotion.dropped or len(promotion.files) > 1):
        print("nothing to promote")
        return 0
    if not yes:
        if not sys.stdin.isatty():
            print("not written: run again with YES=1 to write these changes")
            return 1
        if input("write these changes? [y/N] ").strip().lower() != "y":
            print("not written")
            return 1
    for path in authoring.write_promotion(promotion):
        print(f"written {path}")
    return 0


def _numbers(text: str, setting: str) -> list[int]:
    items = text.replace(",", " ").split()
    bad = [item for item in items if not item.isdigit()]
    if bad:
        raise ValueError(f"{setting}={text!r}: expectation numbers of the draft, as listed (1, 2, ...), got {', '.join(bad)}")
    return [int(item) for item in items]


def _names(text: str) -> list[str]:
    return [item.strip() for item in text.split(";") if item.strip()] if ";" in text else text.split()
