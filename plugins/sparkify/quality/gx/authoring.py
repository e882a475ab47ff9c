"""What the authoring notebook writes into the committed gx/ project: draft suites and their
validation definitions, never over a suite or validation definition the pipeline runs."""

from __future__ import annotations

import json
from typing import Any

from sparkify.names import suites
from sparkify.settings import gx_dir


class PipelineSuiteError(ValueError):
    """A draft was given the name of a suite (or validation definition) the pipeline runs."""


def pipeline_names() -> dict[str, str]:
    """{name: the committed file that owns it}: every suite with a checkpoint in gx/checkpoints/,
    and every validation definition a committed checkpoint runs."""
    owned: dict[str, str] = {}
    for name in suites():
        owner = f"gx/checkpoints/{name}.json"
        owned[name] = owner
        for definition in json.loads((gx_dir() / "checkpoints" / f"{name}.json").read_text()).get("validation_definitions") or []:
            owned.setdefault(definition["name"], owner)
    return owned


def refuse_pipeline_name(name: str) -> None:
    """PipelineSuiteError when ``name`` belongs to the pipeline; the message says what to do instead."""
    owner = pipeline_names().get(name)
    if owner is None:
        return
    path = gx_dir() / "expectations" / f"{name}.json"
    count = len(json.loads(path.read_text()).get("expectations") or []) if path.is_file() else 0
    raise PipelineSuiteError(
        f"{name!r} is a suite the pipeline runs ({owner}; gx/expectations/{name}.json holds {count} expectations). "
        f"A draft under that name would replace them. Give the draft its own name (for example {name + '_draft'!r}); "
        f"to add a check to {name!r}, open it with context.suites.get({name!r}), add the expectation and save it: "
        "that keeps every expectation already there (docs/data-quality.md, 'Adding a check to a pipeline suite')."
    )


def draft_suite(ctx: Any, name: str, *, table: str) -> Any:
    """A new, empty draft suite ``name`` for ``table`` (an earlier draft of that name is replaced)."""
    import great_expectations as gx

    refuse_pipeline_name(name)
    return ctx.suites.add_or_update(gx.ExpectationSuite(name=name, meta={"table": table}))


def draft_validation(ctx: Any, suite: Any, batch_definition: Any) -> Any:
    """The validation definition of a draft suite, named after it, saved in gx/validation_definitions/."""
    import great_expectations as gx

    refuse_pipeline_name(suite.name)
    return ctx.validation_definitions.add_or_update(gx.ValidationDefinition(name=suite.name, data=batch_definition, suite=suite))


# make suggest ------------------------------------------------------------------------------------
DRAFTS = "drafts"  # gx/drafts/: suggested suites, ignored by git until promoted


def committed_expectations(table: str) -> list[dict[str, Any]]:
    """The expectations of every committed suite that checks ``table``."""
    from sparkify.names import suite_table

    found: list[dict[str, Any]] = []
    for name in suites():
        if suite_table(name) == table:
            found += json.loads((gx_dir() / "expectations" / f"{name}.json").read_text()).get("expectations") or []
    return found


def suggest(table: str, *, days: int = 30, conn_id: str | None = None):
    """What the table's profiles of the last ``days`` days that ran suggest (quality.checks.suggest)."""
    from sparkify.quality.checks.suggest import suggest as from_profiles
    from sparkify.quality.store import profiles
    from sparkify.settings import WAREHOUSE_CONN_ID
    from sparkify.warehouse.connection import transaction

    with transaction(conn_id or WAREHOUSE_CONN_ID) as (conn, _):
        history = profiles.history(conn, table, days=days)
    if not history:
        raise LookupError(
            f"No profile of {table!r} is stored: each day's validation task keeps one (dq.day_profiles). "
            "Run some days first (make run), then suggest again."
        )
    return from_profiles(table, history, committed_expectations(table))


def draft_json(suggested, *, name: str) -> dict[str, Any]:
    """The suggestions the committed suites lack, as GX 1.x saves a suite (each a warning, with
    its evidence in meta)."""
    import great_expectations as gx
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    suite = gx.ExpectationSuite(name=name, meta={"table": suggested.table, "suggested_from": suggested.days})
    for s in suggested.suggestions:
        if s.committed:
            continue
        meta = {"evidence": s.evidence, **({"differs_from_committed": s.differs} if s.differs else {})}
        suite.add_expectation_configuration(ExpectationConfiguration(type=s.type, kwargs=s.kwargs, meta=meta, severity="warning"))
    return suite.to_json_dict()


def suggestion_text(suggested) -> str:
    """The readable list: each suggestion, its evidence, and what the committed suite already has."""
    if not suggested.days:
        return f"{suggested.table}: fewer than 2 days without a critical failure; nothing to suggest from."
    lines = [f"{suggested.table}: {len(suggested.days)} day(s) of evidence, {suggested.days[0]} to {suggested.days[-1]}"]
    if suggested.left_out:
        lines.append(f"  left out (failed a critical check): {', '.join(suggested.left_out)}")
    for n, s in enumerate(suggested.suggestions, start=1):
        mark = "already committed" if s.committed else ("differs from committed " + json.dumps(s.differs) if s.differs else "new")
        args = {k: v for k, v in s.kwargs.items() if k != "column"}
        lines.append(f"  {n:>2}. {s.type}({s.column or ''}) {json.dumps(args) if args else ''}  [{mark}]")
        lines.append(f"      evidence: {_evidence(s.evidence)}")
    for column, why in suggested.skipped.items():
        lines.append(f"  no bounds for {column}: {why}")
    return "\n".join(lines)


def _evidence(evidence: dict[str, Any]) -> str:
    shown = {k: v for k, v in evidence.items() if k not in ("first_day", "last_day", "column_kind")}
    return ", ".join(f"{k} {json.dumps(v)}" for k, v in shown.items())
