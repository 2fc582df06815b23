"""Reactions to source-row changes announced by lower layers."""

from __future__ import annotations

from typing import Any


def record_rollup_request(sender: Any, *, team_id: int, **kwargs: Any) -> None:
    """Mark the team's rollups out of date inside the sender's transaction."""
    from reporting.services import request_team_rollups

    meta = getattr(sender, "_meta", None)
    reason = f"{meta.label} changed" if meta else str(sender)
    request_team_rollups(team_id=team_id, reason=reason)
