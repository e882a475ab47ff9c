"""Names the pipeline is built from, each written once: tables, suites, the run's schema."""

from __future__ import annotations

import re
from datetime import date

# The star schema, fact first; loads, audit copies, publish and counts all iterate this.
TABLES = ("songplays", "users", "songs", "artists", "time")
# Staging tables and the quarantine source name of each.
STAGING_SOURCES = {"staging_events": "events", "staging_songs": "songs"}
# What a run's schema holds for publish_day to move: the audit copies and the day's quarantine.
AUDITED = (*TABLES, "quarantine")

RUN_SCHEMA = re.compile(r"wap_\d{8}")


# Suites whose bounds come from the published days at run time (their tasks pass the
# expectation_parameters): the metric ranges and the lake's known fields.
PAST_DAYS_SUITES = ("history", "lake_fields")


# Suites the DAG wires by name, each with inputs of its own: the staged lines' accounting
# (quarantine, with its parameters), the fact against every dimension (referential_integrity) and
# the two PAST_DAYS_SUITES. Every other committed suite is a plain table validation (table_suites).
SPECIAL_SUITES = ("quarantine", "referential_integrity", *PAST_DAYS_SUITES)


def table_suites() -> dict[str, str]:
    """{suite: table} of the plain table validations: every committed suite but SPECIAL_SUITES,
    with the staged or loaded table it checks (its meta "table"). Read from gx/'s files only (the
    DAG calls it at parse time: no GX import, no database)."""
    found = {}
    for suite in suites():
        if suite in SPECIAL_SUITES:
            continue
        table = suite_table(suite)
        if table not in TABLES and table not in STAGING_SOURCES:
            raise ValueError(
                f"gx/expectations/{suite}.json: its meta 'table' is {table!r}, which the DAG neither stages nor loads "
                f"(tables: {', '.join((*STAGING_SOURCES, *TABLES))})"
            )
        found[suite] = table
    return found


def suites() -> tuple[str, ...]:
    """Suites with a committed checkpoint (gx/checkpoints/<suite>.json): a suite is that file plus a task."""
    from sparkify.settings import gx_dir

    return tuple(sorted(p.stem for p in (gx_dir() / "checkpoints").glob("*.json")))


def suite_table(suite: str) -> str:
    """The table a suite validates: its meta "table" in gx/expectations/<suite>.json, else its name."""
    import json

    from sparkify.settings import gx_dir

    path = gx_dir() / "expectations" / f"{suite}.json"
    meta = json.loads(path.read_text()).get("meta") or {} if path.is_file() else {}
    return str(meta.get("table") or suite)


def run_schema(day) -> str:
    """The schema of the run for ``day`` (YYYY-MM-DD): wap_YYYYMMDD (write-audit-publish).

    Made from the run's logical date only, never from conf, params or Variables; anything that
    is not a calendar date is refused.
    """
    try:
        parsed = date.fromisoformat(str(day))
    except ValueError:
        raise ValueError(f"The run's day must be a date YYYY-MM-DD, got {day!r}.") from None
    return f"wap_{parsed:%Y%m%d}"


def check_run_schema(schema: str) -> str:
    """``schema`` itself when it is a run schema (wap_YYYYMMDD); ValueError otherwise."""
    if not RUN_SCHEMA.fullmatch(schema or ""):
        raise ValueError(f"{schema!r} is not a run schema (wap_YYYYMMDD).")
    return schema
