"""Who may see what, through a real API server with the project's FAB auth manager
(sparkify.auth.FabAuthManager): Data Docs pages and the quality page are served only to users who
may read the sparkify DAG's task instances, and a held day's review request is answered only by
its owners.

Seven callers: admin (Admin role), reader (a role reading DAG sparkify only), restricted (a role
reading sparkify_downstream_example only), nodags (Public role, no permissions), owner and
reviewer (a role that may answer sparkify_review's HITL tasks; owner is the one the Variable
sparkify_review_owners names), and no login.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from email.message import Message
from pathlib import Path

import pytest

from sparkify.local.celery_shape import free_port
from tests.session import ROOT, SESSION_DIR

FAB = "sparkify.auth.FabAuthManager"
PAGE = "validations/songs/run-2018-11-15/20181115T000000Z/sparkify_warehouse-songs.html"
PAGE_BODY = b"<!doctype html><title>songs</title><p>songs on 2018-11-15: 71 rows</p>"
INDEX_BODY = b"<!doctype html><title>Data Docs</title><a href='validations/'>validations</a>"
STYLE_BODY = b"body { color: #263238; }"
ROLES = {"sparkify_reader": "sparkify", "other_dag_reader": "sparkify_downstream_example", "reviewer": "sparkify_review"}
USERS = {"admin": "Admin", "reader": "sparkify_reader", "restricted": "other_dag_reader", "nodags": "Public", "owner": "reviewer",
         "reviewer": "reviewer"}  # fmt: skip
REVIEW_RUN = "review__scheduled__2018-11-15T00:00:00+00:00"


def _airflow(env: dict[str, str], commands: list[list[str]]) -> None:
    """Run Airflow CLI commands one after another in one process (Airflow is imported once)."""
    script = (
        "import sys, json\n"
        "from airflow.cli import cli_parser\n"
        "parser = cli_parser.get_parser()\n"
        "for argv in json.loads(sys.argv[1]):\n"
        "    print('airflow', *argv, flush=True)\n"
        "    args = parser.parse_args(argv)\n"
        "    args.func(args)\n"
    )
    done = subprocess.run([sys.executable, "-c", script, json.dumps(commands)], env=env, capture_output=True, text=True)
    assert done.returncode == 0, f"{done.stdout[-3000:]}{done.stderr[-3000:]}"


def _request(
    url: str, token: str | None = None, accept: str = "*/*", data: dict | None = None, method: str | None = None
) -> tuple[int, bytes, Message]:
    headers = {"Accept": accept}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    body = None
    if data is not None:
        body, headers["Content-Type"] = json.dumps(data).encode(), "application/json"

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(urllib.request.Request(url, data=body, headers=headers, method=method), timeout=60) as response:
            return response.status, response.read(), response.headers
    except urllib.error.HTTPError as err:
        return err.code, err.read(), err.headers


@pytest.fixture(scope="module")
def fab_server(socket_warehouse):
    """An API server with the FAB auth manager, the project's DAGs and plugin, a published site."""
    home = SESSION_DIR / "fab-airflow"
    docs = SESSION_DIR / "fab-docs"
    for relative, body in ((PAGE, PAGE_BODY), ("index.html", INDEX_BODY), ("static/styles/site.css", STYLE_BODY)):
        (docs / relative).parent.mkdir(parents=True, exist_ok=True)
        (docs / relative).write_bytes(body)
    port = free_port()
    env = dict(
        os.environ,
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__AUTH_MANAGER=FAB,
        AIRFLOW__API__PORT=str(port),
        AIRFLOW__API__HOST="127.0.0.1",
        AIRFLOW__API__BASE_URL=f"http://localhost:{port}",
        AIRFLOW__API_AUTH__JWT_SECRET=secrets.token_urlsafe(32),
        AIRFLOW__API__SECRET_KEY=secrets.token_urlsafe(32),
        AIRFLOW__CORE__DAGS_FOLDER=str(ROOT / "dags"),
        AIRFLOW__CORE__PLUGINS_FOLDER=str(ROOT / "plugins"),
        AIRFLOW_CONN_SPARKIFY_WAREHOUSE=socket_warehouse.connection_json(),
        AIRFLOW_VAR_SPARKIFY_DOCS=str(docs),
    )
    # token_urlsafe may start with "-": the CLI gets it as --password=..., never as a separate argument.
    passwords = {user: secrets.token_urlsafe(12) for user in USERS}
    _airflow(env, [
        ["db", "migrate"],
        ["dags", "reserialize"],  # per-DAG permissions exist once the DAGs are in the database
        ["sync-perm", "--include-dags"],
        ["roles", "create", *ROLES],
        ["roles", "add-perms", *ROLES, "-r", "Task Instances", "DAG Runs", "-a", "can_read"],
        *(["roles", "add-perms", role, "-r", f"DAG:{dag_id}", "-a", "can_read"] for role, dag_id in ROLES.items()),
        # Answering a review: PUT on the DAG's HITL details (edit on the DAG and on HITL Detail).
        ["roles", "add-perms", "reviewer", "-r", "HITL Detail", "DAG:sparkify_review", "-a", "can_read", "can_edit"],
        *(["users", "create", "--username", user, f"--password={passwords[user]}", "--role", role, "--firstname", user,
           "--lastname", "test", "--email", f"{user}@example.com"] for user, role in USERS.items()),
    ])  # fmt: skip
    log = open(home / "api-server.log", "w")
    process = subprocess.Popen([str(Path(sys.executable).parent / "airflow"), "api-server"], env=env, stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while True:
        try:
            with urllib.request.urlopen(f"{base}/api/v2/monitor/health", timeout=2):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"the API server did not start: {(home / 'api-server.log').read_text()[-3000:]}")
            time.sleep(1)
    tokens = {}
    for user in USERS:
        status, body, _ = _request(f"{base}/auth/token", data={"username": user, "password": passwords[user]})
        assert status == 201, (user, status, body)
        tokens[user] = json.loads(body)["access_token"]
    yield base, tokens, env
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


def test_airflow_itself_lets_only_sparkify_readers_read_the_dag(fab_server):
    """The premise: the FAB roles give the five callers the access the other tests rely on."""
    base, tokens, _ = fab_server
    statuses = {user: _request(f"{base}/api/v2/dags/sparkify/dagRuns/~/taskInstances", token)[0] for user, token in tokens.items()}
    assert statuses == {"admin": 200, "reader": 200, "restricted": 403, "nodags": 403, "owner": 403, "reviewer": 403}
    assert _request(f"{base}/api/v2/dags/sparkify_downstream_example", tokens["restricted"])[0] == 200
    assert _request(f"{base}/api/v2/dags/sparkify")[0] == 401


@pytest.mark.parametrize("page", [PAGE, "index.html", ""])
def test_data_docs_pages_are_served_only_to_sparkify_readers(fab_server, page):
    base, tokens, _ = fab_server
    expected = (docs_body := {PAGE: PAGE_BODY, "index.html": INDEX_BODY, "": INDEX_BODY}[page])
    for user in ("admin", "reader"):
        status, body, headers = _request(f"{base}/sparkify-docs/{page}", tokens[user])
        assert (status, body) == (200, expected), user
        assert headers["Content-Security-Policy"].startswith("sandbox")
    for user in ("restricted", "nodags"):
        status, body, _ = _request(f"{base}/sparkify-docs/{page}", tokens[user])
        assert status == 403, user
        assert docs_body not in body
        detail = json.loads(body)["detail"]
        assert f"{user} may not read the task instances of DAG sparkify" in detail
    assert _request(f"{base}/sparkify-docs/{page}")[0] == 401
    status, _, headers = _request(f"{base}/sparkify-docs/{page}", accept="text/html")
    assert status == 303 and "/auth/login" in headers["location"]


def test_static_files_stay_public(fab_server):
    base, tokens, _ = fab_server
    for token in (None, tokens["nodags"]):
        status, body, _ = _request(f"{base}/sparkify-docs/static/styles/site.css", token)
        assert (status, body) == (200, STYLE_BODY)


def test_quality_page_only_for_sparkify_readers(fab_server):
    base, tokens, _ = fab_server
    for user in ("admin", "reader"):
        status, body, _ = _request(f"{base}/sparkify-quality/", tokens[user])
        assert status == 200, (user, body[:500])
        assert b"<h1>Data quality</h1>" in body
    for user in ("restricted", "nodags"):
        status, body, _ = _request(f"{base}/sparkify-quality/", tokens[user])
        assert status == 403, user
        assert b"Data quality</h1>" not in body
        assert "may not read the task instances of DAG sparkify" in json.loads(body)["detail"]
    assert _request(f"{base}/sparkify-quality/")[0] == 401
    status, _, headers = _request(f"{base}/sparkify-quality/", accept="text/html")
    assert status == 303 and "/auth/login" in headers["location"]


def _review_request(env: dict[str, str], base: str, admin: str) -> str:
    """A held day's request, as the decide task leaves it: a sparkify_review run (created through
    the API), its decide task awaiting input, and the HITL detail with the owners of the Variable
    sparkify_review_owners="owner" as sparkify.operators.review.owners makes them."""
    status, body, _ = _request(f"{base}/api/v2/dags/sparkify_review/dagRuns", admin,
                               data={"dag_run_id": REVIEW_RUN, "logical_date": None, "conf": {"day": "2018-11-15"}})  # fmt: skip
    assert status == 200, body
    script = (
        "from sqlalchemy import select\n"
        "from airflow.models.hitl import HITLDetail\n"
        "from airflow.models.taskinstance import TaskInstance\n"
        "from airflow.utils.session import create_session\n"
        "from airflow.utils.state import TaskInstanceState\n"
        "from sparkify.operators.review import HOLD, PUBLISH, owners\n"
        "with create_session() as session:\n"
        "    ti = session.scalar(select(TaskInstance).where(TaskInstance.dag_id == 'sparkify_review',\n"
        f"                                                    TaskInstance.run_id == {REVIEW_RUN!r}))\n"
        "    ti.state = TaskInstanceState.AWAITING_INPUT\n"
        "    session.add(HITLDetail(ti_id=ti.id, options=[PUBLISH, HOLD], subject='Sparkify: day 2018-11-15 is held for review',\n"
        "                           defaults=[HOLD], multiple=False, params={}, assignees=owners('owner')))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    return f"{base}/api/v2/dags/sparkify_review/dagRuns/{REVIEW_RUN}/taskInstances/decide/-1/hitlDetails"


def test_only_the_review_owner_answers_a_held_day(fab_server):
    """Owners are written by username and match under FAB (whose ids are numbers): the owner gets
    200; a user who may answer the DAG's HITL tasks but is not an owner, the Admin, a reader of the
    DAG that may not answer, and the Public role get 403; the Public role does not see the request."""
    base, tokens, env = fab_server
    url = _review_request(env, base, tokens["admin"])
    answer = {"chosen_options": ["Hold"], "params_input": {"reason": "test"}}
    assert _request(url, tokens["nodags"])[0] == 403  # sees nothing
    assert _request(url, tokens["reviewer"])[0] == 200  # sees it: may answer HITL tasks of the DAG
    for user in ("nodags", "reader", "reviewer", "admin"):
        status, body, _ = _request(url, tokens[user], data=answer, method="PATCH")
        assert status == 403, (user, body)
        if user in ("reviewer", "admin"):  # Airflow's own words: allowed on the DAG, not a respondent
            assert f"User={user} (id=" in json.loads(body)["detail"] and "is not a respondent" in json.loads(body)["detail"]
    status, body, _ = _request(url, tokens["owner"], data=answer, method="PATCH")
    assert status == 200, body
    answered = json.loads(body)
    assert answered["chosen_options"] == ["Hold"] and answered["responded_by"]["name"] == "owner", answered
