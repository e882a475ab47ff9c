"""The FAB auth manager with the review's owners matched by username.

Airflow narrows who may answer a human-in-the-loop task to its ``assigned_users`` by comparing
ids, and FAB's ids are numbers, unknown where the request is made (a task cannot read the
metadata database). The review requests (``sparkify.operators.review``) name their owners by
username, as the Variable ``sparkify_review_owners`` writes them; this manager compares the
signed-in user's username with them instead. Everything else is FAB's.

Use it where FAB is the auth manager and owners are set::

    AIRFLOW__CORE__AUTH_MANAGER=sparkify.auth.FabAuthManager

Under SimpleAuthManager (make airflow) nothing is needed: its ids are the usernames. FAB (the
provider apache-airflow-providers-fab) is not among the pipeline's own requirements: the class is
built when Airflow first asks for it, so that this module imports on a worker without FAB.
"""

from __future__ import annotations

import functools
from typing import Any


def __getattr__(name: str) -> Any:
    if name == "FabAuthManager":
        return _fab_auth_manager()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@functools.cache
def _fab_auth_manager() -> type:
    try:
        from airflow.providers.fab.auth_manager.fab_auth_manager import FabAuthManager as Fab
    except ImportError as err:
        raise ImportError(
            f"sparkify.auth.FabAuthManager needs the FAB auth manager: pip install apache-airflow-providers-fab ({err})"
        ) from err

    class FabAuthManager(Fab):
        """FAB, with a HITL task's assigned users matched by username (never by the numeric id, so
        that an owner written "3" is the user named 3, not user number 3)."""

        def is_authorized_hitl_task(self, *, assigned_users: set[str], user: Any) -> bool:
            return user.get_name() in assigned_users

    FabAuthManager.__module__ = __name__
    return FabAuthManager
