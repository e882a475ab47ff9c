"""Stage raw JSON from the lake (folder or S3) into a warehouse staging table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseOperator

from sparkify.names import STAGING_SOURCES
from sparkify.settings import AWS_CONN_ID, WAREHOUSE_CONN_ID
from sparkify.templates import DAY, LAKE

STAGING_TABLES = tuple(STAGING_SOURCES)
FORMATS = ("ndjson", "document")


class StageJsonOperator(BaseOperator):
    """Replace a staging table with the JSON records under a lake key, in one transaction.

    ``key`` is a file (one day's NDJSON log) or a prefix (every ``*.json`` below it, one object
    per file). Columns follow ``jsonpaths_key`` (a Redshift JSONPaths file in the lake, matched by
    position) or, without it, the JSON field named like each column ('auto').

    ``only_changed_files=True`` (staging_songs): only the files below the prefix that are new or
    changed since the published catalog's manifest are staged (sparkify.staging.catalog).
    """

    template_fields: Sequence[str] = ("lake_root", "key", "jsonpaths_key", "day")
    ui_color = "#dff5e3"

    def __init__(
        self,
        *,
        table: str,
        key: str,
        record_format: str = "ndjson",
        jsonpaths_key: str | None = None,
        lake_root: str = LAKE,
        day: str = DAY,
        conn_id: str = WAREHOUSE_CONN_ID,
        aws_conn_id: str = AWS_CONN_ID,
        only_changed_files: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if only_changed_files and table != "staging_songs":
            raise ValueError(f"StageJsonOperator: only_changed_files applies to staging_songs (the catalog's manifest), not {table}.")
        if table not in STAGING_TABLES:
            raise ValueError(f"StageJsonOperator: table={table!r} is not one of {', '.join(STAGING_TABLES)}.")
        if record_format not in FORMATS:
            raise ValueError(f"StageJsonOperator: record_format={record_format!r} is not one of {', '.join(FORMATS)}.")
        self.table = table
        self.key = key
        self.record_format = record_format
        self.jsonpaths_key = jsonpaths_key
        self.lake_root = lake_root
        self.day = day
        self.conn_id = conn_id
        self.aws_conn_id = aws_conn_id
        self.only_changed_files = only_changed_files

    def execute(self, context) -> dict[str, Any]:
        from airflow.sdk.exceptions import AirflowFailException

        from sparkify.lake import open_lake, read_jsonpaths
        from sparkify.names import run_schema
        from sparkify.staging import copy_to_postgres
        from sparkify.warehouse.connection import transaction

        lake = open_lake(self.lake_root, aws_conn_id=self.aws_conn_id)
        if self.record_format == "ndjson":
            if not lake.is_file(self.key):
                raise FileNotFoundError(
                    f"Lake file {self.key!r} not found under {lake.url} (expected {lake.name(self.key)}). "
                    "Nothing was staged; the published tables are unchanged."
                )
            keys = [self.key]
        else:
            listed = lake.list_json_versions(self.key)
            if not listed:
                raise FileNotFoundError(f"No *.json files under {lake.name(self.key)}.")
            keys = [key for key, _, _ in listed]
        jsonpaths = None
        if self.jsonpaths_key:
            if not lake.is_file(self.jsonpaths_key):
                raise FileNotFoundError(f"JSONPaths file {self.jsonpaths_key!r} not found under {lake.url}.")
            jsonpaths = read_jsonpaths(lake.read_bytes(self.jsonpaths_key).decode("utf-8"), source=lake.name(self.jsonpaths_key))
        ndjson = self.record_format == "ndjson"
        source = STAGING_SOURCES[self.table]
        skipped = 0
        with transaction(self.conn_id, schema=run_schema(self.day)) as (conn, dialect):
            if self.only_changed_files:
                from sparkify.staging import catalog

                with conn.cursor() as cur:
                    changes = catalog.delta(listed, catalog.published_manifest(cur))
                    catalog.record_staged(cur, changes.changed, dialect=dialect)
                keys, skipped = changes.keys, changes.unchanged
                self.log.info(
                    "Song files under %s: %s new or changed since the published catalog (staged), %s unchanged (skipped), "
                    "%s gone from the lake (their songs stay published)",
                    lake.name(self.key), len(keys), changes.unchanged, changes.removed,
                )  # fmt: skip
            if dialect == "redshift":
                from sparkify.warehouse.redshift import copy_to_redshift

                counts = copy_to_redshift(
                    conn, table=self.table, lake=lake, key=self.key, keys=keys, jsonpaths_key=self.jsonpaths_key,
                    ndjson=ndjson, aws_conn_id=self.aws_conn_id, day=self.day, source=source, only_keys=self.only_changed_files,
                )  # fmt: skip
            else:
                counts = copy_to_postgres(
                    conn, table=self.table, lake=lake, keys=keys, jsonpaths=jsonpaths, ndjson=ndjson, day=self.day, source=source
                )
            if ndjson and counts.lines == 0:
                # Rolled back with the transaction: the run's schema keeps no half-staged rows.
                raise AirflowFailException(
                    f"Lake file {lake.name(self.key)} is empty (no non-blank line): nothing to load for {self.day}. "
                    "The published tables are left as they are; re-run the day once the file is complete."
                )
        self.log.info(
            "Staged %s: %s rows from %s file(s) under %s; %s quarantined",
            self.table, counts.loaded, counts.files, lake.name(self.key), counts.quarantined,
        )  # fmt: skip
        return {
            "table": self.table,
            "key": self.key,
            "files": counts.files,
            "lines": counts.lines,
            "rows": counts.rows,
            "loaded": counts.loaded,
            "blank_lines": counts.blank_lines,
            "quarantined": counts.quarantined,
            "unchanged_files": skipped,
        }
