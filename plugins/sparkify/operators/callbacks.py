"""Task callbacks of the pipeline."""

from __future__ import annotations

ERROR_LINES = 6
ERROR_KEY = "error"


def first_lines(error: BaseException | str | None, lines: int = ERROR_LINES) -> str:
    """The first lines of an error's message, with its type (what a person reads first)."""
    if error is None:
        return ""
    text = str(error) if isinstance(error, str) else f"{type(error).__name__}: {error}"
    kept = text.strip().splitlines()[:lines]
    return "\n".join(kept)


def record_error(context) -> None:
    """on_failure_callback: keep the first lines of the task's error in XCom (key ``error``), so that
    the run's report can lead with the cause, not only with the tasks that did not run."""
    context["ti"].xcom_push(key=ERROR_KEY, value=first_lines(context.get("exception")))
