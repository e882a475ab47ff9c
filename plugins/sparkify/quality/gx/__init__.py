"""The one room that imports Great Expectations (an import-linter contract keeps it so).

- ``context``: the project's File Data Context (a private copy per process) and its datasource;
- ``run``: a committed checkpoint's run, its failures detailed, the summary and the store's row;
- ``summary``: a result's summary and a failed validation's message;
- ``marks``: what the history and lake-field checks found, written into GX's result;
- ``redact``: sensitive values replaced by markers in results (gx/sensitive_columns.toml);
- ``docs``: Data Docs rendered from the store and published to a folder or s3://;
- ``offline``: Data Docs' browser assets vendored (no CDN at view time);
- ``authoring``: drafts (never written over a suite the pipeline runs), suggestions from the
  daily profiles, and promotion into the committed project;
- ``backtest``: what a suite would have said on past days (from their profiles, or through GX
  on the day's published rows);
- ``private``: every use of GX's private API, in one place, with the GX version it was checked
  on (tests/unit/quality/test_gx_private.py fails when GX changes them).
"""
