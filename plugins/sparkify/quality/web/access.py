"""Who may see the pipeline's quality results in the API server: the Data Docs site and the Data
quality page.

Two questions, both answered by Airflow's configured auth manager (SimpleAuthManager, FAB, or any
other): who is this (a valid JWT: the ``Authorization: Bearer`` header, the UI's ``_token`` cookie
or the docs app's own cookie), and may that user read the task instances of the DAG whose
validations the page shows. A validation result is part of a task instance's output, so a user
refused ``GET /api/v2/dags/<dag>/dagRuns/~/taskInstances`` is refused its pages too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException, Request
from fastapi.responses import RedirectResponse

DOCS_COOKIE = "sparkify_docs_token"


@dataclass(frozen=True)
class Login:
    user: Any
    token: str


async def login(request: Request) -> Login | None:
    """The request's user and valid token, else None (expired, revoked, forged or absent)."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.base_auth_manager import COOKIE_NAME_JWT_TOKEN

    header = request.headers.get("authorization", "")
    candidates: list[str | None] = [header[7:]] if header.lower().startswith("bearer ") else []
    candidates += [request.cookies.get(COOKIE_NAME_JWT_TOKEN), request.cookies.get(DOCS_COOKIE)]
    for token in filter(None, candidates):
        try:
            user = await get_auth_manager().get_user_from_token(token)
        except Exception:  # not a valid login: try the next candidate
            continue
        return Login(user=user, token=token)
    return None


def readable_dags(user: Any, dag_ids: set[str]) -> set[str]:
    """The DAGs of ``dag_ids`` whose task instances (and so validation results) ``user`` may read.

    Synchronous: an auth manager may query its database (FAB does); call it in a thread pool."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity, DagDetails

    manager = get_auth_manager()
    return {
        dag_id
        for dag_id in dag_ids
        if manager.is_authorized_dag(method="GET", access_entity=DagAccessEntity.TASK_INSTANCE, details=DagDetails(id=dag_id), user=user)
    }


def not_logged_in(request: Request):
    """A browser goes to the Airflow login page and comes back; anything else gets 401."""
    from airflow.api_fastapi.app import get_auth_manager

    if "text/html" in request.headers.get("accept", ""):
        return RedirectResponse(get_auth_manager().get_url_login(next_url=str(request.url)), status_code=303)
    raise HTTPException(status_code=401, detail="Not authenticated: log in to Airflow first.")


def forbidden(user: Any, what: str, dag_ids: set[str]) -> HTTPException:
    """403 naming the user, the page and the permission it needs (no data of the page)."""
    name = getattr(user, "get_name", lambda: "this user")()
    dags = ", ".join(sorted(dag_ids))
    return HTTPException(
        status_code=403,
        detail=f"Forbidden: {name} may not read the task instances of DAG {dags}, so not {what} either. "
        "Ask an Airflow admin for a role that can read that DAG's task instances.",
    )
