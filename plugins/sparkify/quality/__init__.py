"""Data quality, in four rooms; a change goes where its concern is:

- ``gx``: running GX (context, checkpoint runs, summaries, redaction, Data Docs rendering). The
  only code that imports ``great_expectations``;
- ``checks``: checks over history (metric ranges, lake field drift), pure functions on plain values;
- ``store``: the results store, the only code that reads or writes ``dq.*``;
- ``web``: the pages the API server serves (Data Docs app, Data quality page, access);
- ``outcome``: the typed outcome of a validation, which every room reads.

Imports run web | gx -> store -> checks (pyproject.toml's import-linter contracts). OpenLineage
is the operators' (sparkify.operators.lineage).
"""
