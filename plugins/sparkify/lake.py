"""The data lake: one place that turns a lake root (folder or s3:// URL) into readable paths."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

EVENTS_JSONPATHS_KEY = "log_json_path.json"
SONG_PREFIX = "song_data"


def lake_path(root: str, *, aws_conn_id: str | None = None):
    """Return an ObjectStoragePath for a lake root given as a folder, file:// or s3:// URL."""
    from airflow.sdk import ObjectStoragePath

    root = (root or "").strip()
    if not root:
        raise ValueError(
            "The lake root is empty: set the Airflow Variable 'sparkify_lake' (AIRFLOW_VAR_SPARKIFY_LAKE) to a folder or an s3:// URL."
        )
    if root.startswith("s3://"):
        return ObjectStoragePath(root, conn_id=aws_conn_id)
    if "://" in root and not root.startswith("file://"):
        raise ValueError(f"Unsupported lake root {root!r}: use a folder, file:// or s3:// URL.")
    folder = Path(root.removeprefix("file://")).expanduser().resolve()
    if not folder.is_dir():
        raise FileNotFoundError(f"The lake root {folder} is not a folder.")
    return ObjectStoragePath(folder.as_uri())


def events_key(day: date | str) -> str:
    """Lake key of one day's event log, e.g. log_data/2018/11/2018-11-01-events.json."""
    d = date.fromisoformat(str(day)[:10])
    return f"log_data/{d:%Y}/{d:%m}/{d.isoformat()}-events.json"


_JSONPATH_STEP = re.compile(r"\[\s*'([^']*)'\s*\]|\[\s*\"([^\"]*)\"\s*\]|\[(\d+)\]|\.([A-Za-z_][\w]*)")


def parse_jsonpath(expr: str) -> tuple[str | int, ...]:
    """Parse a Redshift JSONPaths expression ($['a'], $.a.b, $['a'][0]) into its steps."""
    text = expr.strip()
    if not text.startswith("$"):
        raise ValueError(f"JSONPath {expr!r} must start with '$'.")
    steps: list[str | int] = []
    pos = 1
    while pos < len(text):
        m = _JSONPATH_STEP.match(text, pos)
        if not m:
            raise ValueError(f"JSONPath {expr!r}: cannot read from position {pos}.")
        quoted1, quoted2, index, dotted = m.groups()
        if index is not None:
            steps.append(int(index))
        else:
            steps.append(next(s for s in (quoted1, quoted2, dotted) if s is not None))
        pos = m.end()
    if not steps:
        raise ValueError(f"JSONPath {expr!r} selects the whole record; name a field.")
    return tuple(steps)


def read_jsonpaths(text: str, *, source: str) -> list[tuple[str | int, ...]]:
    """Read a JSONPaths document ({"jsonpaths": [...]}) into a list of parsed paths."""
    try:
        doc = json.loads(text)
        paths = doc["jsonpaths"]
    except (ValueError, KeyError, TypeError) as err:
        raise ValueError(f"{source}: not a JSONPaths file ({err}).") from err
    if not isinstance(paths, list) or not paths:
        raise ValueError(f"{source}: 'jsonpaths' must be a non-empty list.")
    return [parse_jsonpath(p) for p in paths]


def extract(record: Any, path: tuple[str | int, ...]) -> Any:
    """Follow a parsed JSONPath into a record; a missing step gives None (as Redshift COPY does)."""
    value = record
    for step in path:
        if isinstance(step, int):
            if not isinstance(value, list) or step >= len(value):
                return None
        elif not isinstance(value, dict):
            return None
        value = value[step] if isinstance(step, int) else value.get(step)
    return value


def iter_song_files(root) -> Iterator:
    """Every song file under song_data/, in a stable order."""
    base = root / SONG_PREFIX
    if not base.exists():
        raise FileNotFoundError(f"No song_data/ folder under the lake root {root}.")
    return iter(sorted(base.rglob("*.json"), key=str))
