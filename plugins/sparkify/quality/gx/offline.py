"""Self-contained Data Docs: the scripts, styles and fonts GX's pages load from public CDNs, kept
beside the site, and every page rewritten to use them; GX's logo beacon replaced by its own file.

GX 1.x pages load Bootstrap, jQuery, bootstrap-table (and its filter-control), Popper, Font
Awesome, bootstrap-datepicker, bootstrap-dark and Vega from CDNs, and their logo from GX's S3
bucket with the data context id in the URL. Offline (locked-down networks, this project's test
machine) the pages show unstyled and the index's table, built in the browser, stays empty; online,
every page view is reported to GX. ``fetch()`` (run by ``make install``) brings each asset from
the npm registry, pinned by version and sha512; publishing copies them to ``static/vendor/`` of
the site and ``localize()`` points every page at them.
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
import shutil
import tarfile
import urllib.request
from pathlib import Path

VENDOR_DIR = Path(__file__).resolve().parent / "vendor"
SITE_FOLDER = "static/vendor"

# npm package, version, sha512 of its tarball (the registry's "integrity"), files kept (from package/).
PACKAGES = [
    ("bootstrap", "4.3.1", "rXqOmH1VilAt2DyPzluTi2blhk17bO7ef+zLLPlWvG494pDxcM234pJ8wTc/6R40UWizAIIMgxjvxZg5kmsbag==",
     ["dist/css/bootstrap.min.css", "dist/js/bootstrap.min.js"]),
    ("jquery", "3.7.1", "m4avr8yL8kmFN8psrbFFFmB/If14iN5o9nw/NgnnM+kybDJpRsAynV2BsfpTYrTRysYUdADVD7CkUUizgkpLfg==",
     ["dist/jquery.min.js"]),
    ("bootstrap-table", "1.19.1", "WvV+l1AI/C+zThaKmfHmi/IuayVNB0qdFyEhFx1jyZhO0oLtNJNANkCR3rvJf6Dkh72dsLElxpE/bzK9seEQLA==",
     ["dist/bootstrap-table.min.css", "dist/bootstrap-table.min.js", "dist/extensions/filter-control/bootstrap-table-filter-control.min.js",
      "dist/extensions/filter-control/bootstrap-table-filter-control.css"]),
    ("bootstrap-table", "1.19.0", "L+USHm3X9FKocx/6yngGu12yF6r6s1Ntuc+hoIK2a2QQJjHw5kcySLiE2HY/9sEaSGAOfPbfQOtBH3uKkcpqEA==",
     ["dist/extensions/filter-control/bootstrap-table-filter-control.css",
      "dist/extensions/filter-control/bootstrap-table-filter-control.min.css"]),
    ("popper.js", "1.12.9", "s0EEi9xiSCdqz9lV4IiVH5yIZnDX/U1t0tCjB+0jXx9jW8lrR7kOpVupiUg175ogqVoudpDXHF1p6dKATCHMeg==",
     ["dist/umd/popper.min.js"]),
    ("@fortawesome/fontawesome-free", "6.6.0", "60G28ke/sXdtS9KZCpZSHHkCbdsOGEhIUGlwq6yhY74UpTiToIh8np7A8yphhM4BWsvNFtIvLpi4co+h9Mr9Ow==",
     ["css/all.min.css", "webfonts/"]),
    ("bootstrap-datepicker", "1.9.0", "9rYYbaVOheGYxjOr/+bJCmRPihfy+LkLSg4fIFMT9Od8WwWB/MB50w0JO1eBgKUMbb7PFHQD5uAfI3ArAxZRXA==",
     ["dist/css/bootstrap-datepicker.min.css", "dist/js/bootstrap-datepicker.min.js"]),
    ("@forevolve/bootstrap-dark", "1.1.0", "A3ucpEpxPoTVO490lZZCfjPXxv832l7mm1IxX3bXyxvgwnPGXDLyh7dWrphXKO8YBAu3EswbBEu3VSW8NRMW3A==",
     ["dist/css/bootstrap-prefers-dark.css"]),
    ("vega", "5.33.1", "1fArfVDUqVbb5z8n+/nVQb+VNBzx8svY6CrsyTK4Ujm4yrd9I1auoKxBAPXLCavY1LcrbHUskQbGUP8gXOzyQw==", ["build/vega.min.js"]),
    ("vega-lite", "5.23.0", "l4J6+AWE3DIjvovEoHl2LdtCUkfm4zs8Xxx7INwZEAv+XVb6kR6vIN1gt3t2gN2gs/y4DYTs/RPoTeYAuEg6mA==",
     ["build/vega-lite.min.js"]),
    ("vega-embed", "6.29.0", "PmlshTLtLFLgWtF/b23T1OwX53AugJ9RZ3qPE2c01VFAbgt3/GSNI/etzA/GzdrkceXFma+FDHNXUppKuM0U6Q==",
     ["build/vega-embed.min.js"]),
]  # fmt: skip

# Each URL GX's templates load -> the vendored file (relative to static/vendor/).
URLS = {
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": "bootstrap-4.3.1/dist/css/bootstrap.min.css",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": "bootstrap-4.3.1/dist/js/bootstrap.min.js",
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery-3.7.1/dist/jquery.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": "bootstrap-table-1.19.1/dist/bootstrap-table.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": "bootstrap-table-1.19.1/dist/bootstrap-table.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js":
        "bootstrap-table-1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css":
        "bootstrap-table-1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css":
        "bootstrap-table-1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": "popper.js-1.12.9/dist/umd/popper.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": "fontawesome-free-6.6.0/css/all.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css":
        "bootstrap-datepicker-1.9.0/dist/css/bootstrap-datepicker.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js":
        "bootstrap-datepicker-1.9.0/dist/js/bootstrap-datepicker.min.js",
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css":
        "bootstrap-dark-1.1.0/dist/css/bootstrap-prefers-dark.css",
    "https://cdn.jsdelivr.net/npm/vega@5": "vega-5.33.1/build/vega.min.js",
    "https://cdn.jsdelivr.net/npm/vega-lite@5": "vega-lite-5.23.0/build/vega-lite.min.js",
    "https://cdn.jsdelivr.net/npm/vega-embed@6": "vega-embed-6.29.0/build/vega-embed.min.js",
}  # fmt: skip
# GX's logo, loaded from its bucket with the data context id and a timestamp: the site's own copy.
_LOGO = re.compile(r"https://great-expectations-web-assets\.s3\.us-east-2\.amazonaws\.com/([\w.-]+?)(?:\?[^\"'\s<>]*)?(?=[\"'])")
# Subresource integrity of the CDN copies: the local files are checked by sha512 when fetched.
_INTEGRITY = re.compile(r'\s+integrity="[^"]*"\s+crossorigin="anonymous"')


def _folder(name: str, version: str) -> str:
    return f"{name.rsplit('/', 1)[-1]}-{version}"


def missing() -> list[str]:
    """Vendored files this machine lacks (empty when fetch() has run)."""
    return [path for path in URLS.values() if not (VENDOR_DIR / path).is_file()]


def fetch(registry: str = "https://registry.npmjs.org", *, cafile: str | None = None) -> list[str]:
    """Download each pinned package from the npm registry, check its sha512 and keep the files the
    pages use; returns the packages fetched (those already present are skipped)."""
    import ssl

    context = ssl.create_default_context(cafile=cafile) if cafile else ssl.create_default_context()
    fetched = []
    for name, version, sha512, files in PACKAGES:
        target = VENDOR_DIR / _folder(name, version)
        if target.is_dir() and all((target / f).exists() for f in files):
            continue
        url = f"{registry}/{name}/-/{name.rsplit('/', 1)[-1]}-{version}.tgz"
        with urllib.request.urlopen(url, context=context, timeout=120) as response:
            body = response.read()
        digest = base64.b64encode(hashlib.sha512(body).digest()).decode()
        if digest != sha512:
            raise RuntimeError(f"{url}: sha512 {digest} does not match the pinned {sha512}; nothing was kept.")
        partial = target.with_name(target.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as archive:
            for member in archive.getmembers():
                inside = member.name.split("/", 1)[-1]
                if member.isfile() and any(inside == f or (f.endswith("/") and inside.startswith(f)) for f in files):
                    destination = partial / inside
                    destination.parent.mkdir(parents=True, exist_ok=True)
                    extracted = archive.extractfile(member)
                    assert extracted is not None  # a regular file (member.isfile())
                    destination.write_bytes(extracted.read())
        shutil.rmtree(target, ignore_errors=True)
        partial.replace(target)
        fetched.append(f"{name}@{version}")
    return fetched


def copy_into(site: Path) -> int:
    """Copy the vendored files into the site's static/vendor/ (only what changed); files copied."""
    copied = 0
    for source in VENDOR_DIR.rglob("*"):
        if not source.is_file():
            continue
        target = site / SITE_FOLDER / source.relative_to(VENDOR_DIR)
        if target.is_file() and target.stat().st_size == source.stat().st_size:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        copied += 1
    return copied


def localize(html: str, root: str) -> str:
    """A page with every CDN asset and the logo beacon pointed at the site's own copies; ``root``
    is the relative path from the page to the site root ('' for index.html, '../' per folder)."""
    for url, path in URLS.items():
        html = html.replace(f'"{url}"', f'"{root}{SITE_FOLDER}/{path}"')
    html = _LOGO.sub(lambda m: f"{root}static/images/{m.group(1)}", html)
    return _INTEGRITY.sub("", html)


if __name__ == "__main__":
    import os
    import sys

    cafile = os.environ.get("SSL_CERT_FILE") or next((p for p in ("/etc/ssl/certs/ca-certificates.crt",) if os.path.isfile(p)), None)
    done = fetch(cafile=cafile)
    print(f"Data Docs assets: fetched {', '.join(done) if done else 'nothing (all present)'} into {VENDOR_DIR}")
    sys.exit(1 if missing() else 0)
