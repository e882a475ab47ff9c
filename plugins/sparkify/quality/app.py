"""The Data Docs site served inside the Airflow API server (a FastAPI app of the Airflow plugin).

Pages need the same login as the Airflow UI: the request must carry the UI's JWT (the ``_token``
cookie the UI keeps, or an ``Authorization: Bearer`` header). A browser without one is sent to the
Airflow login page and comes back to the page it asked for. GX's own static files (``static/``:
styles, scripts, images; no data) are served without a login.

Every response is sandboxed (``Content-Security-Policy: sandbox allow-scripts allow-popups``): a
page runs in an opaque origin, so nothing in it, even a script that got past the escaping of
lake values, can read the UI's cookie or call the Airflow API as the logged-in user. It may be
framed only by the Airflow UI (``frame-ancestors 'self'``), and no response is content-sniffed.
"""

from __future__ import annotations

import html
import mimetypes
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse

URL_PREFIX = "/sparkify-docs"
SECURITY_HEADERS = {
    "Content-Security-Policy": "sandbox allow-scripts allow-popups; frame-ancestors 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
PUBLIC_FOLDER = "static"
SITE_SUBDIR = Path("uncommitted") / "data_docs" / "local_site"


def site_root() -> Path:
    """The locally built Data Docs site of the GX project (gx/, or SPARKIFY_GX_DIR)."""
    from sparkify.settings import gx_dir

    return gx_dir() / SITE_SUBDIR


def page_url(page: str) -> str:
    """URL of a page of the site (a path relative to the site root) in the Airflow API server."""
    from airflow.configuration import conf

    base = (conf.get("api", "base_url", fallback="") or "").rstrip("/")
    return f"{base}{URL_PREFIX}/{page.lstrip('/')}"


def resolve(root: Path, path: str) -> Path | None:
    """The file under root for a URL path; None when it would leave root or does not exist."""
    root = root.resolve()
    target = (root / (path or "index.html")).resolve()
    if target != root and root not in target.parents:
        return None
    if target.is_dir():
        target = target / "index.html"
    return target if target.is_file() else None


def is_public(root: Path, target: Path) -> bool:
    """True for a file of GX's static folder (styles, scripts, images: no data), after resolving."""
    return (root.resolve() / PUBLIC_FOLDER) in target.parents


def create_app() -> FastAPI:
    app = FastAPI(title="Sparkify Data Docs", docs_url=None, redoc_url=None, openapi_url=None)

    async def authenticated(request: Request) -> bool:
        from airflow.api_fastapi.app import get_auth_manager
        from airflow.api_fastapi.auth.managers.base_auth_manager import COOKIE_NAME_JWT_TOKEN

        header = request.headers.get("authorization", "")
        token = header[7:] if header.lower().startswith("bearer ") else request.cookies.get(COOKIE_NAME_JWT_TOKEN)
        if not token:
            return False
        try:
            await get_auth_manager().get_user_from_token(token)
        except Exception:  # expired, revoked or forged: treat as not logged in
            return False
        return True

    @app.middleware("http")
    async def sandboxed(request: Request, call_next):
        response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        return response

    @app.get("/{path:path}", include_in_schema=False)
    async def page(path: str, request: Request):
        root = site_root()
        target = resolve(root, path)
        public = target is not None and is_public(root, target)
        if not public and not await authenticated(request):
            from airflow.api_fastapi.app import get_auth_manager

            if "text/html" in request.headers.get("accept", ""):
                return RedirectResponse(get_auth_manager().get_url_login(next_url=str(request.url)), status_code=303)
            raise HTTPException(status_code=401, detail="Not authenticated: log in to Airflow first.")
        if target is None:
            message = (
                f"No Data Docs page {html.escape(path)!s} under {html.escape(str(root))}. "
                "The publish_data_docs task of a DAG run renders the pages of that run; "
                "if the run is still going, this page appears when it finishes."
            )
            return HTMLResponse(f"<!doctype html><title>Not built yet</title><p>{message}</p>", status_code=404)
        media_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        return FileResponse(target, media_type=media_type, headers={"Cache-Control": "no-cache"})

    return app
