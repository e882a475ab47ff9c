"""The one loader of the project's SQL files (outside Airflow's own templating of operator SQL).

Files under sql/ are Jinja templates rendered with values from code only (a COPY's
authorization clause, for instance); run-time values always travel as bind parameters.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any


@lru_cache(maxsize=4)
def _environment(folder: str):
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    return Environment(loader=FileSystemLoader(folder), undefined=StrictUndefined, keep_trailing_newline=True, autoescape=False)


def sql_file(name: str, **context) -> str:
    """The text of sql/<name>, rendered with ``context``; names the file when it is missing."""
    from jinja2 import TemplateNotFound

    from sparkify.settings import sql_dir

    folder = sql_dir()
    try:
        return _environment(str(folder)).get_template(Path(name).as_posix()).render(**context)
    except TemplateNotFound:
        raise FileNotFoundError(f"SQL file {folder / name} does not exist.") from None


def split_statements(sql: str) -> list[str]:
    """Split a SQL script into statements, dropping empty ones and comment-only ones."""
    return list(_split(sql))


@lru_cache(maxsize=256)
def _split(sql: str) -> tuple[str, ...]:
    """common-sql's split (sqlparse), once per script text: the scripts a process runs are few and
    the same every day (a day's values are bind parameters, its schema the search_path), and
    sqlparse takes about 30 ms a script (py-spy, a demo day: 0.5 s of its 6 s)."""
    from airflow.providers.common.sql.hooks.sql import DbApiHook

    return tuple(s.strip() for s in DbApiHook.split_sql_string(sql, strip_semicolon=True) if s.strip())


def run_script(conn, sql: str, parameters: Mapping[str, Any] | None) -> list[int]:
    """Run every statement of a script on one connection; returns each statement's rowcount."""
    counts = []
    with conn.cursor() as cur:
        for statement in split_statements(sql):
            uses_params = "%(" in statement
            cur.execute(statement, parameters if uses_params else None)
            counts.append(cur.rowcount)
    return counts
