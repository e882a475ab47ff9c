"""Data Docs page views whose compiled Jinja templates are cached on disk.

GX compiles its page templates anew in every process, which is most of the cost of writing one
validation page. These views keep GX's templates and output, and only add Jinja's bytecode cache
(under gx/uncommitted/), so each task process skips recompiling them.
"""

from __future__ import annotations

from great_expectations.render.view import DefaultJinjaIndexPageView, DefaultJinjaPageView
from jinja2 import FileSystemBytecodeCache

from sparkify import GX_DIR

_CACHE_DIR = GX_DIR / "uncommitted" / "jinja_cache"


def _bytecode_cache() -> FileSystemBytecodeCache:
    _CACHE_DIR.mkdir(parents=True, exist_ok=True)
    return FileSystemBytecodeCache(str(_CACHE_DIR))


class CachedPageView(DefaultJinjaPageView):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.env.bytecode_cache = _bytecode_cache()


class CachedIndexPageView(DefaultJinjaIndexPageView):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.env.bytecode_cache = _bytecode_cache()
