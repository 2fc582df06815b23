"""Reactions to source-row changes announced by lower layers."""

from __future__ import annotations

from functools import partial
from typing import Any

from django.db import transaction


def queue_team_snapshot_refresh(sender: Any, *, team_id: int, **kwargs: Any) -> None:
    """Queue a snapshot refresh for the team once the change has committed."""
    from reporting.tasks import refresh_team_snapshot_task

    transaction.on_commit(partial(refresh_team_snapshot_task.delay, team_id))
