"""Stage raw JSON from the lake (folder or S3) into a warehouse staging table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from sparkify.names import STAGING_SOURCES
from sparkify.settings import AWS_CONN_ID, WAREHOUSE_CONN_ID
from sparkify.templates import DAY, LAKE

if TYPE_CHECKING:
    from sparkify.lake import Lake

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

        from sparkify.lake import open_lake
        from sparkify.names import run_schema
        from sparkify.quality import store
        from sparkify.staging import stage
        from sparkify.staging.fields import census
        from sparkify.warehouse.connection import transaction

        lake = open_lake(self.lake_root, aws_conn_id=self.aws_conn_id)
        # What the OpenLineage facets name as inputs: the lake's own names for the key and JSONPaths.
        self._lineage_sources = [lake.name(k) for k in (self.key, self.jsonpaths_key) if k]
        listed = self._listed(lake)
        jsonpaths = self._jsonpaths(lake)
        ndjson = self.record_format == "ndjson"
        skipped = 0
        source = STAGING_SOURCES[self.table]
        with transaction(self.conn_id, schema=run_schema(self.day)) as (conn, dialect):
            keys = [key for key, _, _ in listed]
            if self.only_changed_files:
                keys, skipped = self._changed_song_files(conn, dialect, lake, listed)
            # S3 objects are downloaded once, for PostgreSQL's COPY and the field census; Redshift's
            # COPY reads S3 itself, the census the downloaded copy.
            with lake.readable(keys) as local:
                request = self._request(lake if dialect == "redshift" else local, keys, jsonpaths, source)
                counts = stage(conn, dialect, request)
                seen = census(local, keys, ndjson=ndjson)
            if ndjson and counts.lines == 0:
                # Rolled back with the transaction: the run's schema keeps no half-staged rows.
                raise AirflowFailException(
                    f"Lake file {lake.name(self.key)} is empty (no non-blank line): nothing to load for {self.day}. "
                    "The published tables are left as they are; re-run the day once the file is complete."
                )
            # The day's top-level fields, for the schema-drift check (validate_lake_fields).
            store.save_lake_fields(conn, context["run_id"], self.day, source, seen)
        self.log.info("Staged %s: %s rows from %s file(s) under %s; %s quarantined",
                      self.table, counts.loaded, counts.files, lake.name(self.key), counts.quarantined)  # fmt: skip
        return {"table": self.table, "key": self.key, "files": counts.files, "lines": counts.lines, "rows": counts.rows,
                "loaded": counts.loaded, "blank_lines": counts.blank_lines, "quarantined": counts.quarantined,
                "unchanged_files": skipped, "fields": len(seen.fields)}  # fmt: skip

    def _request(self, lake, keys: list[str], jsonpaths, source: str):
        """What stage() is asked: Redshift's COPY reads the lake itself, PostgreSQL the local copies."""
        from sparkify.staging import StageRequest

        return StageRequest(
            table=self.table,
            lake=lake,
            key=self.key,
            keys=keys,
            ndjson=self.record_format == "ndjson",
            day=self.day,
            source=source,
            jsonpaths_key=self.jsonpaths_key,
            jsonpaths=jsonpaths,
            aws_conn_id=self.aws_conn_id,
            only_keys=self.only_changed_files,
        )

    def get_openlineage_facets_on_complete(self, task_instance):
        """OpenLineage (also on failure): the lake file or prefix and the JSONPaths file in; the run's
        staging table and its quarantine out (and the staged song files' manifest rows)."""
        from airflow.providers.openlineage.extractors import OperatorLineage

        from sparkify.names import run_schema
        from sparkify.operators import lineage

        schema = run_schema(self.day)
        outputs = [self.table, "quarantine", *(["staged_song_files"] if self.only_changed_files else [])]
        return OperatorLineage(
            inputs=[lineage.lake_object(name) for name in getattr(self, "_lineage_sources", [])],
            outputs=[lineage.table(self.conn_id, schema, name) for name in outputs],
        )

    def _listed(self, lake: Lake) -> list[tuple[str, int | None, str | None]]:
        """The files to read, as (key, size, version): the day's file, or every *.json under the prefix."""
        if self.record_format == "ndjson":
            if not lake.is_file(self.key):
                raise FileNotFoundError(
                    f"Lake file {self.key!r} not found under {lake.url} (expected {lake.name(self.key)}). "
                    "Nothing was staged; the published tables are unchanged."
                )
            return [(self.key, None, None)]
        listed: list[tuple[str, int | None, str | None]] = list(lake.list_json_versions(self.key))
        if not listed:
            raise FileNotFoundError(f"No *.json files under {lake.name(self.key)}.")
        return listed

    def _jsonpaths(self, lake: Lake) -> list[tuple] | None:
        """The parsed JSONPaths file, or None (columns by name)."""
        from sparkify.lake import read_jsonpaths

        if not self.jsonpaths_key:
            return None
        if not lake.is_file(self.jsonpaths_key):
            raise FileNotFoundError(f"JSONPaths file {self.jsonpaths_key!r} not found under {lake.url}.")
        return read_jsonpaths(lake.read_bytes(self.jsonpaths_key).decode("utf-8"), source=lake.name(self.jsonpaths_key))

    def _changed_song_files(self, conn, dialect: str, lake: Lake, listed) -> tuple[list[str], int]:
        """The listed files new or changed since the published catalog's manifest, recorded as the
        run's staged files; returns (their keys, how many are unchanged)."""
        from sparkify.staging import catalog

        with conn.cursor() as cur:
            changes = catalog.delta(listed, catalog.published_manifest(cur))
            catalog.record_staged(cur, changes.changed, dialect=dialect)
        self.log.info(
            "Song files under %s: %s new or changed since the published catalog (staged), %s unchanged (skipped), "
            "%s gone from the lake (their songs stay published)",
            lake.name(self.key),
            len(changes.keys),
            changes.unchanged,
            changes.removed,
        )
        return changes.keys, changes.unchanged
