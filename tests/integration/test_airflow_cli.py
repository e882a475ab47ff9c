"""The README's Airflow commands work as written from the project root, after its one-line set-up."""

from __future__ import annotations

import os
import re
import subprocess

from tests.session import ROOT, SAMPLE_LAKE, SESSION_DIR


def readme_commands() -> list[str]:
    """The `airflow ...` shell lines of the README's fenced blocks."""
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)```", text, re.S)
    return [line.split("#")[0].strip() for block in blocks for line in block.splitlines() if line.strip().startswith("airflow ")]


def test_the_documented_dags_test_and_backfill_commands_run_as_written():
    """The set-up line alone brings the venv's airflow, the warehouse connection (its embedded
    server, started) and the lake: `airflow dags test` runs a day to success, and `backfill create`
    queues its runs."""
    from sparkify.local import embedded

    commands = readme_commands()
    backfill = "airflow backfill create --dag-id sparkify --from-date 2018-11-01 --to-date 2018-11-02"
    dags_test = "airflow dags test sparkify 2018-11-05"
    assert backfill in commands and dags_test in commands
    setup = 'eval "$(make -s airflow-env)"'
    assert setup in (ROOT / "README.md").read_text()
    home = SESSION_DIR / "airflow-cli"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env["SPARKIFY_AIRFLOW_HOME"] = str(home)  # the project's .airflow/, moved to the test's folder
    env["PATH"] = "/usr/bin:/bin"  # no venv on PATH: the set-up line must bring the venv's airflow
    env["SPARKIFY_WAREHOUSE_DIR"] = str(SESSION_DIR / "warehouse-cli")  # the project's .warehouse/, moved here
    env["AIRFLOW_VAR_SPARKIFY_LAKE"] = str(SAMPLE_LAKE)  # no demo lake in a test: the sample's day
    env["AIRFLOW_VAR_SPARKIFY_DOCS"] = str(SESSION_DIR / "docs-cli")
    script = f"set -e\n{setup}\n{dags_test}\n{backfill}\nairflow dags list-runs sparkify -o plain\n"
    try:
        done = subprocess.run(["bash", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    finally:
        embedded.stop(SESSION_DIR / "warehouse-cli" / "pgdata")
    assert done.returncode == 0, done.stderr[-3000:]
    runs = [line for line in done.stdout.splitlines() if "backfill__" in line]
    assert len(runs) == 2, done.stdout[-2000:]
    (tested,) = [line.split() for line in done.stdout.splitlines() if line.startswith("sparkify") and "manual__" in line]
    assert tested[2] == "success" and tested[4].startswith("2018-11-05"), tested
    assert (home / "airflow.db").is_file()  # the project's Airflow home, not ~/airflow
