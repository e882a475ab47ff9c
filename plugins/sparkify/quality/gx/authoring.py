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
