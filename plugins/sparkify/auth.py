"""The FAB auth manager with the review's owners matched by username.

Airflow narrows who may answer a human-in-the-loop task to its ``assigned_users`` by comparing
ids, and FAB's ids are numbers, unknown where the request is made (a task cannot read the
metadata database). The review requests (``sparkify.operators.review``) name their owners by
username, as the Variable ``sparkify_review_owners`` writes them; this manager compares the
signed-in user's username with them instead. Everything else is FAB's.

Use it where FAB is the auth manager and owners are set::

    AIRFLOW__CORE__AUTH_MANAGER=sparkify.auth.FabAuthManager

Under SimpleAuthManager (make airflow) nothing is needed: its ids are the usernames.
"""

from __future__ import annotations

from typing import Any

from airflow.providers.fab.auth_manager.fab_auth_manager import FabAuthManager as _FabAuthManager


class FabAuthManager(_FabAuthManager):
    """FAB, with a HITL task's assigned users matched by username (never by the numeric id, so that
    an owner written "3" is the user named 3, not user number 3)."""

    def is_authorized_hitl_task(self, *, assigned_users: set[str], user: Any) -> bool:
        return user.get_name() in assigned_users
