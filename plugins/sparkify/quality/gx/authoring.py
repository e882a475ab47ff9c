"""Authoring, in the notebooks and make suggest/promote: draft suites and their validation
definitions (never over a suite the pipeline runs), suites suggested from the stored daily
profiles (quality.checks.suggest), and a reviewed draft promoted into the committed gx/ project:
into a table's suite, or as a new suite that the DAG runs at its next parse."""

from __future__ import annotations

import importlib.metadata
import json
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
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
    from great_expectations.expectations.metadata_types import FailureSeverity

    # The suggestions the committed suites have already are listed in meta, not repeated.
    committed = [{"type": s.type, "kwargs": s.kwargs} for s in suggested.suggestions if s.committed]
    meta = {"table": suggested.table, "suggested_from": suggested.days, "already_committed": committed}
    suite = gx.ExpectationSuite(name=name, meta=meta)
    for s in suggested.suggestions:
        if s.committed:
            continue
        meta = {"evidence": s.evidence, **({"differs_from_committed": s.differs} if s.differs else {})}
        config = ExpectationConfiguration(type=s.type, kwargs=s.kwargs, meta=meta, severity=FailureSeverity.WARNING)
        suite.add_expectation_configuration(config)
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


# make promote ------------------------------------------------------------------------------------
_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")


@dataclass
class Promotion:
    """What promoting a draft does: the lines of its diff, and the files it writes."""

    into: str
    table: str
    lines: list[str] = field(default_factory=list)
    files: dict[Path, dict[str, Any]] = field(default_factory=dict)  # path -> JSON written
    added: int = 0
    replaced: int = 0
    dropped: int = 0


def plan_promotion(
    draft_path: str, *, into: str | None = None, critical: Iterable[int] = (), replace: Iterable[int] = (), drop: Iterable[str] = ()
) -> Promotion:
    """Merge the reviewed draft into the committed suite ``into`` (default: the draft's meta "into",
    else its table's suite), or into a new suite of that table: new expectations are added (a
    warning unless the draft says critical or its number is in ``critical``); one whose type and
    column the suite has with other arguments replaces it only when its number is in ``replace``;
    a committed expectation goes only when ``drop`` names it (its id, or its label as listed)."""
    from sparkify.names import suite_table
    from sparkify.quality.gx.backtest import load

    draft = load(draft_path)
    if draft.committed:
        raise PipelineSuiteError(f"{draft_path} is a committed suite; promote a draft file")
    into = into or draft.meta.get("into") or draft.table
    if not _NAME.fullmatch(into):
        raise ValueError(f"INTO={into!r}: a suite name is lower-case letters, digits and _ (at most 63), starting with a letter")
    if into in suites() and suite_table(into) != draft.table:
        raise ValueError(f"{into!r} checks {suite_table(into)!r}, not the draft's table {draft.table!r}")
    promotion = Promotion(into=into, table=draft.table)
    suite = _committed_suite(into, draft.table, promotion)
    _merge(suite, draft.expectations, promotion, set(critical), set(replace))
    _drop(suite, set(drop), promotion)
    path = gx_dir() / "expectations" / f"{into}.json"
    promotion.files[path] = suite
    return promotion


def _committed_suite(into: str, table: str, promotion: Promotion) -> dict[str, Any]:
    path = gx_dir() / "expectations" / f"{into}.json"
    if into in suites():
        suite = json.loads(path.read_text())
        promotion.lines.append(f"into the committed suite {into!r} ({len(suite['expectations'])} expectations, table {table})")
        return suite
    if path.exists() or (gx_dir() / "validation_definitions" / f"{into}.json").exists():
        raise PipelineSuiteError(
            f"gx/expectations/{into}.json or its validation definition exists without a checkpoint; remove it or choose another INTO"
        )
    if table not in suites():
        raise ValueError(f"a new suite runs beside its table's own suite, and {table!r} has none in gx/checkpoints/")
    promotion.lines.append(f"a new suite {into!r} for {table}: gx/expectations, gx/validation_definitions and gx/checkpoints/{into}.json;")
    promotion.lines.append(f"  the DAG runs it as validate_{into} after {table}'s load (or staging), at its next parse")
    suite_id = str(uuid.uuid4())
    _new_files(into, table, promotion, suite_id)
    version = importlib.metadata.version("great-expectations")
    return {
        "expectations": [],
        "id": suite_id,
        "meta": {"great_expectations_version": version, "table": table},
        "name": into,
        "notes": None,
    }


def _new_files(into: str, table: str, promotion: Promotion, suite_id: str) -> None:
    """The validation definition and checkpoint of a new suite, made from its table's own."""
    definition = json.loads((gx_dir() / "validation_definitions" / f"{table}.json").read_text())
    definition = {**definition, "id": str(uuid.uuid4()), "name": into, "suite": {"id": suite_id, "name": into}}
    checkpoint = json.loads((gx_dir() / "checkpoints" / f"{table}.json").read_text())
    checkpoint = {**checkpoint, "id": str(uuid.uuid4()), "name": into, "validation_definitions": [{"id": definition["id"], "name": into}]}
    promotion.files[gx_dir() / "validation_definitions" / f"{into}.json"] = definition
    promotion.files[gx_dir() / "checkpoints" / f"{into}.json"] = checkpoint


def _merge(suite: dict[str, Any], drafted: list[dict[str, Any]], promotion: Promotion, critical: set[int], replace: set[int]) -> None:
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration
    from great_expectations.expectations.metadata_types import FailureSeverity

    from sparkify.quality.checks.suggest import key
    from sparkify.quality.gx.backtest import label

    for n, e in enumerate(drafted, start=1):
        kwargs = dict(e.get("kwargs") or {})
        severity = "critical" if n in critical else str(e.get("severity") or "warning")
        if severity not in ("critical", "warning", "info"):
            raise ValueError(f"expectation #{n} ({label(e)}): severity {severity!r} is not critical, warning or info")
        # GX refuses a type or arguments it does not know here, before anything is written.
        ExpectationConfiguration(type=e["type"], kwargs=kwargs, severity=FailureSeverity(severity)).to_domain_obj()
        same = [c for c in suite["expectations"] if key(c) == key(e)]
        if any((c.get("kwargs") or {}) == kwargs for c in same):
            promotion.lines.append(f"  = #{n} {label(e)}: already in {promotion.into!r}, left as it is")
            continue
        if same and n not in replace:
            promotion.lines.append(
                f"  ! #{n} {label(e)}: {promotion.into!r} has it with {json.dumps(same[0].get('kwargs'))}; kept (REPLACE={n} replaces it)"
            )
            continue
        entry = {"id": str(uuid.uuid4()), "kwargs": kwargs, "meta": dict(e.get("meta") or {}), "severity": severity, "type": e["type"]}
        if e.get("description"):
            entry["description"] = e["description"]
        if same:
            entry["id"] = same[0].get("id") or entry["id"]
            suite["expectations"][suite["expectations"].index(same[0])] = entry
            promotion.replaced += 1
            promotion.lines.append(f"  ~ #{n} {label(e)} [{severity}]: {json.dumps(same[0].get('kwargs'))} -> {json.dumps(kwargs)}")
        else:
            suite["expectations"].append(entry)
            promotion.added += 1
            promotion.lines.append(f"  + #{n} {label(e)} {json.dumps({k: v for k, v in kwargs.items() if k != 'column'})} [{severity}]")


def _drop(suite: dict[str, Any], drop: set[str], promotion: Promotion) -> None:
    from sparkify.quality.gx.backtest import label

    kept, named = [], set()
    for e in suite["expectations"]:
        names = {str(e.get("id")), label(e)} & drop
        if names:
            named |= names
            promotion.dropped += 1
            promotion.lines.append(f"  - {label(e)} [{e.get('severity')}]: dropped, as DROP asked")
        else:
            kept.append(e)
    unknown = drop - named
    if unknown:
        raise ValueError(f"DROP names no expectation of {promotion.into!r}: {', '.join(sorted(unknown))} (use an id or a label as listed)")
    suite["expectations"] = kept


def write_promotion(promotion: Promotion) -> list[Path]:
    """Write the promotion's files (GX's layout: keys sorted, two-space indent)."""
    for path, content in promotion.files.items():
        path.write_text(json.dumps(content, indent=2, sort_keys=True) + "\n")
    return list(promotion.files)
