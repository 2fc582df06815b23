"""Reactions to source-row changes announced by lower layers."""

from __future__ import annotations

from typing import Any


def record_rollup_request(
    sender: Any, *, team_id: int, years: tuple[int, ...] = (), **kwargs: Any
) -> None:
    """Mark the team's rollups out of date inside the sender's transaction: only
    the years given, or all of them."""
    from reporting.services import request_team_rollups

    meta = getattr(sender, "_meta", None)
    reason = f"{meta.label} changed" if meta else str(sender)
    for year in years or (None,):
        request_team_rollups(team_id=team_id, year=year, reason=reason)
