"""Helpers to run the real DAG on the test servers (the fixtures are in tests/conftest.py)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from sparkify.local import runner
from sparkify.names import TABLES
from sparkify.warehouse.connection import transaction
from sparkify.warehouse.scripts import run_script
from sparkify.warehouse.wap import warehouse_ddl
from tests.session import SESSION_DIR


def use_warehouse(server) -> None:
    os.environ["AIRFLOW_CONN_SPARKIFY_WAREHOUSE"] = server.connection_json()


def run_pipeline(
    server, lake: Path | str, start: str, end: str, *, fresh: bool, tag: str, conf: dict | None = None, jobs: int = 1,
    backwards: bool = False,
) -> tuple[int, dict]:  # fmt: skip
    """Run the real DAG day by day (runner.run); returns the exit status and the run summary."""
    use_warehouse(server)
    summary_path = SESSION_DIR / f"summary-{tag}.json"
    code = runner.run(str(lake), start, end, fresh=fresh, summary_path=summary_path, conf=conf, jobs=jobs, backwards=backwards)
    return code, json.loads(summary_path.read_text())


def reset_warehouse(server) -> None:
    """Empty warehouse with the project's tables (for tests that break the data on purpose)."""
    use_warehouse(server)
    runner.fresh_start("sparkify_warehouse")
    with transaction("sparkify_warehouse") as (conn, dialect):
        run_script(conn, warehouse_ddl(dialect), None)


def execute(server, sql: str, params=None) -> list[tuple]:
    import psycopg2

    with psycopg2.connect(server.dsn()) as conn, conn.cursor() as cur:
        cur.execute(sql, params)
        rows = cur.fetchall() if cur.description else []
    conn.close()
    return rows


def checksums(server) -> dict[str, tuple[int, str]]:
    """Row count and an order-independent md5 of every row, per table."""
    result = {}
    for table in TABLES:
        ((count, digest),) = execute(
            server, f"select count(*), md5(coalesce(string_agg(t::text, '|' order by t::text), '')) from {table} as t"
        )
        result[table] = (count, digest)
    return result


def on_run_table(server, table: str, function: str, body: str) -> None:
    """Break what a run writes on purpose: a row trigger (plpgsql ``body``) on the run schema's
    ``table``, attached by an event trigger whenever a run creates that table (each run creates
    its schema afresh). reset_warehouse removes both (they live in schema public)."""
    execute(
        server,
        f"""
        create function public.{function}() returns trigger language plpgsql as $$ {body} $$;
        create function public.attach_{function}() returns event_trigger language plpgsql as $$
        declare obj record;
        begin
            for obj in select * from pg_event_trigger_ddl_commands() where command_tag = 'CREATE TABLE' loop
                if obj.object_identity like 'wap\\_%.{table}' then
                    execute format('create trigger {function} before insert on %s for each row execute function public.{function}()',
                                   obj.object_identity);
                end if;
            end loop;
        end $$;
        create event trigger attach_{function} on ddl_command_end execute function public.attach_{function}();
        select 1""",
    )


def sample_with_a_bad_level(target: Path, day: str, level: str = "premium") -> Path:
    """A copy of the public sample whose ``day`` has one NextSong event with an unknown ``level``
    (a critical failure of staging_events' level domain); the other files are the sample's own."""
    import shutil

    from tests.session import SAMPLE_LAKE

    if not target.exists():
        shutil.copytree(SAMPLE_LAKE, target)
    day_file = target / "log_data" / day[:4] / day[5:7] / f"{day}-events.json"
    events = [json.loads(line) for line in day_file.read_text().splitlines() if line.strip()]
    next(e for e in events if e["page"] == "NextSong")["level"] = level
    day_file.write_text("".join(json.dumps(e) + "\n" for e in events))
    return target


# Markup and script in lake values: each must reach every page as text and never run.
PAYLOADS = {
    "img": """<img src=x onerror="document.title='XSS-img'+document.cookie">""",
    "script": """</script><script>document.title='XSS-script'</script>""",
    "svg": """<svg onload="document.title='XSS-svg'"></svg>""",
    "javascript_url": """<a id="xss-link" href="javascript:document.title='XSS-href'">x</a>""",
    "quotes": """"'><img src=y onerror="document.title='XSS-quotes'">""",
}


def add_payloads(day_file: Path) -> None:
    """Put PAYLOADS into one day's event log: the levels of its first NextSong events (the level
    domain check lists them), the user_id of an event moved outside the day (the day-window check
    lists its row), and a malformed line carrying markup (it goes to the quarantine)."""
    events = [json.loads(line) for line in day_file.read_text().splitlines() if line.strip()]
    plays = [e for e in events if e["page"] == "NextSong"]
    for event, payload in zip(plays, PAYLOADS.values(), strict=False):
        event["level"] = payload
    outside = dict(plays[-1], userId=PAYLOADS["svg"], ts=plays[-1]["ts"] - 2 * 86_400_000, itemInSession=999)
    lines = [json.dumps(e) for e in events] + [json.dumps(outside), '{"broken": "' + PAYLOADS["script"]]
    day_file.write_text("\n".join(lines) + "\n")


def lake_with_payloads(target: Path, day: str) -> Path:
    """A generated one-day lake carrying PAYLOADS (add_payloads), and a song_id with markup shared
    by two song files (the uniqueness warning of staging_songs lists it)."""
    from sparkify.local.generator import generate

    generate(target, seed=13, songs=20, users=8, days=1, events=60, start=day)
    add_payloads(target / "log_data" / day[:4] / day[5:7] / f"{day}-events.json")
    for path in sorted((target / "song_data").rglob("*.json"))[:2]:
        song = json.loads(path.read_text())
        song["song_id"] = PAYLOADS["quotes"]
        path.write_text(json.dumps(song))
    return target


def page_text(page: Path) -> str:
    """A Data Docs page's visible text: tags dropped, entities decoded, white space collapsed."""
    import html
    import re

    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.read_text(encoding="utf-8"))))
