"""Reactions to source-row changes announced by lower layers."""

from __future__ import annotations

from functools import partial
from typing import Any

from django.db import transaction


def queue_team_snapshot_refresh(sender: Any, *, team_id: int, **kwargs: Any) -> None:
    """Queue one snapshot refresh per team per transaction, run after commit."""
    from reporting.tasks import refresh_team_snapshot_task

    connection = transaction.get_connection()
    # An import writes thousands of rows in one transaction; one refresh is enough.
    if connection.in_atomic_block and any(
        getattr(callback, "unportal_team_id", None) == team_id
        for _savepoints, callback, _robust in connection.run_on_commit
    ):
        return
    callback = partial(refresh_team_snapshot_task.delay, team_id)
    callback.unportal_team_id = team_id  # type: ignore[attr-defined]
    transaction.on_commit(callback)
