"""The project's own Airflow: its home (.airflow/), environment, metadata DB and warehouse."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from sparkify.settings import LAKE_VARIABLE, WAREHOUSE_CONN_ID, project_root


def airflow_home() -> Path:
    """The project's Airflow home: .airflow/ in the project folder (SPARKIFY_AIRFLOW_HOME overrides it)."""
    configured = os.environ.get("SPARKIFY_AIRFLOW_HOME")
    return Path(configured) if configured else project_root() / ".airflow"


UI_PID_FILE = "make-airflow.pid"  # in the Airflow home while make airflow runs on it


def make_airflow_pid(home: Path) -> int | None:
    """The process id of a make airflow that runs on this Airflow home, if one does."""
    try:
        pid = int((home / UI_PID_FILE).read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:  # alive, another user's
        return pid
    return pid


def warehouse_dir() -> Path:
    """The embedded warehouse's folder: .warehouse/ in the project folder (SPARKIFY_WAREHOUSE_DIR overrides it)."""
    configured = os.environ.get("SPARKIFY_WAREHOUSE_DIR")
    return Path(configured) if configured else project_root() / ".warehouse"


def airflow_env(lake: str | None = None, warehouse_conn: str | None = None) -> dict[str, str]:
    """Environment for Airflow in this project: its home, dags, plugins, connection, lake."""
    env = {
        "AIRFLOW_HOME": str(airflow_home()),
        "AIRFLOW__CORE__DAGS_FOLDER": str(project_root() / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(project_root() / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "NO_PROXY": "*",
    }
    if warehouse_conn:
        env[f"AIRFLOW_CONN_{WAREHOUSE_CONN_ID.upper()}"] = warehouse_conn
    if lake:
        env[f"AIRFLOW_VAR_{LAKE_VARIABLE.upper()}"] = lake
    return env


LINEAGE_CHOICES = ("file", "console")
TRANSPORT_SETTING = "AIRFLOW__OPENLINEAGE__TRANSPORT"


def lineage_file() -> Path:
    """Where LINEAGE=file writes the events, one JSON document per line."""
    from sparkify.settings import build_dir

    return build_dir() / "openlineage" / "events.jsonl"


def lineage_env(choice: str) -> dict[str, str]:
    """The OpenLineage provider's settings for make's LINEAGE=file or LINEAGE=console (the provider
    is off while no transport is configured). file: lineage_file(), appended to; console: each event
    logged at INFO in its task's log. Events are sent from a thread, so a slow transport does not
    hold a task. Jobs are named in the namespace "sparkify"."""
    if choice not in LINEAGE_CHOICES:
        raise ValueError(f"LINEAGE={choice!r} is not one of {', '.join(LINEAGE_CHOICES)} (or empty: off).")
    if choice == "file":
        lineage_file().parent.mkdir(parents=True, exist_ok=True)
        transport = {"type": "file", "log_file_path": str(lineage_file()), "append": True}
    else:
        transport = {"type": "console"}
    return {
        TRANSPORT_SETTING: json.dumps(transport),
        "AIRFLOW__OPENLINEAGE__NAMESPACE": "sparkify",
        "AIRFLOW__OPENLINEAGE__EXECUTE_IN_THREAD": "True",
    }


def lineage_line(env: dict[str, str]) -> str:
    """What make airflow prints about OpenLineage: where events go, or how to turn it on."""
    configured = env.get(TRANSPORT_SETTING)
    if not configured:
        return "off (LINEAGE=file or LINEAGE=console turns it on: docs/lineage.md)"
    try:
        transport = json.loads(configured)
    except ValueError:
        return f"on, transport {configured}"
    return f"on, {transport.get('type')} transport" + (f", {transport['log_file_path']}" if transport.get("log_file_path") else "")


def ensure_warehouse() -> str:
    """The warehouse connection (JSON or URI): the configured one, else the embedded server."""
    configured = os.environ.get(f"AIRFLOW_CONN_{WAREHOUSE_CONN_ID.upper()}")
    if configured:
        return configured
    from sparkify.local import embedded

    return embedded.start(warehouse_dir() / "pgdata").connection_json()


_migrated: set[str] = set()


def use_warehouse_env() -> None:
    """The warehouse connection (and the project's Airflow settings) in this process's environment,
    where not already set: for the commands that read or write the store (make suggest, make
    review, ...)."""
    for name, value in airflow_env(warehouse_conn=ensure_warehouse()).items():
        os.environ.setdefault(name, value)


def _fresh_sqlite_db(home: Path) -> Path | None:
    """The SQLite metadata DB a new Airflow home will use (Airflow's default, airflow.db in the
    home), or None when the home is not new or the environment names another database."""
    if os.environ.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN") or (home / "airflow.cfg").exists() or (home / "airflow.db").exists():
        return None
    return home / "airflow.db"


def _migrated_template() -> Path:
    """Where a freshly migrated, empty SQLite metadata DB is kept for new homes: per Airflow version
    and auth manager (the two settings that decide the tables), under the project's .airflow/."""
    import hashlib
    from importlib.metadata import version

    key = hashlib.sha256(f"{version('apache-airflow')}|{os.environ.get('AIRFLOW__CORE__AUTH_MANAGER', '')}".encode()).hexdigest()[:12]
    return airflow_home() / "migrated" / f"airflow-{version('apache-airflow')}-{key}.db"


def ensure_airflow_db(*, background: bool = False):
    """Create or upgrade the Airflow metadata database (once per process and AIRFLOW_HOME).

    With background=True it returns a callable that waits for the migration to finish, so that
    other start-up work (imports, DAG parsing) overlaps with it. A new home's SQLite database is
    a copy of one migrated before by this project with the same Airflow (about 6 s of CPU less
    than `airflow db migrate`, which starts all of Airflow); the first one is migrated and kept.
    """
    import shutil
    import subprocess

    home = os.environ.get("AIRFLOW_HOME", str(airflow_home()))
    if home in _migrated:
        return lambda: None
    Path(home).mkdir(parents=True, exist_ok=True)
    fresh = _fresh_sqlite_db(Path(home))
    template = _migrated_template()
    if fresh is not None and template.is_file():
        shutil.copyfile(template, fresh)
        _migrated.add(home)
        return lambda: None
    airflow = Path(sys.executable).with_name("airflow")
    process = subprocess.Popen(
        [str(airflow), "db", "migrate"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy()
    )

    def wait() -> None:
        _, stderr = process.communicate()
        if process.returncode != 0:
            raise RuntimeError(f"airflow db migrate failed:\n{stderr[-3000:]}")
        _migrated.add(home)
        if fresh is not None and fresh.is_file():
            template.parent.mkdir(parents=True, exist_ok=True)
            partial = template.with_name(f"{template.name}.{os.getpid()}.partial")
            shutil.copyfile(fresh, partial)
            os.replace(partial, template)  # whole or not at all, when several processes migrate at once

    if background:
        return wait
    wait()
    return lambda: None


def shell_exports() -> str:
    """Shell lines that point a terminal's ``airflow`` command at this project: its home
    (.airflow/), dags and plugins folders, the venv's airflow first on PATH, and the warehouse
    connection (the configured one, else the embedded server, started). The metadata DB is
    migrated, the DAG serialized, and the lake Variable given the demo lake when it has no value
    (in the metadata DB: the UI can change it), so ``airflow dags test`` and ``airflow backfill
    create`` work as documented."""
    import shlex
    import subprocess

    env = airflow_env(warehouse_conn=ensure_warehouse())
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    os.environ.update(env)
    ensure_airflow_db()
    subprocess.run(["airflow", "dags", "reserialize"], env=os.environ.copy(), capture_output=True, text=True, check=True)
    lines = [f"export {key}={shlex.quote(value)}" for key, value in sorted(env.items())]
    return "\n".join([*lines, default_lake_variable()])


def default_lake_variable() -> str:
    """Give the lake Variable the demo lake when it has no value (metadata DB or environment); a
    shell comment that says what was done."""
    from airflow.models import Variable

    demo = project_root() / ".lakes" / "demo"
    if os.environ.get(f"AIRFLOW_VAR_{LAKE_VARIABLE.upper()}") or Variable.get(LAKE_VARIABLE, default_var=None) is not None:
        return f"# the Variable {LAKE_VARIABLE} already has a value (Admin > Variables shows it)"
    if not (demo / "log_json_path.json").is_file():
        return f"# the Variable {LAKE_VARIABLE} has no value and there is no demo lake: make demo, or set it (airflow variables set)"
    Variable.set(LAKE_VARIABLE, str(demo))
    return f"# the Variable {LAKE_VARIABLE} set to {demo} (change it in Admin > Variables or with airflow variables set)"
