"""Reactions to source-row changes announced by lower layers."""

from __future__ import annotations

from typing import Any


def record_rollup_request(
    sender: Any,
    *,
    team_id: int,
    years: tuple[int, ...] = (),
    indicators: frozenset[int] | None = None,
    **kwargs: Any,
) -> None:
    """Mark the team's rollups out of date inside the sender's transaction: only
    the years given (and of indicators, only those given), or all of them."""
    from reporting.services import request_team_rollups

    meta = getattr(sender, "_meta", None)
    reason = f"{meta.label} changed" if meta else str(sender)
    if not years:
        request_team_rollups(team_id=team_id, reason=reason)
    for year in years:
        request_team_rollups(
            team_id=team_id, year=year, indicators=indicators, reason=reason
        )
