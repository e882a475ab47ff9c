"""The Data Docs site served inside the Airflow API server (a FastAPI app of the Airflow plugin).

Pages come from the published docs location only (the Variable ``sparkify_docs``: a folder every
machine mounts, or an s3:// URL read through the ``aws_default`` connection; by default the
project's build/data_docs), never from a site a worker or the API server built on its own disk:
a task's extra link works whichever worker ran it.

Pages need the same login as the Airflow UI: the request must carry the UI's JWT (the ``_token``
cookie the UI keeps, or an ``Authorization: Bearer`` header). A browser without one is sent to the
Airflow login page and comes back to the page it asked for. Every page of the site shows results of
the DAG ``sparkify``, so a logged-in user whom the auth manager does not allow to read that DAG's
task instances gets 403 (quality.web.access). GX's own static files (``static/``: styles, scripts,
images; no data) are served without a login.

Every response is sandboxed (``Content-Security-Policy: sandbox allow-scripts allow-popups``): a
page runs in an opaque origin, so nothing in it, even a script that got past the escaping of
lake values, can read the UI's cookie or call the Airflow API as the logged-in user. It may be
framed only by the Airflow UI (``frame-ancestors 'self'``), and no response is content-sniffed.
"""

from __future__ import annotations

import html
import mimetypes
import posixpath
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from sparkify import settings
from sparkify.quality.web.access import DOCS_COOKIE, forbidden, login, not_logged_in, readable_dags

URL_PREFIX = settings.DOCS_URL_PREFIX
SECURITY_HEADERS = {
    "Content-Security-Policy": "sandbox allow-scripts allow-popups; frame-ancestors 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
PUBLIC_FOLDER = "static"
FONT_TYPES = {".woff2": "font/woff2", ".woff": "font/woff", ".ttf": "font/ttf"}


def docs_location() -> str:
    """The published docs location: the Variable sparkify_docs, else the project's build/data_docs."""
    from airflow.models.variable import Variable

    from sparkify.settings import DOCS_VARIABLE

    return settings.docs_location(Variable.get(DOCS_VARIABLE, default_var=None))


def site_path(path: str) -> str | None:
    """A URL path as a relative path inside the site (index.html for a folder); None when it
    would leave the site."""
    path = path or "index.html"
    if path.endswith("/"):
        path += "index.html"
    normal = posixpath.normpath("/" + path).lstrip("/")
    if not normal or normal == "." or "\x00" in normal:
        return None
    return normal


def is_public(path: str) -> bool:
    """True for a file of GX's static folder (styles, scripts, images: no data)."""
    return path.startswith(PUBLIC_FOLDER + "/")


def read_folder(root: Path, path: str) -> Path | None:
    """The file of the site under a folder; None when missing or outside it."""
    root = root.resolve()
    target = (root / path).resolve()
    if root not in target.parents:
        return None
    if target.is_dir():
        target = target / "index.html"
    return target if target.is_file() else None


def read_s3(url: str, path: str, *, aws_conn_id: str) -> bytes | None:
    """The object of the site under an s3:// prefix, through the AWS connection; None when missing."""
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook
    from botocore.exceptions import ClientError

    bucket, _, prefix = url.removeprefix("s3://").partition("/")
    key = "/".join(p for p in (prefix.strip("/"), path) if p)
    try:
        return S3Hook(aws_conn_id=aws_conn_id).get_conn().get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return None
        raise


def create_app() -> FastAPI:
    app = FastAPI(title="Sparkify Data Docs", docs_url=None, redoc_url=None, openapi_url=None)

    def remember(response, request: Request, token: str | None):
        """Pages run sandboxed (opaque origin), so the UI's SameSite=Lax cookie does not go with
        the requests a page makes itself (a link inside the Data Docs view). The same login token
        goes with them in a cookie for this app's path only, HttpOnly (no script reads it): it
        opens Data Docs pages and nothing else; Airflow's API never reads it."""
        if token and request.cookies.get(DOCS_COOKIE) != token:
            response.set_cookie(DOCS_COOKIE, token, path=URL_PREFIX, httponly=True, samesite="none", secure=True)
        return response

    @app.middleware("http")
    async def sandboxed(request: Request, call_next):
        response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        return response

    @app.get("/{path:path}", include_in_schema=False)
    async def page(path: str, request: Request):
        from starlette.concurrency import run_in_threadpool

        from sparkify.settings import AWS_CONN_ID, DAG_ID

        relative = site_path(path)
        user = await login(request)
        token = user.token if user else None
        if not (relative is not None and is_public(relative)):
            if user is None:
                return not_logged_in(request)
            if not await run_in_threadpool(readable_dags, user.user, {DAG_ID}):
                raise forbidden(user.user, "its Data Docs pages", {DAG_ID})
        location = await run_in_threadpool(docs_location)
        media_type = mimetypes.guess_type(relative or "")[0] or FONT_TYPES.get(Path(relative or "").suffix, "application/octet-stream")
        headers = {"Cache-Control": "no-cache"}
        if relative is not None and is_public(relative):
            # Sandboxed pages have an opaque origin: their font loads are cross-origin requests.
            # static/ holds GX's and the vendored libraries' files only, never data.
            headers["Access-Control-Allow-Origin"] = "*"
        if relative is not None and location.startswith("s3://"):
            body = await run_in_threadpool(read_s3, location, relative, aws_conn_id=AWS_CONN_ID)
            if body is not None:
                return remember(Response(body, media_type=media_type, headers=headers), request, token)
        elif relative is not None:
            target = read_folder(Path(location.removeprefix("file://")), relative)
            if target is not None:
                response = FileResponse(target, media_type=media_type, headers=headers)
                return remember(response, request, token)
        message = (
            f"No Data Docs page {html.escape(path)} at {html.escape(location)}. "
            "The publish_data_docs task of a DAG run publishes the pages of that run there; "
            "if the run is still going, this page appears when it finishes."
        )
        return HTMLResponse(f"<!doctype html><title>Not built yet</title><p>{message}</p>", status_code=404)

    return app
